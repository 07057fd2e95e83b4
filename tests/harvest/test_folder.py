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
    assert half["status"] == "failed" and "remove 35 of the 60 published records" in half["error_en"]
    assert (inbox / "failed" / "half.csv").exists()
    assert hub.store.current_version(DATASET) == 2 and count_current(hub.store, dataset) == 60


def test_steward_page_lists_sources_with_last_failure(harvest_hub: Any, tmp_path: Path) -> None:
    import re

    from hub.app import create_app
    from publish import clients

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hub = harvest_hub({"kind": "folder", "path": str(inbox), "stable_seconds": 1, "schedule": "0 2 * * *"})
    drop(inbox, "one.csv", sample_rows())
    assert run.harvest(hub.store, DATASET)["status"] == "committed"
    drop(inbox, "half.csv", sample_rows()[:10])
    assert run.harvest(hub.store, DATASET)["status"] == "failed"
    clients.create_client(hub.store, "harvest-steward", "steward")
    token = clients.issue_key(hub.store, "harvest-steward").token
    app = create_app(hub.settings, hub=hub)
    app.config["TESTING"] = True
    client = app.test_client()
    assert client.get("/steward/harvest").status_code in (302, 303)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/steward/login").get_data(as_text=True)).group(1)
    assert client.post("/steward/login", data={"key": token, "csrf_token": csrf}).status_code == 303
    for lang, reason in (("en", "remove 50 of the 60 published"), ("vi", "sẽ xoá 50 trong 60")):
        page = client.get(f"/steward/harvest?lang={lang}").get_data(as_text=True)
        row = page.split(f'data-dataset="{DATASET}"', 1)[1].split("</tr>", 1)[0]
        assert "folder" in row and "0 2 * * *" in row and " v1" in row and reason in row
