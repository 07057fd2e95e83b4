"""The cache of answers of committed versions (publish/response_cache.py, hub/api/answers.py), on both backends:
no answer reaches a caller of another visibility class, a new version is served the moment it commits, a
matching ETag is 304 without reading the dataset, every keyed request is audited and rate-limited cached or not,
and two app instances share answers through Redis (never personal ones)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from publish import audit
from publish.context import Hub
from tests.conftest import statements_reading
from tests.hub.api.conftest import CALLERS, PERSONAL, RESTRICTED, Secured, personal_values
from tests.publish.conftest import SAMPLES, ingest, read_rows, units_frame, units_loaded, write_rows  # noqa: F401 - fixtures

URLS = [
    f"/api/v1/datasets/{PERSONAL}/records?limit=20",
    f"/api/v1/datasets/{PERSONAL}/records?limit=20&labels=on",
    f"/api/v1/datasets/{PERSONAL}/records?format=geojson&limit=5",
    f"/api/v1/datasets/{PERSONAL}/records/{{key}}",
    f"/api/v1/datasets/{PERSONAL}/changes?since=0&limit=20",
    f"/api/v1/datasets/{RESTRICTED}/records?limit=20",
    f"/api/v1/datasets/{RESTRICTED}/changes?since=0&limit=20",
    "/api/v1/datasets/heritage-sites/records?limit=20",
]


def _seen(response: Any) -> tuple[int, Any]:
    return response.status_code, json.loads(response.get_data(as_text=True) or "null")


def _answers(secured: Secured, client: Any, order: list[str], urls: list[str], *, clear: bool = False
             ) -> dict[tuple[str, str], tuple[int, Any]]:
    out = {}
    for caller in order:
        for url in urls:
            if clear:  # the reference: every answer built from the database
                client.application.extensions["hub_answers"].clear()
            out[caller, url] = _seen(client.get(url, headers=secured.headers(caller)))
    return out


def test_a_cached_answer_never_reaches_a_caller_of_another_class(secured: Secured) -> None:
    key_field = secured.hub.catalog.dataset(PERSONAL).schema.primary_key[0]
    admin = secured.app().test_client()
    first = admin.get(f"/api/v1/datasets/{PERSONAL}/records?limit=1", headers=secured.headers("admin")).get_json()
    urls = [u.replace("{key}", str(first["records"][0][key_field])) for u in URLS]
    callers = list(CALLERS)
    reference_client = secured.app().test_client()
    reference = _answers(secured, reference_client, callers, urls, clear=True)
    # the classes differ, so a mix-up would show: the granted caller sees personal values, the others do not,
    # and only callers with the grant or a role see the restricted dataset
    secrets = personal_values()
    personal_text = json.dumps(reference["department-personal", urls[0]][1], ensure_ascii=False)
    assert any(v in personal_text for v in secrets)
    assert reference["anonymous", urls[5]][0] == 404 and reference["department-granted", urls[5]][0] == 200
    assert reference["anonymous", urls[0]][0] in (401, 404) and reference["department", urls[0]][0] == 200
    for order in (callers, list(reversed(callers))):
        client = secured.app().test_client()  # an empty cache, warmed by the callers before in this order
        for _ in range(2):
            warm = _answers(secured, client, order, urls)
            for (caller, url), seen in warm.items():
                assert seen == reference[caller, url], (caller, url, order[0])
                if caller != "department-personal":
                    text = json.dumps(seen[1], ensure_ascii=False)
                    assert not any(v in text for v in secrets), (caller, url)
        assert client.application.extensions["hub_answers"].bytes_used > 0  # it did keep answers


def test_a_new_version_is_served_the_moment_it_commits(units_loaded: Hub, tmp_path: Path) -> None:  # noqa: F811
    """Every unpinned request reads the current version from the database (on a connection its thread keeps), so
    a load committed by any process is served by the next request, and no earlier version's answer after it."""
    hub = units_loaded
    sites = SAMPLES / "heritage-sites.csv"
    assert ingest(hub, "heritage-sites", sites).load.version == 1
    client = create_app(hub.settings, hub=hub).test_client()
    urls = {"page": "/api/v1/datasets/heritage-sites/records?limit=5&sort=code",
            "record": "/api/v1/datasets/heritage-sites/records/DT-0001",
            "labels": "/api/v1/datasets/heritage-sites/records?limit=5&sort=code&labels=en",
            "changes": "/api/v1/datasets/heritage-sites/changes?since=0&limit=5"}
    before = {name: client.get(url).get_json() for name, url in urls.items()}
    assert {name: client.get(url).get_json() for name, url in urls.items()} == before  # now from the cache
    assert before["page"]["version"] == 1 and before["changes"]["until"] == 1
    rows = read_rows(sites)
    rows[0]["name"] = "Mộ cự thạch (tên mới)"
    other = Hub.open(hub.settings)  # its own engine and connections, as `hub ingest` in another process: no signal
    try:
        assert ingest(other, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows)).load.version == 2
    finally:
        other.store.dispose()
    after = {name: client.get(url).get_json() for name, url in urls.items()}
    assert after["page"]["version"] == 2 and after["page"]["records"][0]["name"] == "Mộ cự thạch (tên mới)"
    assert after["labels"]["records"][0]["name"] == "Mộ cự thạch (tên mới)"
    assert after["record"]["name"] == "Mộ cự thạch (tên mới)"
    assert after["changes"]["until"] == 2
    # the old version is still its own answer
    old = client.get("/api/v1/datasets/heritage-sites/records?limit=5&sort=code&as_of=1").get_json()
    assert old["records"][0]["name"] == before["page"]["records"][0]["name"] != "Mộ cự thạch (tên mới)"


def test_a_matching_etag_is_304_without_reading_the_dataset(secured: Secured) -> None:
    client = secured.app().test_client()
    headers = secured.headers("department")
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=5&as_of=1"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    # the same question in another spelling (parameters in another order, a default spelled out) has the same tag
    same = client.get(f"/api/v1/datasets/{PERSONAL}/records?as_of=1&offset=0&limit=5", headers=headers)
    assert same.headers["ETag"] == etag
    with statements_reading(secured.hub.store, secured.hub.store.table(PERSONAL).name) as seen:
        again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert seen == []
    anonymous = client.get("/api/v1/datasets/heritage-sites/records?limit=5", headers={"If-None-Match": etag})
    assert anonymous.status_code == 200  # another answer's tag fits nothing else


def test_requests_arriving_together_for_a_new_answer_build_it_once(secured: Secured) -> None:
    """When a load commits, every request for the new version misses the cache at once: one of them builds
    the answer, the others wait for it instead of building the same page side by side (issue 16's stall)."""
    import threading

    app = secured.app()  # an empty cache, as a worker's right after a commit
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=9&sort=-number"
    start, answers = threading.Barrier(8), []

    def ask() -> None:
        client = app.test_client()
        start.wait()
        answers.append(client.get(url, headers=secured.headers("department")))

    with statements_reading(secured.hub.store, secured.hub.store.table(PERSONAL).name) as seen:
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.get_data() for a in answers}) == 1
    assert len(seen) == 1, seen  # the page was read once


def test_every_keyed_request_is_audited_cached_or_not(secured: Secured) -> None:
    client = secured.app().test_client()
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=7&sort=-number"
    store = secured.hub.store
    before = {e["id"] for e in audit.entries(store, limit=100_000)}
    for caller in ("department", "department-personal", "department", "department-personal"):
        assert client.get(url, headers=secured.headers(caller)).status_code == 200
    etag = client.get(url, headers=secured.headers("department")).headers["ETag"]
    assert client.get(url, headers={**secured.headers("department"), "If-None-Match": etag}).status_code == 304
    new = [e for e in audit.entries(store, limit=100_000) if e["id"] not in before and e["path"].endswith("/records")]
    new.sort(key=lambda e: e["id"])
    assert [(e["client"], e["status"], e["rows"], bool(e["personal"])) for e in new] == [
        ("department", 200, 7, False), ("department-personal", 200, 7, True),
        ("department", 200, 7, False), ("department-personal", 200, 7, True),
        ("department", 200, 7, False), ("department", 304, None, False)]


def test_the_rate_limit_still_refuses_cached_answers(secured: Secured) -> None:
    client = secured.app(rate_limit=3).test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=3"
    statuses = [client.get(url, headers=secured.headers("steward")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_two_app_instances_share_answers_through_redis_but_never_personal_ones(secured: Secured) -> None:
    import redis

    from tests.ops.conftest import redis_db_url

    url = redis_db_url()
    first, second = (secured.app(redis_url=url).test_client() for _ in range(2))
    server = redis.Redis.from_url(url)

    def answers() -> int:
        return len(list(server.scan_iter("hub:answer:*")))

    page = f"/api/v1/datasets/{PERSONAL}/records?limit=4&as_of=1&sort=number"
    granted = first.get(page, headers=secured.headers("department-personal"))
    assert granted.status_code == 200 and answers() == 0  # personal: this process only
    plain = first.get(page, headers=secured.headers("department"))
    assert plain.status_code == 200 and answers() == 1
    store = secured.hub.store
    with statements_reading(store, store.table(PERSONAL).name) as seen:
        shared = second.get(page, headers=secured.headers("department"))
    assert seen == [] and shared.get_data() == plain.get_data()  # from Redis, not the database
    with statements_reading(store, store.table(PERSONAL).name) as seen:
        other = second.get(page, headers=secured.headers("department-personal"))
    assert seen != [] and other.get_data() == granted.get_data()  # built again: nothing shared to reuse
    assert personal_values() & set(json.dumps(plain.get_json(), ensure_ascii=False).split('"')) == set()


@pytest.mark.parametrize("caller", ["anonymous", "department"])
def test_csv_streams_are_not_cached(secured: Secured, caller: str) -> None:
    client = secured.app().test_client()
    with client.get("/api/v1/datasets/heritage-sites/records?format=csv", headers=secured.headers(caller)) as r:
        assert r.status_code == 200 and r.mimetype == "text/csv"
    assert client.application.extensions["hub_answers"].bytes_used == 0


def test_answers_are_served_while_redis_is_down(secured: Secured) -> None:
    from tests.conftest import free_port

    client = secured.app(redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=3&as_of=1"
    first, second = (client.get(url, headers=secured.headers("department")) for _ in range(2))
    assert first.status_code == second.status_code == 200 and first.get_data() == second.get_data()
    assert len(first.get_json()["records"]) == 3


def test_a_worker_keeps_no_answer_when_answer_cache_mb_is_0(secured: Secured) -> None:
    client = secured.app(answer_cache_mb=0).test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=3"
    store = secured.hub.store
    first = client.get(url, headers=secured.headers("department"))
    with statements_reading(store, store.table("heritage-sites").name) as seen:
        second = client.get(url, headers=secured.headers("department"))
    assert first.status_code == second.status_code == 200 and first.get_data() == second.get_data()
    assert seen != [] and client.application.extensions["hub_answers"].bytes_used == 0  # built again


def test_gzip_is_made_for_the_first_caller_that_accepts_it(secured: Secured) -> None:
    client = secured.app().test_client()
    url = "/api/v1/datasets/heritage-sites/records?limit=20"
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    again = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None and "Accept-Encoding" in plain.headers["Vary"]
    assert zipped.headers["Content-Encoding"] == again.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == gzip.decompress(again.get_data()) == plain.get_data()
    assert zipped.headers["ETag"] == plain.headers["ETag"]
