"""A connection the server dropped (a restart, pg_terminate_backend, an idle timeout) never fails a request, and
no request pays a round trip to find out: a pooled connection is checked on checkout by looking at its socket
(a dropped one has the server's goodbye or its end waiting there), not by a ping (publish/liveness.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from publish import audit, clients
from publish.store import Store
from tests.conftest import POSTGRES_URL, require_postgres
from tests.hub.api.conftest import PERSONAL, Secured, copy_secured
from tests.hub_copies import HubCopy, Templates


@pytest.fixture
def own(templates: Templates, tmp_path: Path) -> Iterator[tuple[Secured, HubCopy]]:
    """A PostGIS hub with a database of its own: every backend connected to it is the hub's."""
    require_postgres()
    made, copy = copy_secured(templates, "postgis", tmp_path)
    yield made, copy
    copy.close()


def _terminate(pid: int) -> int:
    """Terminate one backend from a connection of another engine, waiting until it is gone."""
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FILTER (WHERE pg_terminate_backend(:p, 5000))"),
                                    {"p": pid}).scalar_one())
    finally:
        engine.dispose()


def _drop_every_connection(database: str) -> int:
    """Terminate every backend of `database` from a connection of another engine, waiting until each is gone."""
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database}).scalar_one())
    finally:
        engine.dispose()


def test_keyed_requests_are_answered_after_the_server_dropped_every_connection(
        own: tuple[Secured, HubCopy]) -> None:
    secured, copy = own
    assert copy.database
    headers = secured.headers("department")
    warm = secured.app().test_client()
    page = f"/api/v1/datasets/{PERSONAL}/records?limit=5"
    expected_page = warm.get(page, headers=headers)
    key_field = secured.hub.catalog.dataset(PERSONAL).schema.primary_key[0]
    record = f"/api/v1/datasets/{PERSONAL}/records/{expected_page.get_json()['records'][0][key_field]}"
    expected_record = warm.get(record, headers=headers)
    assert expected_page.status_code == expected_record.status_code == 200
    # another app on the same store shares its pool, version reader and audit writer, not its answer cache: its
    # answers are read through the pool
    cold = secured.app().test_client()
    answers = []
    for client, url in ((warm, page), (cold, page), (cold, record)):
        assert _drop_every_connection(copy.database) >= 1
        answers.append((url, client.get(url, headers=headers)))
    assert [a.status_code for _, a in answers] == [200, 200, 200]
    assert [a.get_data() for _, a in answers] == [expected_page.get_data()] * 2 + [expected_record.get_data()]
    logged = audit.entries(secured.hub.store, client="department", limit=3)
    assert [(e["path"], e["status"]) for e in reversed(logged)] == [(u.split("?")[0], 200) for u, _ in answers]
    assert audit.verify(secured.hub.store).ok


def test_a_read_whose_connection_is_dropped_under_it_reads_again(own: tuple[Secured, HubCopy]) -> None:
    """Dropped after the look at its socket, before its first statement (a backend still exiting when it was
    checked out): the statement fails, and the page is read again on a fresh connection."""
    secured, _ = own
    store = secured.hub.store
    headers = secured.headers("department")
    url = f"/api/v1/datasets/{PERSONAL}/records?limit=4"
    expected = secured.app().test_client().get(url, headers=headers)
    dropped: list[int] = []
    reading = f"FROM {store.table(PERSONAL).name}"
    client = secured.app().test_client()  # another answer cache: the page is read again

    def drop_once(conn: sa.Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if not dropped and reading in statement:
            pid = int(conn.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
            dropped.append(_terminate(pid))

    event.listen(store.engine, "before_cursor_execute", drop_once)
    try:
        again = client.get(url, headers=headers)
    finally:
        event.remove(store.engine, "before_cursor_execute", drop_once)
    assert dropped == [1]
    assert again.status_code == 200 and again.get_data() == expected.get_data()


def test_a_cold_keyed_page_pays_no_round_trip_to_check_its_connection(own: tuple[Secured, HubCopy]) -> None:
    """A cold keyed page reads through the pool: the driver sends the statements SQLAlchemy issues for it, the
    version read and the audit entry's call, and nothing to check the pooled connection first (the pre-ping's
    `;`, a round trip per checkout)."""
    import psycopg

    secured, _ = own
    store = secured.hub.store
    sent: list[str] = []  # every statement a driver cursor ran on the hub's connections
    issued: list[str] = []  # the ones SQLAlchemy issued

    class Counting(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
            sent.append(query if isinstance(query, str) else repr(query))
            return super().execute(query, params, **kw)

    def connected(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.cursor_factory = Counting

    def issuing(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        issued.append(statement)

    event.listen(store.engine, "connect", connected)
    store.dispose()  # every connection from here on is counted
    headers = secured.headers("department")
    client = secured.app().test_client()
    for warm in (2, 4):  # the first opens the version reader's and the audit writer's connections too
        assert client.get(f"/api/v1/datasets/{PERSONAL}/records?limit={warm}", headers=headers).status_code == 200
    event.listen(store.engine, "before_cursor_execute", issuing)
    sent.clear()
    try:
        answer = client.get(f"/api/v1/datasets/{PERSONAL}/records?limit=3", headers=headers)  # not cached yet
    finally:
        event.remove(store.engine, "before_cursor_execute", issuing)
        event.remove(store.engine, "connect", connected)
    assert answer.status_code == 200 and issued  # read through the pool
    assert [s for s in sent if s not in issued and "hub_audit_append" not in s] == []



class Wire:
    """libpq's trace of every connection `store` opens while in use (one file each under `folder`; the pool is
    emptied on entry, so every connection from there on is traced): `mark()` where each trace stands, `sent(mark)`
    what the driver sent since then, on the connections opened before and after it."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store, self.folder = store, folder
        self.traces: list[Path] = []

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        import psycopg

        path = self.folder / f"wire{len(self.traces)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)  # libpq's FILE owns it from here
        self.traces.append(path)
        dbapi_conn.pgconn.trace(fd)
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def __enter__(self) -> Wire:
        event.listen(self.store.engine, "connect", self._connected)
        self.store.dispose()
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.store.engine, "connect", self._connected)

    def mark(self) -> list[int]:
        return [p.stat().st_size for p in self.traces]

    def sent(self, since: list[int]) -> list[str]:
        """What the driver sent on each traced connection since `since` (libpq's trace of the frontend's
        messages, written out before each is sent): the simple queries' texts, and `extended` for each statement
        sent with parameters (Parse/Bind...Sync). Connections opened after the mark count from their start."""
        sent = []
        for path, start in zip(self.traces, since + [0] * (len(self.traces) - len(since)), strict=True):
            with path.open("rb") as f:
                f.seek(start)
                for line in f.read().decode(errors="replace").splitlines():
                    fields = line.split("\t")
                    if len(fields) > 2 and fields[0] == "F" and fields[2] in ("Query", "Sync"):
                        sent.append(fields[3].strip().strip('"') if fields[2] == "Query" else "extended")
        return sent


def test_cold_keyed_answers_read_without_a_transaction(own: tuple[Secured, HubCopy], tmp_path: Path) -> None:
    """A cold keyed page, a cold record, a cold page of changes and a new key's first request read on PostgreSQL
    without BEGIN and the pool's ROLLBACK (publish.db.reading): two round trips fewer each. The only transaction
    left is the new key's first-use date, a write."""
    secured, _ = own
    store = secured.hub.store
    with Wire(store, tmp_path) as wire:
        client = secured.app().test_client()
        headers = secured.headers("department")
        assert client.get(f"/api/v1/datasets/{PERSONAL}/records?limit=2", headers=headers).status_code == 200
        fresh = {"Authorization": "Bearer " + clients.issue_key(store, "department", days=1, actor="tests").token}
        since = wire.mark()
        page = client.get(f"/api/v1/datasets/{PERSONAL}/records?limit=3", headers=fresh)  # a key not seen yet
        key_field = secured.hub.catalog.dataset(PERSONAL).schema.primary_key[0]
        record = client.get(f"/api/v1/datasets/{PERSONAL}/records/{page.get_json()['records'][1][key_field]}",
                            headers=fresh)
        feed = client.get(f"/api/v1/datasets/{PERSONAL}/changes?since=0&limit=2", headers=fresh)
    assert [page.status_code, record.status_code, feed.status_code] == [200, 200, 200]
    assert len(feed.get_json()["changes"]) == 2
    sent = wire.sent(since)  # (connections opened since: all of theirs)
    assert "ROLLBACK" not in sent, sent
    # the key's first-use date, a write; every other statement is a read of its own
    assert [s.split()[0] for s in sent if s != "extended"] == ["BEGIN", "COMMIT"]


def test_a_cold_keyed_page_of_changes_reads_the_current_version_once_and_its_page_in_one_statement(own: tuple[Secured, HubCopy], tmp_path: Path) -> None:
    """A page of changes not cached yet, with a key this process knows: the current versions with the key
    generation, the page (its keys and their rows in one statement) and the audit call. The change feed's check
    of `until` takes the current version read with the key (it read it again), with `until` named or not, or
    from what the worker last saw."""
    secured, _ = own
    store = secured.hub.store
    with Wire(store, tmp_path) as wire:
        client = secured.app().test_client()
        headers = secured.headers("department")
        assert client.get(f"/api/v1/datasets/{PERSONAL}/records?limit=2", headers=headers).status_code == 200
        feeds, sent = [], []
        for query in ("since=0&limit=2", "since=0&until=1&limit=3", "since=1&limit=2"):
            since = wire.mark()
            feeds.append(client.get(f"/api/v1/datasets/{PERSONAL}/changes?{query}", headers=headers))
            sent.append(wire.sent(since))
        walked = client.get(feeds[0].get_json()["next"], headers=headers)  # its cursor pins until
    assert [f.status_code for f in feeds] == [200, 200, 200] and walked.status_code == 200
    assert [len(f.get_json()["changes"]) for f in feeds] == [2, 3, 0]
    first, second = feeds[0].get_json()["changes"], walked.get_json()["changes"]
    assert [c["key"] for c in first + second] == [c["key"] for c in feeds[1].get_json()["changes"]][:2] + [
        c["key"] for c in second]
    assert first[-1]["key"] < second[0]["key"]
    # the first after the key's lookup asks the ordinary way: 3 (main: 5, the current version read again, the
    # keys, then their rows); the later ones are answered from what the worker saw (hub/optimistic.py): the page
    # and the audit call, and since == until the audit call alone (main: 5 and 3)
    assert sent == [["extended"] * 3, ["extended"] * 2, ["extended"]], sent


def _third_keyed_get(secured: Secured, tmp_path: Path, path: str) -> tuple[Any, list[str]]:
    """A department's third GET of `path` and the statements it sent (the first two look the key up and open the
    version reader's connection)."""
    with Wire(secured.hub.store, tmp_path) as wire:
        client = secured.app().test_client()
        headers = secured.headers("department")
        for _ in range(2):
            assert client.get(path, headers=headers).status_code == 200
        since = wire.mark()
        answer = client.get(path, headers=headers)
        return answer, wire.sent(since)


def test_a_keyed_list_of_versions_is_one_statement_of_its_own(own: tuple[Secured, HubCopy], tmp_path: Path) -> None:
    """/versions reads its list without BEGIN and ROLLBACK and takes the current version from it (the newest
    committed): with a known key, the current versions with the key generation, the list, the audit call."""
    secured, _ = own
    store = secured.hub.store
    listed, sent = _third_keyed_get(secured, tmp_path, f"/api/v1/datasets/{PERSONAL}/versions")
    body = listed.get_json()
    assert listed.status_code == 200 and body["current"] == body["versions"][0]["version"] == store.current_version(
        PERSONAL)
    assert sent == ["extended"] * 3, sent  # main: 6 (BEGIN, the list, ROLLBACK, then the current version alone)


def test_a_keyed_dataset_description_reads_each_thing_once_without_a_transaction(own: tuple[Secured, HubCopy], tmp_path: Path) -> None:
    """/datasets/<id> reads its latest load, its record count and its versions each in one statement without
    BEGIN and ROLLBACK, and takes the current version from the versions (the newest committed)."""
    secured, _ = own
    store = secured.hub.store
    listed, sent = _third_keyed_get(secured, tmp_path, f"/api/v1/datasets/{PERSONAL}")
    body = listed.get_json()
    assert listed.status_code == 200 and body["version"] == body["versions"][0]["version"] == store.current_version(
        PERSONAL)
    assert body["records"] > 0 and body["last_updated"]
    # the current versions with the key generation, the latest load, the count, the versions, the audit call
    # (the count has no parameter: a simple query); main: 10 here (three reads in a transaction each, the version)
    assert len(sent) == 5 and not {"BEGIN", "ROLLBACK"} & {s.split()[0] for s in sent}, sent
