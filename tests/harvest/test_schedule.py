"""Scheduled harvests: two workers ticking together harvest a due source once; a harvest killed in the middle
leaves nothing loaded and the next run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.config import PROJECT_ROOT
from publish import leases, schedule
from publish.harvest import run
from publish.harvest.base import HarvestFailed
from publish.harvest.tables import harvests
from publish.store import utcnow
from tests.harvest.conftest import DATASET, TOKEN, OneStop
from tests.harvest.test_http import spec_for


def test_two_workers_one_harvest(harvest_hub: Any, one_stop: OneStop) -> None:
    hub = harvest_hub(spec_for(one_stop, schedule="*/5 * * * *"))
    results: dict[str, list[dict[str, Any]]] = {}
    start = threading.Barrier(2)

    def tick(name: str) -> None:
        start.wait()
        results[name] = run.tick(hub.store, worker=name)

    threads = [threading.Thread(target=tick, args=(f"worker-{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done = results["worker-1"] + results["worker-2"]
    assert [d["status"] for d in done] == ["committed"]
    assert [h["status"] for h in run.history(hub.store, DATASET)] == ["committed"]
    assert run.tick(hub.store, worker="worker-3") == []  # that slot is done


def test_killed_mid_harvest_then_next_run_succeeds(harvest_hub: Any, one_stop: OneStop, tmp_path: Path) -> None:
    hub = harvest_hub(spec_for(one_stop, timeout=60))
    one_stop.mode = "slow"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HUB_DATABASE_URL": hub.settings.database_url,
           "HUB_CATALOG_PATH": str(hub.settings.catalog_path), "HUB_STORAGE_DIR": str(tmp_path / "storage"),
           "HUB_SECRET_KEY": "test-secret", "HUB_TEST_ONESTOP_TOKEN": TOKEN}
    child = subprocess.Popen([sys.executable, "-m", "hub", "harvest", DATASET], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not one_stop.seen and time.monotonic() < deadline:  # the child is inside its first request
            time.sleep(0.1)
        assert one_stop.seen
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(harvests.c.status)).scalars().all() == ["running"]
    one_stop.mode = "ok"
    row = run.harvest(hub.store, DATASET)
    assert row["status"] == "committed" and row["version"] == 1
    history = run.history(hub.store, DATASET)
    assert [h["status"] for h in history] == ["committed", "failed"]
    assert "stopped before it finished" in history[1]["error_en"]


def _held_by(hub: Any, holder: str, lease_for: timedelta) -> int:
    """The harvest lock and a running attempt as a harvest of `holder` leaves them when it dies."""
    now = utcnow()
    with hub.store.engine.begin() as conn:
        conn.execute(schedule.claims.delete().where(schedule.claims.c.task == f"harvest-run:{DATASET}"))
        conn.execute(schedule.claims.insert().values(task=f"harvest-run:{DATASET}", slot="-", status="running",
                                                     worker=holder, claimed_at=now, lease_until=now + lease_for))
        return conn.execute(harvests.insert().values(dataset=DATASET, kind="http", status="running", started_at=now,
                                                     worker=holder)).inserted_primary_key[0]


def test_a_dead_holder_elsewhere_is_waited_out_one_here_is_taken_over_at_once(harvest_hub: Any,
                                                                             one_stop: OneStop) -> None:
    """A harvest lock held by a process on another host (or in another PID namespace) may belong to a live
    harvest: it is waited out until its lease ends, never broken early, and then taken over. One held by a
    process of this machine that is gone is taken over at once."""
    from tests.ops.test_jobs import dead_pid

    hub = harvest_hub(spec_for(one_stop))
    me = leases.Identity.current()
    gone = dead_pid()
    container = leases.Identity(me.host, me.boot_id, "pid:[7]", gone)  # its PID means nothing here
    _held_by(hub, container.holder(), timedelta(hours=1))
    with pytest.raises(HarvestFailed) as busy:
        run.harvest(hub.store, DATASET)
    assert busy.value.code == "harvest-busy" and f"{me.host}:{gone}" in busy.value.message("en")
    with hub.store.engine.begin() as conn:
        conn.execute(harvests.delete())

    elsewhere = leases.Identity("hub-b", "another-boot", "pid:[4026531836]", gone)  # another host
    attempt = _held_by(hub, elsewhere.holder(), timedelta(seconds=3))
    with pytest.raises(HarvestFailed):
        run.harvest(hub.store, DATASET)
    deadline = time.monotonic() + 60  # its lease runs out 3 s after it was written
    while (row := _attempt(hub, attempt))["status"] == "running" and time.monotonic() < deadline:
        try:
            assert run.harvest(hub.store, DATASET)["status"] == "committed"
        except HarvestFailed:
            time.sleep(0.2)
    assert row["status"] == "failed" and "stopped before it finished" in row["error_en"]
    assert row["finished_at"] >= row["started_at"] + timedelta(seconds=3)  # not before the lease ended

    attempt = _held_by(hub, me.with_pid(gone).holder(), timedelta(hours=1))  # here, and gone: no waiting
    assert run.harvest(hub.store, DATASET)["status"] == "unchanged"
    assert _attempt(hub, attempt)["status"] == "failed"


def _attempt(hub: Any, attempt: int) -> dict[str, Any]:
    with hub.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(harvests).where(harvests.c.id == attempt)).one()._mapping)
