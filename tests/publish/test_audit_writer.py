"""The audit writer's own connection (publish/audit_writer.py): closing the store (Hub close, gunicorn's
worker_exit) waits for the batch being written and leaves no connection open, appends after that open a new one,
and a connection the server dropped is replaced instead of refusing answers."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from publish import audit, audit_writer, write_turns
from publish.context import Hub
from publish.db import create_engine, write_transaction


def _audit_connections(hub: Hub) -> int:
    """Connections this process holds to the audit database: open files of hub-audit.db on SQLite, TCP
    connections to the server's port on PostgreSQL."""
    fds = Path("/proc/self/fd")
    targets = []
    for fd in fds.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    if hub.store.dialect == "sqlite":  # the file itself and the writers' turns file beside it
        database = str(hub.store.audit_engine.url.database)
        return sum(1 for t in targets if t in (database, database + write_turns.SUFFIX))
    port = f"{hub.store.audit_engine.url.port or 5432:04X}"
    sockets = {t[len("socket:["):-1] for t in targets if t.startswith("socket:[")}
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[2].endswith(f":{port}") and parts[9] in sockets:
                count += 1
    return count


def test_closing_the_store_waits_for_appends_in_flight_and_leaves_no_connection(hub: Hub) -> None:
    hub.store.dispose()
    before = _audit_connections(hub)
    stop = threading.Event()
    written: list[str] = []
    errors: list[BaseException] = []

    def appender(n: int) -> None:
        i = 0
        while not stop.is_set():
            try:
                written.append(audit.append(hub.store, client=f"t{n}", method="GET", path=f"/p/{i}", status=200))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            i += 1

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for _ in range(5):  # the store closed under the appenders' feet, as worker_exit and Hub close do
        threading.Event().wait(0.2)
        hub.store.dispose()
    stop.set()
    for t in threads:
        t.join(60)
    assert errors == [] and len(written) > 30
    result = audit.verify(hub.store)
    assert result.ok and result.checked == len(written)  # every returned append is there, none lost
    hub.store.dispose()
    assert _audit_connections(hub) == before  # the writer's own connection closed too


def test_a_connection_the_server_dropped_is_replaced(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    if hub.store.dialect != "postgresql":
        pytest.skip("a SQLite file is not dropped by a server")
    audit.append(hub.store, client="c", method="GET", path="/before", status=200)

    def kill() -> None:
        writer = audit_writer._WRITERS[hub.store.audit_engine]  # noqa: SLF001 - the connection to drop
        assert writer.conn is not None
        with hub.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": writer.conn.dbapi.info.backend_pid})

    kill()
    monkeypatch.setattr(audit_writer, "IDLE_PING", 0.0)  # idle: checked before use, so the next append is served
    audit.append(hub.store, client="c", method="GET", path="/after-idle", status=200)
    monkeypatch.setattr(audit_writer, "IDLE_PING", 3600.0)
    kill()  # dropped while busy (no check): that batch fails, the next one has a fresh connection
    failed = 0
    for path in ("/busy-1", "/busy-2"):
        try:
            audit.append(hub.store, client="c", method="GET", path=path, status=200)
        except sa.exc.SQLAlchemyError:
            raise
        except Exception:  # noqa: BLE001 - the driver's error for the dropped connection
            failed += 1
    assert failed <= 1
    paths = [e["path"] for e in reversed(audit.entries(hub.store, client="c"))]
    assert paths[:2] == ["/before", "/after-idle"] and paths[2:] in (["/busy-1", "/busy-2"], ["/busy-2"])
    assert audit.verify(hub.store).ok


def test_appends_of_two_processes_at_once_make_one_chain(hub: Hub) -> None:
    """Two stores on one database, each with its own writer and connection (as two gunicorn workers): their
    batches interleave, and every entry follows the one committed before it (on PostgreSQL the append function
    takes the chain's lock before it reads the last hash)."""
    other = Hub.open(hub.settings)
    written: list[str] = []
    errors: list[BaseException] = []

    def appender(store_hub: Hub, n: int) -> None:
        try:
            for i in range(40):
                written.append(audit.append(store_hub.store, client=f"w{n}", method="GET", path=f"/p/{i}", status=200))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(h, n)) for n, h in enumerate([hub, other, hub, other])]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        other.store.dispose()
    assert errors == []
    result = audit.verify(hub.store)
    assert result.ok and result.checked == len(written) == 160
    assert len(set(written)) == 160  # each caller got its own entry's hash
    assert sorted(e["client"] for e in audit.entries(hub.store, limit=1000)) == ["w0"] * 40 + ["w1"] * 40 + ["w2"] * 40 + ["w3"] * 40


def test_sqlite_appenders_of_several_processes_wait_their_turn_not_sqlites_back_off(hub: Hub) -> None:
    """On SQLite an append first waits for its turn among every process's audit writers (the flock of the file
    beside the log), and only then takes SQLite's write lock: while another process holds the turn, this one's
    append neither writes nor holds SQLite's lock (so it is not asleep in SQLite's busy back-off, 1 to 100 ms
    between tries, when the turn comes), and it lands the moment the turn is let go."""
    if hub.store.dialect != "sqlite":
        pytest.skip("PostgreSQL appenders queue on the server's advisory lock")
    audit.append(hub.store, client="first", method="GET", path="/first", status=200)  # the writer's file is open
    database = str(hub.store.audit_engine.url.database)
    other = os.open(database + write_turns.SUFFIX, os.O_RDWR)  # another process's hold: its own open file
    fcntl.flock(other, fcntl.LOCK_EX)
    done = threading.Event()
    waiting = threading.Thread(target=lambda: (audit.append(hub.store, client="second", method="GET",
                                                            path="/second", status=200), done.set()))
    try:
        waiting.start()
        assert not done.wait(0.5)  # still waiting for its turn
        probe = create_engine(f"sqlite:///{database}", lock_timeout=0, spatial=False)  # (sqlean, as the hub's)
        with write_transaction(probe):  # SQLite's write lock is free (else "locked"): the append has not taken it
            pass
        probe.dispose()
        assert [e["client"] for e in audit.entries(hub.store, limit=10)] == ["first"]
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert done.wait(30)
    waiting.join(5)
    assert [e["client"] for e in audit.entries(hub.store, limit=10)] == ["second", "first"]
    assert audit.verify(hub.store).ok


def _log_reads(hub: Hub, *connections: audit_writer._Connection) -> int:
    """Rows of hub_audit read by sequential scans so far, once `connections` have sent their counts."""
    for writer_conn in connections:
        writer_conn.dbapi.execute("SELECT pg_stat_force_next_flush()")  # sent before the server answers this one
    with hub.store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'hub_audit' "
                                        "AND schemaname = current_schema()")).scalar_one())


def test_an_append_reads_the_chain_head_by_index_however_small_the_log_was_when_it_was_planned(hub: Hub) -> None:
    """The append is planned once per connection. A plan made while the log was small (statistics of a few
    rows, as an ANALYZE after a load or autovacuum leaves them) read the whole log twice per append, so every
    keyed request got slower as the log grew: in the API benchmark keyed req/s fell from 420 to 90 within a
    minute, and the hot record, measured later than the hot page, looked slower than a cold one."""
    if hub.store.dialect != "postgresql":
        pytest.skip("SQLite reads the last rowid; PostgreSQL plans")
    store = hub.store
    with store.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE hub_audit"))  # a small log's statistics
    for i in range(8):  # the writer's connection settles on one plan for its statement within these
        audit.append(store, client="c", method="GET", path=f"/small/{i}", status=200)
    writer = audit_writer._WRITERS[store.audit_engine]  # noqa: SLF001 - its connection's statistics are sent on demand
    assert writer.conn is not None
    other = audit_writer._Connection(store.audit_engine)  # noqa: SLF001 - another worker's, grows the log fast
    entry = audit._clean({"client": "other", "method": "GET", "path": "/grow", "status": 200})  # noqa: SLF001
    for _ in range(6):
        other.write([entry] * 500, audit.key_of(store))
    before = _log_reads(hub, other, writer.conn)
    other.close()
    for i in range(20):
        audit.append(store, client="c", method="GET", path=f"/large/{i}", status=200)
    read = _log_reads(hub, writer.conn) - before
    assert read < 3000, f"20 appends read {read} rows of a log of 3,028"  # none read the whole log
    assert audit.verify(store).ok
