"""Clients nobody here wrote, against a live hub: frictionless's CKAN adapter, ckanapi for the actions a
harvester or a federating peer calls, and a harvester's own `fq` patterns."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import yaml
from ckanapi import RemoteCKAN
from ckanapi.errors import NotAuthorized, NotFound, ValidationError
from frictionless import Catalog, Package
from frictionless.portals import CkanControl

from core.catalog import load_catalog
from core.config import PROJECT_ROOT, Settings
from publish import pipeline, tables
from publish.context import Hub
from tests.ckan.conftest import RunningHub, write_catalog
from tests.conftest import LiveServer, free_port, load_all_samples

OPEN = {"accommodation", "admin-units", "heritage-sites", "sports-venues", "travel-agencies"}


def _csv_resource(package: Package):  # noqa: ANN202
    return next(r for r in package.resources if (r.format or "").lower() == "csv")


def test_csv_resources_carry_their_schema_size_and_sha256(live_hub) -> None:  # noqa: ANN001
    for name in sorted(OPEN):
        pkg = requests.get(f"{live_hub.url}/api/3/action/package_show", params={"id": name}, timeout=30).json()
        resource = next(r for r in pkg["result"]["resources"] if r["format"] == "CSV")
        body = requests.get(resource["url"], timeout=60).content
        assert resource["size"] == len(body), name
        assert resource["hash"] == f"sha256:{hashlib.sha256(body).hexdigest()}", name
        header = body.decode("utf-8").splitlines()[0].split(",")
        assert [f["name"] for f in resource["schema"]["fields"]] == header, name


def test_frictionless_ckan_adapter_reads_every_open_dataset_with_the_schema_types(live_hub) -> None:  # noqa: ANN001
    catalog = Catalog(live_hub.url, control=CkanControl(baseurl=live_hub.url, num_packages=100))
    assert {d.name for d in catalog.datasets} == OPEN
    ours = load_catalog(PROJECT_ROOT / "catalog.yaml")
    for dataset in catalog.datasets:
        resource = _csv_resource(dataset.package)
        rows = resource.read_rows()
        assert rows, dataset.name
        schema = ours.dataset(dataset.name).schema
        for field in resource.schema.fields:
            assert field.type == schema.field(field.name).type, (dataset.name, field.name)
        text = [f.name for f in resource.schema.fields if f.type == "string"]
        for row in rows:
            assert row.valid, (dataset.name, row.errors)
            assert all(row[n] is None or isinstance(row[n], str) for n in text), (dataset.name, row)
    accommodation = next(d for d in catalog.datasets if d.name == "accommodation")
    phones = [r["phone"] for r in _csv_resource(accommodation.package).read_rows() if r["phone"]]
    assert phones and all(p.startswith("0") for p in phones)  # "0251..." stays text, not the number 251...
    assert frictionless_validates(_csv_resource(accommodation.package))


def frictionless_validates(resource) -> bool:  # noqa: ANN001
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    return True


def test_group_package_show_lists_a_themes_datasets(live_hub) -> None:  # noqa: ANN001
    ckan = RemoteCKAN(live_hub.url)
    tourism = ckan.action.group_package_show(id="tourism")
    assert {p["name"] for p in tourism} == {"accommodation", "travel-agencies"}
    assert len(ckan.action.group_package_show(id="tourism", limit=1)) == 1
    with pytest.raises(ValidationError):
        ckan.action.group_package_show(id="tourism", limit=-1)
    with pytest.raises(NotFound):
        ckan.action.group_package_show(id="no-such-theme")
    themed = Catalog(live_hub.url, control=CkanControl(baseurl=live_hub.url, group_id="tourism"))
    assert {d.name for d in themed.datasets} == {"accommodation", "travel-agencies"}


def test_tag_show_autocomplete_and_resource_views(live_hub) -> None:  # noqa: ANN001
    ckan = RemoteCKAN(live_hub.url, get_only=True)
    tag = ckan.action.tag_show(id="khách sạn", include_datasets=True)
    assert tag["name"] == tag["display_name"] == "khách sạn" and tag["vocabulary_id"] is None
    assert [p["name"] for p in tag["packages"]] == ["accommodation"]
    assert ckan.action.tag_show(id=tag["id"])["name"] == "khách sạn" and "packages" not in ckan.action.tag_show(
        id=tag["id"])
    with pytest.raises(NotFound):
        ckan.action.tag_show(id="không-có-từ-này")
    by_title = ckan.action.package_autocomplete(q="di tich")
    assert by_title == [{"name": "heritage-sites", "title": "Di tích lịch sử - văn hóa và danh lam thắng cảnh",
                         "match_field": "title",
                         "match_displayed": "Di tích lịch sử - văn hóa và danh lam thắng cảnh (heritage-sites)"}]
    assert [p["match_field"] for p in ckan.action.package_autocomplete(q="sports")] == ["name"]
    assert len(ckan.action.package_autocomplete(q="a", limit=2)) == 2
    assert ckan.action.package_autocomplete(q="licences") == []  # shared data: not told to anonymous callers
    resource = ckan.action.package_show(id="sports-venues")["resources"][0]
    assert ckan.action.resource_view_list(id=resource["id"]) == []
    with pytest.raises(NotFound):
        ckan.action.resource_view_list(id="no-such-resource")


def test_organization_list_for_user_follows_the_keys_role(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    assert RemoteCKAN(district_hub.url).action.organization_list_for_user() == []
    assert peer.action.organization_list_for_user() == []  # nothing federated yet; our publishers are read-only
    peer.action.organization_create(name="xa-phu-ly", title="UBND xã Phú Lý")
    peer.action.package_create(name="le-hoi-phu-ly", owner_org="xa-phu-ly")
    mine = peer.action.organization_list_for_user(permission="create_dataset", include_dataset_count=True)
    assert [(o["name"], o["capacity"], o["package_count"]) for o in mine] == [("xa-phu-ly", "editor", 1)]
    assert peer.action.organization_list_for_user(permission="admin") == []
    with pytest.raises(NotFound):
        peer.action.organization_list_for_user(id="someone-else")


def test_a_peer_revises_and_deletes_only_what_it_federated(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    peer.action.organization_create(name="xa-phu-ly")
    created = peer.action.package_create(
        name="le-hoi-phu-ly", title="Lễ hội", notes="Cũ", owner_org="xa-phu-ly",
        resources=[{"name": "Trang nguồn", "url": "https://phuly.example.vn/a.html"},
                   {"name": "Lịch", "url": "https://phuly.example.vn/lich.csv"}])
    revised = peer.action.package_revise(match={"name": "le-hoi-phu-ly", "notes": "Cũ"}, update={"notes": "Mới"},
                                         update__resources__1__description="Lịch năm 2025",
                                         update__resources__extend=[{"name": "Ảnh", "url": "https://x.vn/a.jpg"}])
    pkg = revised["package"]
    assert pkg["notes"] == "Mới" and pkg["title"] == "Lễ hội" and pkg["num_resources"] == 3
    assert pkg["resources"][1]["description"] == "Lịch năm 2025" and pkg["resources"][2]["format"] == "JPG"
    with pytest.raises(ValidationError) as raised:  # somebody changed it meanwhile: nothing is written
        peer.action.package_revise(match={"id": created["id"], "notes": "Cũ"}, update={"title": "Khác"})
    assert raised.value.error_dict["match"] == ["notes"]
    short = peer.action.package_revise(match__id=created["id"], filter=["-notes"], include=["+package__notes", "-package__*"])
    assert short == {"package": {"notes": None}}

    first = pkg["resources"][0]["id"]
    assert peer.action.resource_delete(id=first) is None
    left = peer.action.package_show(id="le-hoi-phu-ly")
    assert [r["name"] for r in left["resources"]] == ["Lịch", "Ảnh"] and left["num_resources"] == 2
    assert left["metadata_modified"] > pkg["metadata_modified"]
    with pytest.raises(NotFound):
        peer.action.resource_show(id=first)

    ours = peer.action.package_show(id="bien-hoa-wards")
    for call in (lambda: peer.action.package_delete(id="bien-hoa-wards"),
                 lambda: peer.action.resource_delete(id=ours["resources"][0]["id"]),
                 lambda: peer.action.package_revise(match={"name": "bien-hoa-wards"}, update={"title": "Đổi"}),
                 lambda: RemoteCKAN(district_hub.url).action.package_delete(id="le-hoi-phu-ly")):
        with pytest.raises(NotAuthorized):
            call()
    assert peer.action.package_delete(id="le-hoi-phu-ly") is None
    anonymous = RemoteCKAN(district_hub.url)
    assert "le-hoi-phu-ly" not in anonymous.action.package_list()
    assert anonymous.action.package_search(q="le hoi")["count"] == 0
    with pytest.raises(NotFound):
        anonymous.action.package_show(id=created["id"])
    assert anonymous.action.package_show(id="bien-hoa-wards")["title"] == "Phường của Biên Hòa"


@pytest.fixture(scope="module")
def harvested_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live hub whose catalogue, schemas and loads are three days old, then one dataset loaded again now."""
    from hub.app import create_app

    tmp = tmp_path_factory.mktemp("harvested")
    catalog_path = write_catalog(tmp / "catalog")
    shutil.copytree(PROJECT_ROOT / "schemas", tmp / "schemas")
    raw = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    for entry in raw["datasets"]:
        entry["schema"] = str(tmp / "schemas" / Path(entry["schema"]).name)
    catalog_path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = time.time() - 3 * 86400
    for path in [catalog_path, *(tmp / "schemas").rglob("*")]:
        os.utime(path, (old, old))
    settings = Settings(database_url=f"sqlite:///{tmp / 'hub.db'}", storage_dir=tmp / "storage",
                        secret_key="test-secret", catalog_path=catalog_path)
    hub = Hub.open(settings, init=True)
    load_all_samples(hub)
    loads = tables.loads
    with hub.store.engine.begin() as conn:
        for row in conn.execute(sa.select(loads.c.id, loads.c.started_at, loads.c.finished_at)).all():
            conn.execute(loads.update().where(loads.c.id == row.id).values(
                started_at=row.started_at - timedelta(days=3),
                finished_at=row.finished_at - timedelta(days=3) if row.finished_at else None))
    changed = tmp / "sports-venues.csv"
    changed.write_text((PROJECT_ROOT / "samples" / "sports-venues.csv").read_text(encoding="utf-8")
                       .replace("Sân vận động Đồng Nai", "Sân vận động tỉnh Đồng Nai", 1), encoding="utf-8")
    assert pipeline.run(hub.store, "sports-venues", changed, user="tests").status == "committed"
    server = LiveServer(create_app(settings, hub=hub), free_port()).start()
    yield server
    server.stop()
    hub.store.dispose()


def test_a_harvester_finds_the_dataset_changed_since_yesterday_and_only_it(harvested_hub: LiveServer) -> None:
    harvester = RemoteCKAN(harvested_hub.url, get_only=True)  # GET /api/3/action/package_search, as harvesters do
    changed = harvester.action.package_search(fq="metadata_modified:[NOW-1DAY TO NOW]", rows=1000)
    assert [p["name"] for p in changed["results"]] == ["sports-venues"] and changed["count"] == 1
    assert harvester.action.package_search(fq="metadata_modified:[NOW/DAY TO *]")["count"] == 1
    assert harvester.action.package_search(fq="metadata_modified:[* TO NOW-1DAY]")["count"] == len(OPEN) - 1
    assert harvester.action.package_search(fq="metadata_modified:[NOW-7DAYS TO NOW-2DAYS]")["count"] == len(OPEN) - 1
    assert harvester.action.package_search(fq="metadata_modified:[NOW+1DAY TO *]")["count"] == 0


def test_datastore_id_is_the_rows_own_and_stays_while_the_row_is_unchanged(hub: Hub, tmp_path: Path) -> None:
    from hub.app import create_app

    load_all_samples(hub)
    server = LiveServer(create_app(hub.settings, hub=hub), free_port()).start()
    try:
        ckan = RemoteCKAN(server.url)
        before = {r["code"]: r["_id"] for r in ckan.action.datastore_search(id="sports-venues", limit=1000)["records"]}
        by_name = ckan.action.datastore_search(id="sports-venues", sort="name desc", offset=3, limit=5)["records"]
        assert all(before[r["code"]] == r["_id"] for r in by_name)  # not the row's place in the answer
        one = next(iter(before))
        found = ckan.action.datastore_search(id="sports-venues", filters={"_id": before[one]})
        assert [r["code"] for r in found["records"]] == [one] and found["total"] == 1
        some = sorted(before.values())[:3]
        assert sorted(r["_id"] for r in ckan.action.datastore_search(
            id="sports-venues", filters={"_id": some})["records"]) == some
        assert [r["_id"] for r in ckan.action.datastore_search(id="sports-venues", sort="_id desc", limit=2)[
            "records"]] == sorted(before.values(), reverse=True)[:2]
        with pytest.raises(ValidationError):
            ckan.action.datastore_search(id="sports-venues", filters={"_id": "mot"})

        changed = tmp_path / "sports-venues.csv"
        changed.write_text((PROJECT_ROOT / "samples" / "sports-venues.csv").read_text(encoding="utf-8")
                           .replace("Sân vận động Đồng Nai", "Sân vận động tỉnh Đồng Nai", 1), encoding="utf-8")
        assert pipeline.run(hub.store, "sports-venues", changed, user="tests").status == "committed"
        after = {r["code"]: r["_id"] for r in ckan.action.datastore_search(id="sports-venues", limit=1000)["records"]}
        assert after["TT-0001"] != before["TT-0001"]  # the changed record is a new row of the new version
        assert {c: i for c, i in after.items() if c != "TT-0001"} == {c: i for c, i in before.items() if c != "TT-0001"}
    finally:
        server.stop()


def test_jsonp_wraps_get_answers_for_anonymous_callers_only(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    peer.action.organization_create(name="xa-an-vien")
    peer.action.package_create(name="ho-so-noi-bo", owner_org="xa-an-vien", private=True)
    url = f"{district_hub.url}/api/3/action/package_show"
    answer = requests.get(url, params={"id": "bien-hoa-wards", "callback": "jQuery36_1700", "_": "1700"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/javascript")
    assert answer.text.startswith("jQuery36_1700(") and answer.text.endswith(");")
    assert json.loads(answer.text[len("jQuery36_1700("):-2])["result"]["name"] == "bien-hoa-wards"
    # a key sent with a JSONP request is not used: another site's page could make a browser send it
    hidden = requests.get(url, params={"id": "ho-so-noi-bo", "callback": "cb"}, timeout=30,
                          headers={"Authorization": district_hub.key})
    assert hidden.status_code == 404 and hidden.headers["Content-Type"].startswith("application/json")
    for bad in ("alert(document.domain)//", "<script>", "a b", "1abc"):
        refused = requests.get(url, params={"id": "bien-hoa-wards", "callback": bad}, timeout=30)
        assert refused.status_code == 400 and refused.json().startswith("Bad request - JSONP callback"), bad
    unknown = requests.post(f"{district_hub.url}/api/action/package_explode", json={}, timeout=30)
    assert unknown.status_code == 400 and unknown.json().startswith("Bad request - Action name not known")


def test_federated_resources_keep_json_values(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    peer.action.organization_create(name="xa-phu-ly")
    schema = {"fields": [{"name": "ma", "type": "string"}, {"name": "so_luong", "type": "integer"}]}
    created = peer.action.package_create(name="le-hoi", owner_org="xa-phu-ly", resources=[
        {"name": "Lịch", "url": "https://phuly.example.vn/lich.csv", "schema": schema, "languages": ["vi", "en"]}])
    resource = RemoteCKAN(district_hub.url).action.resource_show(id=created["resources"][0]["id"])
    assert resource["schema"] == schema and resource["languages"] == ["vi", "en"]
