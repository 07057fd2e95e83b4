"""The records API under concurrent requests: every request audited once, in one chain that verifies (appends
are committed in groups, hub/audit.py), a failed group refuses every answer in it, a key revoked elsewhere refused
at once, and pages that name the version they read (asked inside the page's own statement)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from core.errors import Unauthenticated
from hub.app import create_app
from publish import audit, clients, tables
from publish import query as q
from publish.access import Viewer
from publish.context import Hub
from tests.hub.api.conftest import PERSONAL, Secured

THREADS = 8
EACH = 6


def _in_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..THREADS-1) at once (a barrier lines them up); their results, or the first error."""
    results: list[Any] = [None] * THREADS
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = work(n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return results


def test_concurrent_requests_are_each_audited_once_in_one_chain(secured: Secured) -> None:
    app = secured.app()
    headers = secured.headers("department-personal")
    tag = uuid.uuid4().hex[:8]

    def requests(n: int) -> list[tuple[str, int, int]]:
        client = app.test_client()
        out = []
        for i in range(EACH):
            request_id = f"{tag}-{n}-{i}"
            answer = client.get(f"/api/v1/datasets/{PERSONAL}/records?limit={1 + i}",
                                headers={**headers, "X-Request-ID": request_id})
            out.append((request_id, answer.status_code, len(answer.get_json()["records"])))
        return out

    sent = [r for batch in _in_threads(requests) for r in batch]
    assert {status for _, status, _ in sent} == {200}
    logged = [e for e in audit.entries(secured.hub.store, client="department-personal", limit=100_000)
              if (e["request_id"] or "").startswith(tag)]
    assert sorted(e["request_id"] for e in logged) == sorted(r for r, _, _ in sent)  # all there, none twice
    rows = {r: n for r, _, n in sent}
    assert all(e["rows"] == rows[e["request_id"]] and e["personal"] and e["status"] == 200 for e in logged)
    in_chain_order = sorted(logged, key=lambda e: e["id"])
    assert [e["at"] for e in in_chain_order] == sorted(e["at"] for e in logged)  # time order is chain order
    result = audit.verify(secured.hub.store)
    assert result.ok and result.append_only


def _refuse_audit_inserts(hub: Hub) -> Callable[[], None]:
    """A database that refuses new audit entries (as a full disk or a lost primary would); returns the undo."""
    with hub.store.audit_engine.begin() as conn:
        if hub.store.dialect == "postgresql":
            conn.exec_driver_sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                 "$$ BEGIN RAISE EXCEPTION 'no room'; END $$")
            conn.exec_driver_sql("CREATE TRIGGER test_refuse BEFORE INSERT ON hub_audit "
                                 "FOR EACH ROW EXECUTE FUNCTION test_refuse()")
        else:
            conn.exec_driver_sql("CREATE TRIGGER test_refuse BEFORE INSERT ON hub_audit "
                                 "BEGIN SELECT RAISE(ABORT, 'no room'); END")

    def undo() -> None:
        with hub.store.audit_engine.begin() as conn:
            if hub.store.dialect == "postgresql":
                conn.exec_driver_sql("DROP TRIGGER test_refuse ON hub_audit")
                conn.exec_driver_sql("DROP FUNCTION test_refuse()")
            else:
                conn.exec_driver_sql("DROP TRIGGER test_refuse")

    return undo


def test_answers_whose_audit_group_fails_are_all_refused_and_later_ones_served(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    headers = {"Authorization": f"Bearer {clients.issue_key(hub.store, 'so-xay-dung').token}"}
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    before = audit.verify(hub.store).checked

    def get(_: int) -> list[int]:
        client = app.test_client()
        return [client.get("/api/v1/datasets/heritage-sites/records", headers=headers).status_code
                for _ in range(3)]

    undo = _refuse_audit_inserts(hub)
    try:
        refused = [s for statuses in _in_threads(get) for s in statuses]
    finally:
        undo()
    assert set(refused) == {503}  # no answer left without its entry
    assert audit.verify(hub.store).checked == before
    served = [s for statuses in _in_threads(get) for s in statuses]
    assert set(served) == {200}  # a failed group leaves nothing stuck behind it
    result = audit.verify(hub.store)
    assert result.ok and result.checked == before + len(served)


def test_a_key_revoked_elsewhere_stops_working_at_once(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    assert clients.resolve_key(token, hub.store).name == "so-xay-dung"
    # another worker or `hub keys revoke` in its own process: this process's memory is not told, but the key
    # generation its next use reads has moved
    with hub.store.engine.begin() as conn:
        conn.execute(tables.api_keys.update().values(revoked_at=sa.func.current_timestamp()))
    with pytest.raises(Unauthenticated):
        clients.resolve_key(token, hub.store)


def test_a_grant_withdrawn_here_applies_to_the_next_request(hub: Hub) -> None:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    clients.grant(hub.store, "so-xay-dung", PERSONAL, personal=True, purpose="Kiểm tra")
    assert clients.resolve_key(token, hub.store).personal == frozenset({PERSONAL})
    clients.ungrant(hub.store, "so-xay-dung", PERSONAL)
    assert clients.resolve_key(token, hub.store).personal == frozenset()


def test_pages_name_the_version_they_read_even_when_empty(sample_hub: Hub) -> None:
    dataset = sample_hub.catalog.dataset("heritage-sites")
    current = sample_hub.store.current_version(dataset.id)
    viewer = Viewer(name="so-xay-dung", role="department")
    first = q.records(sample_hub.store, dataset, q.Query(limit=2), viewer)
    again = q.records(sample_hub.store, dataset, q.Query(limit=2), viewer)  # the remembered statement
    assert first.version == again.version == current and first.rows == again.rows and len(first.rows) == 2
    second = q.records(sample_hub.store, dataset, q.Query(limit=2, offset=2), viewer)
    assert second.rows and second.rows[0] != first.rows[0]  # limit and offset are the statement's parameters
    none = q.records(sample_hub.store, dataset, q.Query(q="khong-co-dau-nao-nhu-the"), viewer)
    assert none.rows == [] and none.total == 0 and none.version == current
