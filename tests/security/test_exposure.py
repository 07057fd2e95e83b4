"""Findings 12-14: rate limits on every surface; the OpenAPI document and /metrics name only what the caller
may see; blank-purpose grants refused; no-store on personal answers; links never from the Host header."""

from __future__ import annotations

import re

import pytest

from core.errors import HubError
from publish import clients
from tests.security.conftest import PERSONAL, PURPOSE

LONG = "z" * 40


@pytest.mark.parametrize("path", ["/datasets", "/catalog.ttl", "/steward/login",
                                  "/api/3/action/datastore_search?resource_id=heritage-sites",
                                  "/api/action/package_list"])
def test_rate_limits_cover_every_surface(attacked, path: str) -> None:
    client = attacked.app(rate_limit=3).test_client()
    statuses = [client.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code for _ in range(5)]
    assert statuses[-1] == 429, (path, statuses)


def test_anonymous_openapi_document_lists_no_dataset_it_cannot_see(attacked, attacked_client) -> None:
    spec = attacked_client.get("/api/v1/swagger.json")
    text = spec.get_data(as_text=True)
    assert spec.status_code == 200
    # (Record_licences_quarterly is the open statistics of the licences report: not the register)
    assert "/datasets/licences/" not in text and not re.search(r"Record_licences\b", text) and "holder_id_number" not in text
    assert "/datasets/heritage-sites/records" in text
    keyed = attacked_client.get("/api/v1/swagger.json", headers=attacked.headers("department")).get_data(as_text=True)
    assert "/datasets/licences/records" in keyed and "holder_id_number" not in keyed  # no personal grant
    granted = attacked_client.get("/api/v1/swagger.json",
                                  headers=attacked.headers("department-personal")).get_data(as_text=True)
    assert "holder_id_number" in granted


def test_metrics_name_no_non_open_dataset_without_an_admin_key(attacked, attacked_client) -> None:
    plain = attacked_client.get("/metrics").get_data(as_text=True)
    assert "hub_loads" in plain
    for hidden in (PERSONAL, "sports-venues"):
        assert f'"{hidden}"' not in plain and f"/{hidden}/" not in plain
    admin = attacked_client.get("/metrics", headers=attacked.headers("admin")).get_data(as_text=True)
    assert f'"{PERSONAL}"' in admin


@pytest.mark.parametrize("purpose", ["", "   ", None])
def test_a_personal_grant_with_a_blank_purpose_is_refused(attacked, purpose) -> None:
    with pytest.raises(HubError):
        clients.grant(attacked.hub.store, "department", PERSONAL, personal=True, purpose=purpose, granted_by="tests")


def test_answers_with_personal_data_are_not_stored_by_caches(attacked, attacked_client) -> None:
    granted = attacked_client.get(f"/api/v1/datasets/{PERSONAL}/records",
                                  headers=attacked.headers("department-personal"))
    assert granted.status_code == 200 and granted.headers["Cache-Control"] == "no-store"
    ckan = attacked_client.get(f"/api/3/action/datastore_search?resource_id={PERSONAL}",
                               headers=attacked.headers("department-personal"))
    assert ckan.headers.get("Cache-Control") == "no-store"
    plain = attacked_client.get(f"/api/v1/datasets/{PERSONAL}/records", headers=attacked.headers("department"))
    assert plain.headers["Cache-Control"] != "no-store"
    assert PURPOSE


def test_links_never_come_from_the_host_header_on_a_served_hub(attacked) -> None:
    client = attacked.app(secret_key=LONG, bind="0.0.0.0:8080").test_client()
    answer = client.get("/api/3/action/package_show?id=heritage-sites", headers={"Host": "evil.example"})
    assert answer.status_code == 200 and "evil.example" not in answer.get_data(as_text=True)
    local = attacked.app().test_client().get("/api/3/action/package_show?id=heritage-sites",
                                             headers={"Host": "localhost:9555"})
    assert "localhost:9555" in local.get_data(as_text=True)  # a developer's hub links to itself
