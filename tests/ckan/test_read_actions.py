"""The read side of the CKAN Action API, as a real CKAN client (ckanapi.RemoteCKAN) sees a live hub."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ckanapi import RemoteCKAN

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
OPEN = {"accommodation", "admin-units", "heritage-sites", "sports-venues", "travel-agencies"}


def _sample_rows(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def ckan(live_hub) -> Iterator[RemoteCKAN]:  # noqa: ANN001
    with RemoteCKAN(live_hub.url) as client:
        yield client


@pytest.fixture(scope="module")
def harvester(live_hub) -> Iterator[RemoteCKAN]:  # noqa: ANN001
    """Harvesters GET /api/3/action/<name> with query parameters; ckanapi with get_only does the same."""
    with RemoteCKAN(live_hub.url, get_only=True) as client:
        yield client


def test_status_show_names_the_site(ckan: RemoteCKAN, live_hub) -> None:  # noqa: ANN001
    status = ckan.action.status_show()
    assert status["site_title"] == "Cổng dữ liệu Văn hóa, Thể thao và Du lịch Đồng Nai"
    assert status["site_url"] == live_hub.url
    assert status["ckan_version"].startswith("2.")
    assert ckan.action.site_read() is True


def test_package_list_names_open_datasets_only(ckan: RemoteCKAN, harvester: RemoteCKAN) -> None:
    names = ckan.action.package_list()
    assert names == sorted(OPEN)  # licences is shared data: anonymous callers are not told it exists
    assert harvester.action.package_list(limit=2, offset=1) == sorted(OPEN)[1:3]


def test_package_show_is_a_ckan_package_with_downloadable_resources(ckan: RemoteCKAN) -> None:
    pkg = ckan.action.package_show(id="heritage-sites")
    for key in ("id", "name", "title", "notes", "license_id", "license_title", "isopen", "metadata_created",
                "metadata_modified", "organization", "owner_org", "tags", "groups", "extras", "resources",
                "num_resources", "num_tags", "state", "type", "private", "maintainer_email"):
        assert key in pkg, key
    assert pkg["title"] == "Di tích lịch sử - văn hóa và danh lam thắng cảnh"
    assert pkg["organization"]["name"] == "ban-quan-ly-di-tich" and pkg["owner_org"] == pkg["organization"]["id"]
    assert {"heritage", "culture"} == {g["name"] for g in pkg["groups"]}
    assert "di tích" in {t["name"] for t in pkg["tags"]} and "heritage" in {t["name"] for t in pkg["tags"]}
    assert {"key": "title_en", "value": "Heritage sites"} in pkg["extras"]
    assert pkg["isopen"] is True and pkg["private"] is False
    # naive UTC with microseconds: harvesters compare these as strings
    assert len(pkg["metadata_modified"]) == 26 and not pkg["metadata_modified"].endswith("Z")
    assert ckan.action.package_show(id=pkg["id"])["name"] == "heritage-sites"  # by id too
    formats = {r["format"]: r for r in pkg["resources"]}
    assert set(formats) == {"CSV", "GeoJSON", "JSON"}
    rows = list(csv.DictReader(io.StringIO(requests.get(formats["CSV"]["url"], timeout=30).text)))
    assert len(rows) == len(_sample_rows("heritage-sites.csv"))
    geojson = requests.get(formats["GeoJSON"]["url"], timeout=30).json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == len(rows)
    schema = requests.get(formats["JSON"]["url"], timeout=30).json()
    assert [f["name"] for f in schema["fields"]] == list(rows[0])


def test_package_search_ignores_diacritics_and_counts_facets(ckan: RemoteCKAN) -> None:
    found = ckan.action.package_search(q="di tich", facet=True, **{"facet.field": ["organization", "groups"]})
    assert found["results"][0]["name"] == "heritage-sites"
    assert found["count"] == len(found["results"])
    assert found["facets"]["organization"]["ban-quan-ly-di-tich"] >= 1
    items = found["search_facets"]["groups"]["items"]
    assert {"name": "heritage", "display_name": "Di sản", "count": 1} in items
    everything = ckan.action.package_search(rows=0, **{"facet.field": ["groups"], "facet.limit": 1})
    assert everything["count"] == len(OPEN) and everything["results"] == []
    assert len(everything["search_facets"]["groups"]["items"]) == 1


def test_package_search_filters_pages_and_sorts(ckan: RemoteCKAN, harvester: RemoteCKAN) -> None:
    tourism = ckan.action.package_search(fq="groups:tourism", sort="name asc")
    assert [p["name"] for p in tourism["results"]] == ["accommodation", "travel-agencies"]
    first = harvester.action.package_search(sort="name desc", rows=2, start=0)
    second = harvester.action.package_search(sort="name desc", rows=2, start=2)
    assert [p["name"] for p in first["results"] + second["results"]] == sorted(OPEN, reverse=True)[:4]
    by_format = ckan.action.package_search(fq='res_format:GeoJSON -organization:"van-phong-so"')
    assert {p["name"] for p in by_format["results"]} == {"heritage-sites", "sports-venues", "accommodation"}
    # what a CKAN harvester asks for: everything modified since a date
    since = ckan.action.package_search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]", rows=100)
    assert since["count"] == len(OPEN)
    assert ckan.action.package_search(fq="metadata_modified:[2999-01-01T00:00:00Z TO *]")["count"] == 0


def test_current_package_list_with_resources_is_newest_first(ckan: RemoteCKAN) -> None:
    listed = ckan.action.current_package_list_with_resources(limit=3)
    assert len(listed) == 3 and all(p["resources"] for p in listed)
    stamps = [p["metadata_modified"] for p in listed]
    assert stamps == sorted(stamps, reverse=True)


def test_organizations_are_our_publishers(ckan: RemoteCKAN) -> None:
    names = ckan.action.organization_list()
    assert "ban-quan-ly-di-tich" in names and "phong-quan-ly-du-lich" in names
    org = ckan.action.organization_show(id="phong-quan-ly-du-lich", include_datasets=True)
    assert org["title"] == "Phòng Quản lý Du lịch" and org["is_organization"] is True
    assert org["package_count"] == 2
    assert {p["name"] for p in org["packages"]} == {"accommodation", "travel-agencies"}
    full = ckan.action.organization_list(all_fields=True, sort="package_count desc", limit=1)
    assert full[0]["package_count"] == 2


def test_groups_are_our_themes(ckan: RemoteCKAN) -> None:
    assert set(ckan.action.group_list()) >= {"heritage", "sports", "tourism", "culture", "administrative"}
    group = ckan.action.group_show(id="sports", include_datasets=True)
    assert group["title"] == "Thể thao" and [p["name"] for p in group["packages"]] == ["sports-venues"]


def test_tag_list_has_keywords_in_both_languages(ckan: RemoteCKAN) -> None:
    tags = ckan.action.tag_list()
    assert "khách sạn" in tags and "hotel" in tags
    assert ckan.action.tag_list(query="khach san") == ["khách sạn"]


def test_resource_show_returns_the_resource_of_the_package(ckan: RemoteCKAN) -> None:
    pkg = ckan.action.package_show(id="sports-venues")
    resource = ckan.action.resource_show(id=pkg["resources"][0]["id"])
    assert resource == pkg["resources"][0] and resource["datastore_active"] is True


def test_datastore_search_reads_records_like_ckan(ckan: RemoteCKAN, harvester: RemoteCKAN) -> None:
    pkg = ckan.action.package_show(id="heritage-sites")
    csv_id = next(r["id"] for r in pkg["resources"] if r["datastore_active"])
    page = ckan.action.datastore_search(resource_id=csv_id, limit=5, offset=5, sort="code desc")
    assert page["total"] == len(_sample_rows("heritage-sites.csv"))
    assert [f["id"] for f in page["fields"]][:3] == ["_id", "code", "name"]
    assert {f["id"]: f["type"] for f in page["fields"]}["lat"] == "numeric"
    codes = sorted((r["code"] for r in _sample_rows("heritage-sites.csv")), reverse=True)
    assert [r["code"] for r in page["records"]] == codes[5:10]
    assert page["_links"]["next"].startswith("/api/3/action/datastore_search")
    found = harvester.action.datastore_search(resource_id="heritage-sites", q="hang gon", fields="code,name")
    assert [r["name"] for r in found["records"]] == ["Mộ cự thạch Hàng Gòn"]
    assert set(found["records"][0]) == {"code", "name"}  # as CKAN: _id only when asked for or no fields given
    special = ckan.action.datastore_search(resource_id="heritage-sites", filters={"rank": "quoc_gia_dac_biet"},
                                           include_total=False)
    assert "total" not in special and {r["rank"] for r in special["records"]} == {"quoc_gia_dac_biet"}
    ranks = ckan.action.datastore_search(resource_id="heritage-sites", fields=["rank"], distinct=True, sort="rank")
    expected = sorted({r["rank"] for r in _sample_rows("heritage-sites.csv")})
    assert [r["rank"] for r in ranks["records"]] == expected and ranks["total"] == len(expected)


def test_datastore_info_describes_the_fields(ckan: RemoteCKAN) -> None:
    info = ckan.action.datastore_info(id="sports-venues")
    assert info["meta"]["count"] == len(_sample_rows("sports-venues.csv"))
    names = [f["id"] for f in info["fields"]]
    assert names[0] != "_id" and "name" in names
    assert all(f["info"]["label"] and f["schema"]["native_type"] == f["type"] for f in info["fields"])


def test_get_and_post_give_the_same_answer_without_redirects(live_hub) -> None:  # noqa: ANN001
    get = requests.get(f"{live_hub.url}/api/3/action/package_show", params={"id": "admin-units"},
                       allow_redirects=False, timeout=30)
    post = requests.post(f"{live_hub.url}/api/action/package_show", json={"id": "admin-units"},
                         allow_redirects=False, timeout=30)
    assert get.status_code == post.status_code == 200
    assert get.json()["result"] == post.json()["result"]
    assert post.json()["help"].endswith("/api/3/action/help_show?name=package_show")
    assert post.headers["Content-Type"].startswith("application/json")
