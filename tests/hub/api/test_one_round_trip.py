"""A keyed read on PostgreSQL answered from what the process last saw, its audit entry written only if that still
holds (hub/optimistic.py): a hot page, record or page of changes is one round trip (the audit call), a cold one
two; and a key, client, grant or version changed by another process counts on the very next request: a revoked
or disabled key never gets another 200, a new version is served at once, and each request has one truthful
audit entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from publish import tables
from publish.context import Hub
from publish.store import utcnow
from tests.hub.api.conftest import PERSONAL, RESTRICTED, Secured
from tests.hub.api.test_dropped_connections import Wire, own  # noqa: F401 - a fixture
from tests.hub_copies import HubCopy
from tests.publish.conftest import SAMPLES, ingest, read_rows, write_rows


@pytest.fixture
def elsewhere(own: tuple[Secured, HubCopy]) -> Iterator[sa.Engine]:  # noqa: F811
    """Another process's connection to the hub's database: nothing it changes passes through this process."""
    engine = sa.create_engine(own[0].hub.settings.database_url)
    yield engine
    engine.dispose()


def _entries(hub: Hub) -> list[Any]:
    with hub.store.engine.connect() as conn:
        return list(conn.execute(sa.select(tables.audit_log).order_by(tables.audit_log.c.id)).mappings())


def _warm(client: FlaskClient, url: str, headers: dict[str, str]) -> None:
    """The first request looks the key up, the second reads what every answer of the dataset may read."""
    for _ in range(2):
        assert client.get(url, headers=headers).status_code == 200


def test_a_hot_keyed_answer_is_one_round_trip_and_a_cold_one_two(own: tuple[Secured, HubCopy],  # noqa: F811
                                                                  tmp_path: Path) -> None:
    secured, _ = own
    store = secured.hub.store
    base = f"/api/v1/datasets/{PERSONAL}"
    with Wire(store, tmp_path) as wire:
        client = secured.app().test_client()
        headers = secured.headers("department")
        _warm(client, f"{base}/records?limit=2", headers)
        key_field = secured.hub.catalog.dataset(PERSONAL).schema.primary_key[0]
        key = client.get(f"{base}/records?limit=2", headers=headers).get_json()["records"][1][key_field]
        sent: dict[str, int] = {}
        for name, url in [("page cold", f"{base}/records?limit=3"), ("page hot", f"{base}/records?limit=3"),
                          ("record cold", f"{base}/records/{key}"), ("record hot", f"{base}/records/{key}"),
                          ("changes cold", f"{base}/changes?since=0&limit=2"),
                          ("changes hot", f"{base}/changes?since=0&limit=2")]:
            since = wire.mark()
            assert client.get(url, headers=headers).status_code == 200, name
            sent[name] = len(wire.sent(since))
    # main: 3, 2, 3, 2, 3, 2 (the current versions with the key generation first)
    assert sent == {"page cold": 2, "page hot": 1, "record cold": 2, "record hot": 1, "changes cold": 2,
                    "changes hot": 1}


def test_a_key_or_grant_changed_by_another_process_counts_on_the_next_request(
        own: tuple[Secured, HubCopy], elsewhere: sa.Engine) -> None:  # noqa: F811
    secured, _ = own
    hub = secured.hub
    client = secured.app().test_client()
    headers = secured.headers("department")
    page, restricted = f"/api/v1/datasets/{PERSONAL}/records?limit=2", f"/api/v1/datasets/{RESTRICTED}/records"
    _warm(client, page, headers)
    for _ in range(2):
        hidden = client.get(restricted, headers=headers)
        assert hidden.status_code == 404
    remaining = int(hidden.headers["X-RateLimit-Remaining"])
    c, k = tables.clients, tables.api_keys
    with elsewhere.begin() as conn:
        client_id = conn.execute(sa.select(c.c.id).where(c.c.name == "department")).scalar_one()
        conn.execute(tables.grants.insert().values(client_id=client_id, dataset=RESTRICTED, personal=False,
                                                   granted_at=utcnow(), granted_by="tests"))
    before = len(_entries(hub))
    granted = client.get(restricted, headers=headers)
    assert granted.status_code == 200  # the grant counts at once (a 404 chosen from memory is never sent)
    # run again the ordinary way, yet counted once against the rate limit
    assert int(granted.headers["X-RateLimit-Remaining"]) == remaining - 1
    assert client.get(page, headers=headers).status_code == 200
    with elsewhere.begin() as conn:
        conn.execute(k.update().where(k.c.client_id == client_id).values(revoked_at=utcnow()))
    for _ in range(3):
        refused = client.get(page, headers=headers)  # once answered from memory: never again
        assert refused.status_code == 401 and refused.get_json()["code"] == "unauthenticated"
    logged = _entries(hub)[before:]
    assert [(e["path"], e["status"], e["client"]) for e in logged] == [
        (restricted, 200, "department"), (page.split("?")[0], 200, "department")] + [
        (page.split("?")[0], 401, "department")] * 3  # one entry each, saying what was sent
    assert all('"refused_key"' in (e["detail"] or "") for e in logged[2:])


def test_a_client_disabled_by_another_process_is_refused_on_the_next_request(
        own: tuple[Secured, HubCopy], elsewhere: sa.Engine) -> None:  # noqa: F811
    secured, _ = own
    client = secured.app().test_client()
    headers = secured.headers("department-granted")
    page = f"/api/v1/datasets/{RESTRICTED}/records?limit=2"
    _warm(client, page, headers)
    assert client.get(page, headers=headers).status_code == 200
    with elsewhere.begin() as conn:
        conn.execute(tables.clients.update().where(tables.clients.c.name == "department-granted")
                     .values(disabled=True))
    assert client.get(page, headers=headers).status_code == 401
    assert _entries(secured.hub)[-1]["status"] == 401


def test_a_version_committed_by_another_process_is_served_on_the_next_keyed_request(
        own: tuple[Secured, HubCopy], tmp_path: Path) -> None:  # noqa: F811
    secured, _ = own
    hub = secured.hub
    client = secured.app().test_client()
    headers = secured.headers("department")
    urls = {"page": "/api/v1/datasets/heritage-sites/records?limit=5&sort=code",
            "record": "/api/v1/datasets/heritage-sites/records/DT-0001",
            "changes": "/api/v1/datasets/heritage-sites/changes?since=0&limit=5"}
    _warm(client, urls["page"], headers)
    before = {name: client.get(url, headers=headers).get_json() for name, url in urls.items()}
    assert {name: client.get(url, headers=headers).get_json() for name, url in urls.items()} == before
    version = before["page"]["version"]
    rows = read_rows(SAMPLES / "heritage-sites.csv")
    rows[0]["name"] = "Mộ cự thạch (tên mới)"
    other = Hub.open(hub.settings)  # its own engine and connections, as `hub ingest` in another process
    try:
        assert ingest(other, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows)).load.version == (
            version + 1)
    finally:
        other.store.dispose()
    count = len(_entries(hub))
    after = {name: client.get(url, headers=headers).get_json() for name, url in urls.items()}
    assert after["page"]["version"] == version + 1 and after["page"]["records"][0]["name"] == "Mộ cự thạch (tên mới)"
    assert after["record"]["name"] == "Mộ cự thạch (tên mới)" and after["changes"]["until"] == version + 1
    assert [e["status"] for e in _entries(hub)[count:]] == [200, 200, 200]  # one entry each
