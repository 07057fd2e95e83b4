"""`hub publish-ckan`: our open datasets pushed into another live hub's CKAN API, idempotent, nothing personal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys

import pytest
import requests
from ckanapi import RemoteCKAN

from publish.ckan_push import PushError, push
from publish.context import Hub
from tests.ckan.conftest import RunningHub

OPEN = ["accommodation", "admin-units", "heritage-sites", "licences", "sports-venues", "travel-agencies"]


def publish_ckan(source: RunningHub, target: RunningHub, *args: str) -> subprocess.CompletedProcess[str]:
    settings = source.hub.settings
    env = {**os.environ, "HUB_DATABASE_URL": settings.database_url, "HUB_CATALOG_PATH": str(settings.catalog_path),
           "HUB_STORAGE_DIR": str(settings.storage_dir), "HUB_LOG_LEVEL": "WARNING", "COLUMNS": "200"}
    command = [sys.executable, "-m", "hub", "publish-ckan", "--url", target.url, "--api-key", target.key, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def test_publish_ckan_creates_the_packages_then_changes_nothing(open_licences_hub: RunningHub,
                                                                district_hub: RunningHub) -> None:
    dry = push(open_licences_hub.hub.store, district_hub.url, district_hub.key, dry_run=True,
               settings=open_licences_hub.hub.settings)
    assert (dry["created"], dry["updated"], dry["unchanged"]) == (26, 0, 0)
    assert {s["action"] for s in dry["steps"]} == {"would create"}
    assert RemoteCKAN(district_hub.url).action.package_list() == ["bien-hoa-wards"]  # a dry run writes nothing

    first = publish_ckan(open_licences_hub, district_hub)
    assert first.returncode == 0, first.stderr
    assert "created 26, cập nhật / updated 0" in first.stdout.replace("\n", " ")
    target = RemoteCKAN(district_hub.url)
    assert target.action.package_list() == sorted([*OPEN, "bien-hoa-wards"])
    heritage = target.action.package_show(id="heritage-sites")
    assert heritage["title"] == "Di tích lịch sử - văn hóa và danh lam thắng cảnh"
    assert heritage["organization"]["title"] == "Ban Quản lý di tích và danh thắng"
    assert {r["hub_resource"] for r in heritage["resources"]} == {"csv", "geojson", "dictionary"}
    assert all(r["url_type"] == "upload" for r in heritage["resources"])
    pushed_csv = next(r for r in heritage["resources"] if r["hub_resource"] == "csv")
    body = requests.get(pushed_csv["url"], timeout=30).content
    assert pushed_csv["hash"] == f"sha256:{hashlib.sha256(body).hexdigest()}"  # as frictionless checks it
    assert [f["name"] for f in json.loads(pushed_csv["schema"])["fields"]] == body.decode().splitlines()[0].split(",")

    second = publish_ckan(open_licences_hub, district_hub)
    assert second.returncode == 0, second.stderr
    assert "created 0, cập nhật / updated 0, không đổi / unchanged 26" in second.stdout.replace("\n", " ")

    # the pushed licences register carries no personal field
    licences = {r["hub_resource"]: r for r in target.action.package_show(id="licences")["resources"]}
    rows = list(csv.DictReader(io.StringIO(requests.get(licences["csv"]["url"], timeout=30).content.decode())))
    assert rows and not {"holder_id_number", "holder_phone"} & set(rows[0])
    assert all(not r["holder_name"] for r in rows if r["holder_kind"] == "ca_nhan")


def test_publish_ckan_repairs_what_changed_on_the_portal(open_licences_hub: RunningHub,
                                                         district_hub: RunningHub) -> None:
    settings = open_licences_hub.hub.settings
    push(open_licences_hub.hub.store, district_hub.url, district_hub.key, dataset="sports-venues", settings=settings)
    portal = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    pkg = portal.action.package_patch(id="sports-venues", title="Sửa tay trên cổng")
    csv_resource = next(r for r in pkg["resources"] if r["hub_resource"] == "csv")
    damaged = io.BytesIO(b"name\nonly one row\n")
    damaged.name = "sports-venues.csv"
    portal.action.resource_update(id=csv_resource["id"], name=csv_resource["name"], format="CSV",
                                  hub_resource="csv", upload=damaged)

    report = push(open_licences_hub.hub.store, district_hub.url, district_hub.key, dataset="sports-venues",
                  settings=settings)
    changed = {(s["kind"], s["name"]): s for s in report["steps"] if s["action"] == "updated"}
    assert set(changed) == {("package", "sports-venues"), ("resource", "sports-venues/csv")}
    assert changed[("package", "sports-venues")]["detail"] == "title"
    assert report["unchanged"] == 3  # the organization, the GeoJSON and the dictionary
    restored = RemoteCKAN(district_hub.url).action.package_show(id="sports-venues")
    assert restored["title"] == "Công trình thể thao"
    csv_url = next(r["url"] for r in restored["resources"] if r["hub_resource"] == "csv")
    assert "only one row" not in requests.get(csv_url, timeout=30).text


def test_a_dataset_that_is_not_open_is_never_pushed(sample_hub: Hub) -> None:
    with pytest.raises(PushError) as raised:
        push(sample_hub.store, "http://127.0.0.1:9", "unused", dataset="licences", settings=sample_hub.settings)
    assert "not open data" in raised.value.message("en")
