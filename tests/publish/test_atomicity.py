"""A load is atomic, on both backends: readers see the old version or the new one, never a mix; a load killed
part way leaves the old version served; two loads of one dataset never interleave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.errors import LoadConflict
from publish import loads, query, versions
from publish.context import Hub
from publish.guard import LoadPlan
from publish.loads import Loader
from publish.locks import locked_transaction
from publish.query import Query
from publish.store import Store
from tests.publish.conftest import ROOT, SAMPLES, accommodation_frame, hub_env, ingest

ROWS = 50_000
BATCH = 10_000


def _load(store: Store, frames: list, source: str) -> loads.LoadResult:
    dataset = store.catalog.dataset("accommodation")
    with Loader(store, dataset, {"source_name": source}) as loader:
        for frame in frames:
            loader.stage(frame)
        return loader.commit()


def _observe(store: Store) -> tuple[tuple, tuple]:
    """Two readers' views, each from one snapshot: what the API answers (version, record count) and the
    current rows in the table (count, how many carry the v2 edit), in one statement."""
    page = query.records(store, store.catalog.dataset("accommodation"), Query(limit=1))
    with store.read_engine.connect() as conn:
        current, edited = conn.execute(sa.text(
            "SELECT count(*), coalesce(sum(CASE WHEN name LIKE :edit THEN 1 ELSE 0 END), 0) "
            "FROM ds_accommodation WHERE _to IS NULL"), {"edit": "%(v2)"}).one()
    return (page.version, page.total or 0), (int(current), int(edited))


def test_reader_sees_old_then_new_and_never_a_mix_during_large_loads(hub: Hub) -> None:
    store = hub.store
    v1 = [accommodation_frame(1 + i, BATCH) for i in range(0, ROWS, BATCH)]
    # v2: the first 5,000 renamed, the last 2,000 gone, 3,000 new
    v2 = [accommodation_frame(1, 5_000, tag=" (v2)"), accommodation_frame(5_001, ROWS - 7_000),
          accommodation_frame(ROWS + 1, 3_000)]
    api_states = {(None, 0): 0, (1, ROWS): 1, (2, ROWS + 1_000): 2}
    table_states = {(0, 0): 0, (ROWS, 0): 1, (ROWS + 1_000, 5_000): 2}
    seen: list[tuple[tuple, tuple]] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                seen.append(_observe(store))
                time.sleep(0.005)  # leave the loading thread the interpreter most of the time
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        time.sleep(0.2)
        assert _load(store, v1, "v1.csv").version == 1
        time.sleep(0.2)
        assert _load(store, v2, "v2.csv").version == 2
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    for views, states in ((api for api, _ in seen), api_states), ((table for _, table in seen), table_states):
        views = list(views)
        mixed = [v for v in views if v not in states]
        assert not mixed, f"{len(mixed)} mixed observations, e.g. {mixed[:3]}"
        order = [states[v] for v in views]
        assert order == sorted(order), "a reader went back to an older version"
        assert set(order) == {0, 1, 2}
    assert len(seen) > 20  # the reader really polled during the loads


def test_reader_that_found_no_version_sees_nothing_even_if_the_first_load_commits_meanwhile(hub: Hub) -> None:
    """A reader looks the version up, then reads the rows (on PostgreSQL in autocommit: two snapshots; a page
    of the current version asks both in one statement, and only when it comes back empty looks the version up
    on its own). If the first load commits between the two, the reader must still answer "no version, no
    rows", not the new rows under no version. The load is committed exactly there, from a hook on the
    reader's engine."""
    store = hub.store
    dataset = store.catalog.dataset("accommodation")
    loader = Loader(store, dataset, {"source_name": "first.csv"})
    loader.open()
    loader.stage(accommodation_frame(1, 500))
    committed: list[loads.LoadResult] = []
    armed = [True]  # the next version look-up is the reader's; the commit's own look-ups pass by

    def commit_after_version_lookup(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if armed[0] and statement.lower().startswith("select max(hub_loads.version)"):  # the look-up alone
            armed[0] = False
            committed.append(loader.commit())

    sa.event.listen(store.read_engine, "after_cursor_execute", commit_after_version_lookup)
    try:
        page = query.records(store, dataset, Query(limit=10))
    finally:
        sa.event.remove(store.read_engine, "after_cursor_execute", commit_after_version_lookup)
        loader.close()
    assert committed and committed[0].version == 1  # the load did commit between the reader's two steps
    assert (page.version, page.total, page.rows) == (None, 0, [])
    assert list(query.iter_records(store, dataset, Query(version=None)))  # a new reader sees version 1
    after = query.records(store, dataset, Query(limit=10))
    assert (after.version, after.total) == (1, 500)


def _big_travel_agencies(path: Path, rows: int) -> Path:
    communes = ["26368", "26380", "26005", "26170"]
    with path.open("w", encoding="utf-8") as handle:
        handle.write("enterprise_code,name,licence_scope,licence_number,address,commune_code,phone,email,website,status\n")
        for i in range(rows):
            handle.write(f"{3600000000 + i},Công ty Du lịch Đồng Nai {i},noi_dia,{i:05d}/2024/SDL-GP LHND,"
                         f"\"Số {i % 900}, đường Võ Thị Sáu, tỉnh Đồng Nai\",{communes[i % 4]},0251389{i % 10000:04d},"
                         f"dl{i}@example.vn,,dang_hoat_dong\n")
    return path


def _running_load(store: Store) -> int | None:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT id FROM hub_loads WHERE status = 'running'").scalar()


def _applying(store: Store, application: str) -> bool:
    """Whether the load (its connections are named `application`) holds its dataset's lock: the apply phase."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = :app"), {"app": application}
            ).scalar())
    raw = store.engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA busy_timeout = 0")
        raw.driver_connection.execute("BEGIN IMMEDIATE")
        raw.driver_connection.execute("ROLLBACK")
        return False
    except Exception:  # noqa: BLE001 - "database is locked": the load holds the write lock
        return True
    finally:
        raw.driver_connection.execute("PRAGMA busy_timeout = 60000")
        raw.close()


def _connections(store: Store, application: str) -> int:
    """How many PostgreSQL connections named `application` are still open (none on SQLite: a killed process's
    locks go with it)."""
    if store.dialect != "postgresql":
        return 0
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"),
                                {"app": application}).scalar() or 0)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["first-load", "staging", "apply"])
def test_load_killed_part_way_leaves_old_version_served_and_is_marked_failed(units_loaded: Hub, tmp_path: Path,
                                                                             phase: str) -> None:
    hub = units_loaded
    dataset = hub.catalog.dataset("travel-agencies")
    if phase != "first-load":  # a first load goes straight into a new table on PostgreSQL (publish/bulk.py)
        assert ingest(hub, "travel-agencies", SAMPLES / "travel-agencies.csv").load.version == 1
    before = query.records(hub.store, dataset, Query(limit=1000)).rows
    big = _big_travel_agencies(tmp_path / "travel-agencies-big.csv", 30_000)
    application = f"hub-test-{os.getpid()}-{phase}"  # names the load's PostgreSQL connections
    staged = tmp_path / "staged"  # written by a load that has staged rows and stopped there (paused_load.py)
    command = ["hub"] if phase == "apply" else ["tests.publish.paused_load", str(staged)]
    # --allow-shrink: the big file holds none of version 1's keys; without it the load stops at the shrink check,
    # a window of milliseconds a fast machine could finish before this test sees it, and nothing would be applied
    process = subprocess.Popen([sys.executable, "-m", *command, "ingest", "travel-agencies", str(big), "--allow-shrink"],
                               env={**hub_env(hub), "PGAPPNAME": application}, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while _running_load(hub.store) is None:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if phase in ("staging", "first-load"):
            while not staged.exists():
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert 0 < int(staged.read_text(encoding="utf-8")) < 30_000  # part way through staging, and held there
            assert not _applying(hub.store, application)
        else:
            while not _applying(hub.store, application):
                assert process.poll() is None, ("the load finished before its apply phase was caught: "
                                                + process.stderr.read().decode())
                assert time.monotonic() < deadline
                time.sleep(0.002)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    while _connections(hub.store, application):  # PostgreSQL notices the dead client, rolls its transaction back
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert process.returncode == -signal.SIGKILL
    assert query.records(hub.store, dataset, Query(limit=1000)).rows == before
    assert hub.store.current_version("travel-agencies") == (None if phase == "first-load" else 1)
    assert versions.loads(hub.store, "travel-agencies")[0]["status"] == "running"
    with hub.store.engine.connect() as conn:
        assert not [t for t in sa.inspect(conn).get_table_names() if "__load_" in t]  # nothing left behind

    restarted = Hub.open(hub.settings, init=True)  # the next start
    try:
        last = versions.loads(restarted.store, "travel-agencies")[0]
        assert last["status"] == "failed"
        assert "stopped before it finished" in last["error"]
        assert query.records(restarted.store, dataset, Query(limit=1000)).rows == before
    finally:
        restarted.store.dispose()


def test_second_load_at_once_waits_and_both_apply_whole(hub: Hub) -> None:
    store = hub.store
    contents = {"a": [accommodation_frame(1, 2_000, tag=" a")], "b": [accommodation_frame(1_001, 2_000, tag=" b")]}
    results: dict[str, loads.LoadResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            dataset = store.catalog.dataset("accommodation")
            # the second replaces half the first's rows: more than the shrink guard lets through unconfirmed
            plan = LoadPlan.make(dataset, allow_shrink=True)
            with Loader(store, dataset, {"source_name": f"{name}.csv"}, plan=plan) as loader:
                for frame in contents[name]:
                    loader.stage(frame)
                start.wait()
                results[name] = loader.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(r.version for r in results.values()) == [1, 2]
    dataset = store.catalog.dataset("accommodation")
    for name, result in results.items():
        rows = query.records(store, dataset, Query(limit=5_000, version=result.version)).rows
        assert {r["name"] for r in rows} == {f"Khách sạn Đồng Nai {i} {name}" for i in
                                             range(1 if name == "a" else 1_001, (1 if name == "a" else 1_001) + 2_000)}


def test_load_refused_with_clear_message_while_another_holds_the_dataset(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    store = hub.store
    dataset = store.catalog.dataset("accommodation")
    monkeypatch.setattr(store, "lock_timeout", 1)
    holding, release = threading.Event(), threading.Event()

    def other_load() -> None:  # another process applying a load of the same dataset, taking its time
        with store.engine.connect() as conn, locked_transaction(store, conn, "accommodation"):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=other_load)
    with pytest.raises(LoadConflict) as refused, Loader(store, dataset, {"source_name": "second.csv"}) as loader:
        loader.stage(accommodation_frame(1, 100))
        holder.start()
        assert holding.wait(30)
        try:
            loader.commit()
        finally:
            release.set()
    holder.join()
    assert "đang được nạp bởi tiến trình khác" in refused.value.bilingual()
    assert "is being loaded by another process" in refused.value.bilingual()
    assert store.current_version("accommodation") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.table("accommodation"))).scalar() == 0
    last = versions.loads(store, "accommodation")[0]
    assert last["status"] == "failed" and "LoadConflict" in last["error"]


def test_first_load_failing_part_way_leaves_nothing_behind(hub: Hub) -> None:
    store = hub.store
    dataset = store.catalog.dataset("accommodation")
    with pytest.raises(RuntimeError), Loader(store, dataset, {"source_name": "broken.csv"}) as loader:
        loader.stage(accommodation_frame(1, 3_000))
        loader.reject(pd.DataFrame({"code": ["x"], "_row": [2], "_errors": [["bad"]]}))
        loader.stage(accommodation_frame(3_001, 3_000))
        raise RuntimeError("the validator crashed")
    assert store.current_version("accommodation") is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.table("accommodation"))).scalar() == 0
        assert not [t for t in sa.inspect(conn).get_table_names() if "__load_" in t]
    last = versions.loads(store, "accommodation")[0]
    assert last["status"] == "failed" and "validator crashed" in last["error"]
    assert _load(store, [accommodation_frame(1, 100)], "good.csv").version == 1  # and the next load works
