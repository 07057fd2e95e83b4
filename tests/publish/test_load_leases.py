"""Loads are known by host, boot, PID namespace and PID, and by their heartbeat (publish/leases.py): a live
load elsewhere is never marked failed, a dead one is, on both backends."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from publish import leases, tables
from publish.context import Hub
from publish.loads import Loader
from publish.store import utcnow
from tests.ops.conftest import require
from tests.publish.conftest import ROOT, accommodation_frame, hub_env

ME = leases.Identity.current()


def status(hub: Hub, load_id: int) -> dict:
    with hub.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(tables.loads).where(tables.loads.c.id == load_id)).one()._mapping)


def running_load(hub: Hub, *, host: str, boot_id: str | None, pid_ns: str | None, pid: int, beat_ago: float) -> int:
    """A `running` hub_loads entry as another process would have written it."""
    now = utcnow()
    with hub.store.engine.begin() as conn:
        return conn.execute(tables.loads.insert().values(
            dataset="accommodation", status="running", started_at=now - timedelta(hours=1), host=host,
            boot_id=boot_id, pid_ns=pid_ns, pid=pid, heartbeat_at=now - timedelta(seconds=beat_ago),
        )).inserted_primary_key[0]


def finished_pid() -> int:
    """The PID of a process that has ended (here, in this PID namespace)."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_recovery_tells_live_loads_elsewhere_from_dead_ones(hub: Hub) -> None:
    loads = {
        "other host, beating": running_load(hub, host="hub-b", boot_id="x", pid_ns="pid:[1]", pid=1, beat_ago=5),
        "other host, silent": running_load(hub, host="hub-b", boot_id="x", pid_ns="pid:[1]", pid=1, beat_ago=600),
        # a container on this machine: its pid 1 is alive here too, which said nothing
        "other namespace, beating": running_load(hub, host=ME.host, boot_id=ME.boot_id, pid_ns="pid:[7]", pid=1,
                                                 beat_ago=5),
        "other namespace, silent": running_load(hub, host=ME.host, boot_id=ME.boot_id, pid_ns="pid:[7]", pid=1,
                                                beat_ago=600),
        "this machine, before a reboot": running_load(hub, host=ME.host, boot_id="an-earlier-boot", pid_ns=ME.pid_ns,
                                                      pid=os.getpid(), beat_ago=5),
        "here, process gone": running_load(hub, host=ME.host, boot_id=ME.boot_id, pid_ns=ME.pid_ns,
                                           pid=finished_pid(), beat_ago=5),
        "here, process alive": running_load(hub, host=ME.host, boot_id=ME.boot_id, pid_ns=ME.pid_ns,
                                            pid=os.getpid(), beat_ago=600),
    }
    assert hub.store.recover_interrupted_loads() == 4
    found = {name: status(hub, load_id)["status"] for name, load_id in loads.items()}
    assert found == {"other host, beating": "running", "other host, silent": "failed",
                     "other namespace, beating": "running", "other namespace, silent": "failed",
                     "this machine, before a reboot": "failed", "here, process gone": "failed",
                     "here, process alive": "running"}


def test_a_load_beats_while_it_runs_and_a_commit_clears_a_stale_error(hub: Hub) -> None:
    dataset = hub.catalog.dataset("accommodation")
    with Loader(hub.store, dataset, {"source_name": "a.csv"}) as loader:
        loader._heartbeat.stop()  # noqa: SLF001 - restarted faster, for the test's patience
        loader._heartbeat = leases.Heartbeat(hub.store.engine, loader.load_id, 0.1).start()  # noqa: SLF001
        first = status(hub, loader.load_id)
        assert (first["host"], first["boot_id"], first["pid_ns"], first["pid"]) == (ME.host, ME.boot_id, ME.pid_ns,
                                                                                    os.getpid())
        loader.stage(accommodation_frame(1, 50))
        deadline = time.monotonic() + 30
        while status(hub, loader.load_id)["heartbeat_at"] <= first["heartbeat_at"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert hub.store.recover_interrupted_loads(stale_after=timedelta(seconds=0)) == 0  # alive here: kept
        result = loader.commit()
    row = status(hub, result.load_id)
    assert row["status"] == "committed" and row["error"] is None


def test_a_load_in_another_pid_namespace_is_kept_while_alive_and_failed_once_killed(units_loaded: Hub,
                                                                                    tmp_path: Path) -> None:
    """The load runs as pid 1-2 of its own PID namespace (as in a container): recovery here must not take its
    PID for one of ours; killed with -9, it is failed once its heartbeat is stale. Without root and unshare
    the test is skipped, and fails under CI (tests/ops/conftest.py `require`)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        require("a PID namespace needs root and unshare")
    hub = units_loaded  # the communes the rows point at
    from tests.publish.test_atomicity import _big_travel_agencies

    big = _big_travel_agencies(tmp_path / "travel-agencies.csv", 20_000)
    staged = tmp_path / "staged"
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", sys.executable, "-m",
                                "tests.publish.paused_load", str(staged), "ingest", "travel-agencies", str(big)], env=hub_env(hub), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not staged.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with hub.store.engine.connect() as conn:
            row = conn.execute(sa.select(tables.loads).where(tables.loads.c.status == "running")).one()
        assert row.pid_ns != ME.pid_ns and row.pid <= 3  # a PID of its namespace, meaningless here
        assert hub.store.recover_interrupted_loads() == 0
        assert status(hub, row.id)["status"] == "running"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        time.sleep(1.5)
        assert hub.store.recover_interrupted_loads(stale_after=timedelta(seconds=1)) == 1
        assert status(hub, row.id)["status"] == "failed"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
