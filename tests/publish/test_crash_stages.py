"""kill -9 at every named stage of a load (publish/crash.py), on both backends: the real `hub ingest` dies by
SIGKILL at the stage; before the commit the previous version stays served byte for byte with nothing of the
new one visible, after it the new version is served whole; either way nothing is left behind, the next command
marks the dead load failed, and the next ingest of the same file succeeds.

Also: a first (bulk) load killed just before its commit, and a load refused by a held dataset lock (exit 7).

One hub per backend for the module: each test ingests whichever of two files (the sample, and an edited copy)
is not the current version, so the tests hold in any order and alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from core.config import Settings
from publish import pipeline, versions
from publish.context import Hub
from publish.crash import STAGES
from publish.locks import locked_transaction
from tests.conftest import BACKENDS, database_url, drop_schema
from tests.publish.conftest import ROOT, SAMPLES, hub_env, load_units
from tests.publish.snapshot import later_rows, leftover_tables, load_connections, stored_rows, version_bytes

DATASET = "sports-venues"
AFTER_COMMIT = ("committed", "reported")
REPORT_FILES = ("report.json", "report.html", "rows-to-fix.xlsx")


@dataclass
class Served:
    """A hub serving the dataset, the two files the tests load in turn, and what each file's version holds."""

    hub: Hub
    files: dict[str, Path]
    holds: dict[str, bytes]

    @property
    def store(self):  # noqa: ANN201
        return self.hub.store

    def current(self) -> tuple[int, str]:
        """The served version and which file it came from."""
        version = self.store.current_version(DATASET)
        assert version is not None
        held = stored_rows(self.store, DATASET, version, bookkeeping=False)
        return version, next(name for name, holds in self.holds.items() if holds == held)


def edited_sample(path: Path) -> Path:
    """The sample with one venue renamed and the last one gone: a version that changes, closes and keeps rows."""
    lines = (SAMPLES / "sports-venues.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(lines[:-1]).replace("Sân vận động Đồng Nai", "Sân vận động tỉnh Đồng Nai", 1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           units_frame: pd.DataFrame) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"crash-{request.param}")
    url, schema = database_url(request.param, tmp)
    hub = Hub.open(Settings(database_url=url, storage_dir=tmp / "storage", secret_key="test-secret"), init=True)
    try:
        load_units(hub, units_frame)
        files = {"sample": SAMPLES / "sports-venues.csv", "edited": edited_sample(tmp / "sports-venues-edited.csv")}
        holds = {}
        for name, path in files.items():
            outcome = pipeline.run(hub.store, DATASET, path)
            assert outcome.status == "committed", outcome.report.get("errors")
            holds[name] = stored_rows(hub.store, DATASET, outcome.load.version, bookkeeping=False)
        assert holds["sample"] != holds["edited"]
        yield Served(hub, files, holds)
    finally:
        hub.store.dispose()
        drop_schema(schema)


def hub_ingest(served: Served, path: Path, *extra: str, dataset: str = DATASET,
               **env: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the real `hub ingest` on the served hub; its result and its PID."""
    process = subprocess.Popen([sys.executable, "-m", "hub", "ingest", dataset, str(path), *extra],
                               env={**hub_env(served.hub), **env}, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), process.pid


def wait_until_gone(served: Served, application: str) -> None:
    """PostgreSQL ends a dead client's session (rolling its transaction back) once it notices the closed
    socket; wait for that, so what follows sees no lock of it."""
    deadline = time.monotonic() + 60
    while load_connections(served.store, application):
        assert time.monotonic() < deadline, "the killed load's PostgreSQL session never ended"
        time.sleep(0.05)


@pytest.mark.parametrize("stage", list(STAGES))
def test_load_killed_at_stage_leaves_previous_version_byte_for_byte_and_next_load_works(
        served: Served, stage: str, tmp_path: Path) -> None:
    store = served.store
    version, current = served.current()
    other = "edited" if current == "sample" else "sample"
    before = version_bytes(store, DATASET, version)
    application = f"hub-crash-{os.getpid()}-{stage}"  # names the load's PostgreSQL connections
    out = tmp_path / "out"

    done, pid = hub_ingest(served, served.files[other], "--out", str(out), HUB_CRASH_AT=stage, PGAPPNAME=application)
    assert done.returncode == -signal.SIGKILL, f"not killed at {stage}: exit {done.returncode}\n{done.stderr}"
    wait_until_gone(served, application)

    # the version that was served is still there, byte for byte, whatever the stage
    assert version_bytes(store, DATASET, version) == before
    last = versions.loads(store, DATASET)[0]
    if stage in AFTER_COMMIT:  # the new version is whole: every row of the file, the load committed
        assert store.current_version(DATASET) == version + 1
        assert stored_rows(store, DATASET, version + 1, bookkeeping=False) == served.holds[other]
        assert (last["status"], last["version"]) == ("committed", version + 1)
        assert later_rows(store, DATASET, version + 1) == 0
        written = sorted(p.name for p in out.iterdir()) if out.exists() else []
        assert written == (sorted(REPORT_FILES) if stage == "reported" else [])  # whole files or none, no .part
        if stage == "reported":
            assert json.loads((out / "report.json").read_text(encoding="utf-8"))["hub"]["dataset"] == DATASET
    else:  # nothing of the new version is visible; the history says a load is running (its process is gone)
        assert store.current_version(DATASET) == version
        assert stored_rows(store, DATASET, version, bookkeeping=False) == served.holds[current]
        assert later_rows(store, DATASET, version) == 0
        assert last["status"] == "running"
        assert not out.exists()
    assert leftover_tables(store, pid) == []

    after = Hub.open(served.hub.settings, init=True)  # what the next `hub` command does first
    try:
        dead = versions.loads(after.store, DATASET)[0]
        assert dead["id"] == last["id"]
        if stage in AFTER_COMMIT:
            assert dead["status"] == "committed"
            again = pipeline.run(after.store, DATASET, served.files[other])  # the same file: nothing to do
            assert again.status == "unchanged"
            assert after.store.current_version(DATASET) == version + 1
        else:
            assert dead["status"] == "failed" and "stopped before it finished" in dead["error"]
            again = pipeline.run(after.store, DATASET, served.files[other])
            assert (again.status, again.load.version) == ("committed", version + 1)
            assert stored_rows(after.store, DATASET, version + 1, bookkeeping=False) == served.holds[other]
        assert version_bytes(after.store, DATASET, version) == before
    finally:
        after.store.dispose()


def test_first_load_killed_before_commit_leaves_no_version_and_no_new_table(served: Served) -> None:
    """A dataset's first load is a bulk load (publish/bulk.py): on PostgreSQL its rows go into a new table
    that replaces the empty one at commit. Killed just before that commit: no version, no rows, no new table,
    and the next ingest publishes version 1."""
    store, dataset = served.store, "travel-agencies"  # a dataset no other test of the module loads
    path = SAMPLES / f"{dataset}.csv"
    assert store.current_version(dataset) is None
    application = f"hub-crash-{os.getpid()}-first"
    done, pid = hub_ingest(served, path, dataset=dataset, HUB_CRASH_AT="applied", PGAPPNAME=application)
    assert done.returncode == -signal.SIGKILL, f"not killed: exit {done.returncode}\n{done.stderr}"
    wait_until_gone(served, application)
    assert store.current_version(dataset) is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.table(dataset))).scalar() == 0
    assert leftover_tables(store, pid) == []
    after = Hub.open(served.hub.settings, init=True)
    try:
        assert versions.loads(after.store, dataset)[0]["status"] == "failed"
        again = pipeline.run(after.store, dataset, path)
        assert (again.status, again.load.version) == ("committed", 1)
    finally:
        after.store.dispose()


def test_load_while_another_holds_the_dataset_lock_exits_7_and_keeps_version_byte_for_byte(served: Served) -> None:
    """A held lock (another load applying; on SQLite any writer): the load gives up after HUB_LOCK_TIMEOUT with
    exit status 7 and one line, is recorded failed, and the served version stays byte for byte."""
    store = served.store
    version, current = served.current()
    other = "edited" if current == "sample" else "sample"
    before = version_bytes(store, DATASET, version)
    with store.engine.connect() as conn, locked_transaction(store, conn, DATASET):
        done, pid = hub_ingest(served, served.files[other], HUB_LOCK_TIMEOUT="2")
    assert done.returncode == 7, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "try again later" in errors[0], done.stderr
    assert store.current_version(DATASET) == version
    assert version_bytes(store, DATASET, version) == before
    assert later_rows(store, DATASET, version) == 0
    with store.engine.connect() as conn:
        running = conn.execute(sa.text("SELECT count(*) FROM hub_loads WHERE status = 'running'")).scalar()
    assert running == 0
    assert leftover_tables(store, pid) == []
