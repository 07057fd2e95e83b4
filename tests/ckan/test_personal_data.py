"""Personal fields never leave through the CKAN API unless a key was granted them; shared data needs a key."""

from __future__ import annotations

import csv
import io

import requests
from ckanapi import RemoteCKAN

from hub.app import create_app
from publish.clients import create_client, grant, issue_key
from publish.context import Hub
from tests.ckan.conftest import RunningHub, load_samples

PERSONAL = {"holder_name", "holder_id_number", "holder_phone"}


def test_personal_fields_absent_from_ckan_datastore_and_downloads(open_licences_hub: RunningHub) -> None:
    ckan = RemoteCKAN(open_licences_hub.url)
    page = ckan.action.datastore_search(resource_id="licences", limit=1000)
    names = {f["id"] for f in page["fields"]}
    assert "holder_id_number" not in names and "holder_phone" not in names
    # the holder's name is public for businesses and blanked for individuals (personalWhen)
    individuals = [r for r in page["records"] if r["holder_kind"] == "ca_nhan"]
    assert individuals and all(r["holder_name"] is None for r in individuals)
    assert any(r["holder_name"] for r in page["records"] if r["holder_kind"] != "ca_nhan")
    info = ckan.action.datastore_info(id="licences")
    assert not {"holder_id_number", "holder_phone"} & {f["id"] for f in info["fields"]}
    resources = {r["hub_resource"]: r for r in ckan.action.package_show(id="licences")["resources"]}
    rows = list(csv.DictReader(io.StringIO(requests.get(resources["csv"]["url"], timeout=30).text)))
    assert rows and not {"holder_id_number", "holder_phone"} & set(rows[0])
    assert all(not r["holder_name"] for r in rows if r["holder_kind"] == "ca_nhan")
    dictionary = requests.get(resources["dictionary"]["url"], timeout=30).json()
    assert not {"holder_id_number", "holder_phone"} & {f["name"] for f in dictionary["fields"]}
    # searching by a personal value finds nothing and the answer never holds it (the text is searched, not
    # the list of result dicts, which never "contains" a string)
    import json

    from tests.hub.api.conftest import personal_values

    for value in sorted(personal_values())[:20]:
        for answer in (ckan.action.package_search(q=value), ckan.action.datastore_search(resource_id="licences",
                                                                                         q=value, limit=1000)):
            found = {k: v for k, v in answer.items() if k not in ("q", "_links")}  # the question, echoed
            assert value not in json.dumps(found, ensure_ascii=False), value


def test_department_key_sees_shared_data_and_personal_fields_only_when_granted(hub: Hub) -> None:
    load_samples(hub, ("admin-units", "licences"))
    create_client(hub.store, "so-cong-an", "department")
    create_client(hub.store, "so-lao-dong", "department")
    grant(hub.store, "so-lao-dong", "licences", personal=True, purpose="Kiểm tra điều kiện lao động")
    plain = issue_key(hub.store, "so-cong-an").token
    granted = issue_key(hub.store, "so-lao-dong").token
    client = create_app(hub.settings, hub=hub).test_client()

    def call(action: str, key: str | None = None, **params: str) -> dict:
        headers = {"Authorization": key} if key else {}  # raw, as ckanapi sends it
        return client.get(f"/api/3/action/{action}", query_string=params, headers=headers).get_json()

    assert call("package_show", id="licences")["error"]["__type"] == "Not Found Error"
    shown = call("package_show", plain, id="licences")["result"]
    assert shown["private"] is True and shown["extras"][0] == {"key": "access_level", "value": "shared"}
    assert "licences" not in call("package_list", plain)["result"]  # private: listed by search on request only
    assert [p["name"] for p in call("package_search", plain, q="giay phep karaoke", include_private="true")
            ["result"]["results"]] == ["licences"]
    fields = {f["id"] for f in call("datastore_search", plain, resource_id="licences")["result"]["fields"]}
    assert not {"holder_id_number", "holder_phone"} & fields
    fields = {f["id"] for f in call("datastore_search", granted, resource_id="licences")["result"]["fields"]}
    assert PERSONAL <= fields
