"""Federation: peers with a steward key write CKAN packages into a hub, with real ckanapi, on both backends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import NotAuthorized, NotFound, ValidationError

from tests.ckan.conftest import RunningHub

CKANAPI = Path(sys.executable).parent / "ckanapi"


def _ckanapi(*args: str) -> subprocess.CompletedProcess[str]:
    # the dump and load commands start worker processes named `ckanapi`: it must be on PATH
    env = {**os.environ, "PATH": f"{CKANAPI.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(CKANAPI), *args], capture_output=True, text=True, timeout=300, env=env)


def test_ckanapi_dump_of_our_hub_loads_into_a_district_hub(live_hub, district_hub: RunningHub,  # noqa: ANN001
                                                           tmp_path: Path) -> None:
    dump = tmp_path / "datasets.jsonl"
    done = _ckanapi("dump", "datasets", "--all", "-q", "-r", live_hub.url, "-O", str(dump))
    assert done.returncode == 0, done.stderr
    dumped = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert {d["name"] for d in dumped} == {"accommodation", "admin-units", "heritage-sites", "sports-venues",
                                           "travel-agencies"}
    for _ in range(2):  # the second load finds every package and updates it in place
        loaded = _ckanapi("load", "datasets", "-r", district_hub.url, "-a", district_hub.key, "-I", str(dump))
        assert loaded.returncode == 0, loaded.stderr + loaded.stdout
    district = RemoteCKAN(district_hub.url)
    assert district.action.package_list() == ["accommodation", "admin-units", "bien-hoa-wards", "heritage-sites",
                                              "sports-venues", "travel-agencies"]
    original = next(d for d in dumped if d["name"] == "heritage-sites")
    copy = district.action.package_show(id="heritage-sites")
    for key in ("title", "notes", "license_id", "maintainer_email", "url"):
        assert copy[key] == original[key], key
    assert copy["organization"]["name"] == "ban-quan-ly-di-tich"  # created from the dumped organization
    assert [r["url"] for r in copy["resources"]] == [r["url"] for r in original["resources"]]
    assert {t["name"] for t in copy["tags"]} == {t["name"] for t in original["tags"]}
    assert {g["name"] for g in copy["groups"]} == {"heritage", "culture"}  # same themes in both catalogues
    found = district.action.package_search(q="di tich", fq="organization:ban-quan-ly-di-tich")
    assert [p["name"] for p in found["results"]] == ["heritage-sites"]


def test_a_peer_creates_updates_and_uploads(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    org = peer.action.organization_create(name="xa-phu-ly", title="UBND xã Phú Lý")
    created = peer.action.package_create(
        name="le-hoi-phu-ly", title="Lễ hội xã Phú Lý", owner_org="xa-phu-ly", notes="Lịch lễ hội truyền thống",
        tags=[{"name": "lễ hội"}], extras=[{"key": "nguon", "value": "UBND xã"}], groups=[{"name": "culture"}],
        resources=[{"name": "Trang nguồn", "url": "https://phuly.example.vn/le-hoi.html"}])
    assert created["organization"]["id"] == org["id"] and created["owner_org"] == org["id"]
    assert [g["name"] for g in created["groups"]] == ["culture"]
    assert created["resources"][0]["format"] == "HTML"

    upload = io.BytesIO("ten,ngay\nLễ hội Kỳ Yên,2025-03-01\n".encode())
    upload.name = "lich-le-hoi.csv"
    resource = peer.action.resource_create(package_id="le-hoi-phu-ly", name="Lịch", upload=upload)
    assert resource["url_type"] == "upload" and resource["format"] == "CSV" and resource["size"] == upload.tell()
    downloaded = requests.get(resource["url"], timeout=30)
    assert downloaded.status_code == 200 and "Lễ hội Kỳ Yên" in downloaded.content.decode("utf-8")

    replaced = io.BytesIO(b"ten,ngay\nHoi cho,2025-04-01\n")
    replaced.name = "lich-le-hoi.csv"
    updated = peer.action.resource_update(id=resource["id"], name="Lịch 2025", upload=replaced)
    assert updated["name"] == "Lịch 2025" and "Hoi cho" in requests.get(updated["url"], timeout=30).text

    patched = peer.action.package_patch(id="le-hoi-phu-ly", title="Lễ hội truyền thống Phú Lý")
    assert patched["title"] == "Lễ hội truyền thống Phú Lý" and patched["notes"] == "Lịch lễ hội truyền thống"
    assert patched["num_resources"] == 2 and patched["metadata_modified"] > created["metadata_modified"]
    kept = peer.action.package_update(id=created["id"], name="le-hoi-phu-ly", owner_org="xa-phu-ly", title="Lễ hội")
    assert kept["num_resources"] == 2 and kept["notes"] is None  # update replaces fields, keeps resources

    anonymous = RemoteCKAN(district_hub.url)
    assert "le-hoi-phu-ly" in anonymous.action.package_list()
    assert anonymous.action.organization_show(id="xa-phu-ly")["package_count"] == 1
    assert anonymous.action.package_search(q="le hoi")["results"][0]["name"] == "le-hoi-phu-ly"
    assert anonymous.action.group_show(id="culture")["package_count"] == 1
    assert anonymous.action.resource_show(id=resource["id"])["name"] == "Lịch 2025"
    with pytest.raises(NotFound):
        anonymous.action.datastore_search(resource_id=resource["id"])  # a file, not in the datastore


def test_private_federated_packages_are_for_stewards_only(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    peer.action.organization_create(name="xa-an-vien")
    peer.action.package_create(name="ho-so-noi-bo", owner_org="xa-an-vien", private=True)
    assert peer.action.package_show(id="ho-so-noi-bo")["private"] is True
    anonymous = RemoteCKAN(district_hub.url)
    with pytest.raises(NotFound):
        anonymous.action.package_show(id="ho-so-noi-bo")
    assert "ho-so-noi-bo" not in anonymous.action.package_list()


def test_our_datasets_and_publishers_are_read_only(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    with pytest.raises(NotAuthorized):
        peer.action.package_patch(id="bien-hoa-wards", title="Đã đổi")
    with pytest.raises(NotAuthorized):
        peer.action.organization_patch(id="phong-vhtt-bien-hoa", title="Đã đổi")
    ours = peer.action.package_show(id="bien-hoa-wards")
    with pytest.raises(NotAuthorized):
        peer.action.resource_update(id=ours["resources"][0]["id"], name="Đã đổi")
    with pytest.raises(ValidationError) as raised:
        peer.action.package_create(name="bien-hoa-wards", owner_org="phong-vhtt-bien-hoa")
    assert raised.value.error_dict["name"] == ["That URL is already in use."]
    with pytest.raises(ValidationError) as raised:  # nor may a peer publish in the name of our offices
        peer.action.package_create(name="mao-danh", owner_org="phong-vhtt-bien-hoa")
    assert raised.value.error_dict["owner_org"] == ["You cannot add a dataset to this organization"]
    assert RemoteCKAN(district_hub.url).action.package_show(id="bien-hoa-wards")["title"] == "Phường của Biên Hòa"


def test_package_create_reports_every_problem_at_once(district_hub: RunningHub) -> None:
    peer = RemoteCKAN(district_hub.url, apikey=district_hub.key)
    with pytest.raises(ValidationError) as raised:
        peer.action.package_create(name="Tên Có Dấu", owner_org="khong-co-don-vi", author_email="khong-phai-email")
    errors = raised.value.error_dict
    assert errors["name"] == ["Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_"]
    assert errors["owner_org"] == ["Organization does not exist"]
    assert errors["author_email"] == ["Email khong-phai-email is not a valid format"]
    assert "Dữ liệu gửi lên không hợp lệ" in errors["message"]
    with pytest.raises(ValidationError) as raised:
        peer.action.organization_create(name="phong-vhtt-bien-hoa")
    assert raised.value.error_dict["name"] == ["Group name already exists in database"]
