"""A watched folder as a source: a stable file is taken once, then moved to done/ or failed/."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from publish.harvest import run
from publish.query import count_current
from tests.harvest.conftest import DATASET, sample_rows, write_csv


def drop(folder: Path, name: str, rows: list[dict[str, str]], *, age: float = 60) -> Path:
    path = write_csv(folder / name, rows)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_watched_folder(harvest_hub: Any, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hub = harvest_hub({"kind": "folder", "path": str(inbox), "pattern": "*.csv", "stable_seconds": 5})
    dataset = hub.catalog.dataset(DATASET)
    rows = sample_rows()

    assert run.harvest(hub.store, DATASET)["status"] == "unchanged"  # nothing dropped yet: nothing to do
    drop(inbox, "bien-hoa-1.csv", rows)
    first = run.harvest(hub.store, DATASET)
    assert first["status"] == "committed" and first["version"] == 1
    assert (inbox / "done" / "bien-hoa-1.csv").exists() and not (inbox / "bien-hoa-1.csv").exists()

    drop(inbox, "bien-hoa-2.csv", rows)  # the same content again
    again = run.harvest(hub.store, DATASET)
    assert again["status"] == "unchanged" and hub.store.current_version(DATASET) == 1
    assert (inbox / "done" / "bien-hoa-2.csv").exists()

    drop(inbox, "still-writing.csv", rows[:5], age=0)  # not stable yet: left alone
    changed = [dict(r) for r in rows]
    changed[0]["status"] = "tam_ngung" if changed[0]["status"] != "tam_ngung" else "dang_hoat_dong"
    drop(inbox, "bien-hoa-3.csv", changed)
    third = run.harvest(hub.store, DATASET)
    assert third["status"] == "committed" and third["version"] == 2
    assert (inbox / "still-writing.csv").exists()
    (inbox / "still-writing.csv").unlink()

    drop(inbox, "half.csv", rows[:25])
    half = run.harvest(hub.store, DATASET)
    assert half["status"] == "failed" and "25 rows against 60" in half["error_en"]
    assert (inbox / "failed" / "half.csv").exists()
    assert hub.store.current_version(DATASET) == 2 and count_current(hub.store, dataset) == 60
