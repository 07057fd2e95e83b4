"""Scheduled harvests: two workers ticking together harvest a due source once; a harvest killed in the middle
leaves nothing loaded and the next run succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.config import PROJECT_ROOT
from publish.harvest import run
from publish.harvest.tables import harvests
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
