"""Harvest declarations are checked when the catalogue loads; the CLI runs a harvest and shows its history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from core.catalog import load_catalog
from core.errors import CatalogError
from tests.ckan.conftest import write_catalog
from tests.harvest.conftest import DATASET


def catalogue_with(tmp_path: Path, spec: Any) -> Path:
    path = write_catalog(tmp_path / "catalog")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in raw["datasets"] if e["id"] == DATASET)["harvest"] = spec
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("spec", "needle"), [
    ({"kind": "ftp", "url": "ftp://x"}, "kind must be one of"),
    ({"kind": "http"}, "needs «url»"),
    ({"kind": "http", "url": "http://x", "auth": {"header": "Authorization", "token": "abc"}}, "must not hold a secret"),
    ({"kind": "ckan", "url": "http://x", "package": "p", "resource": "csv", "api_key": "k"}, "must not hold a secret"),
    ({"kind": "http", "url": "http://x", "auth": {"header": "Authorization"}}, "auth needs «env»"),
    ({"kind": "http", "url": "http://x", "paging": {"style": "cursor"}}, "needs «next»"),
    ({"kind": "http", "url": "http://x", "paging": {"style": "scroll"}}, "paging.style must be one of"),
    ({"kind": "http", "url": "http://x", "fields": {"ma": "khong_co"}}, "maps to a missing field «khong_co»"),
    ({"kind": "folder", "path": "/tmp/x", "schedule": "every day"}, "is not a cron expression"),
])
def test_bad_declarations_stop_the_catalogue(tmp_path: Path, spec: dict[str, Any], needle: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalogue_with(tmp_path, spec))
    assert needle in caught.value.message("en") and DATASET in caught.value.message("vi")


def test_cli_harvest_and_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.cli import cli
    from tests.harvest.conftest import sample_rows
    from tests.harvest.test_folder import drop

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    catalog = catalogue_with(tmp_path, {"kind": "folder", "path": str(inbox), "stable_seconds": 1,
                                        "schedule": "*/5 * * * *"})
    monkeypatch.setenv("HUB_CATALOG_PATH", str(catalog))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("HUB_STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("HUB_SECRET_KEY", "test-secret")
    runner = CliRunner()
    units = load_catalog(catalog).dataset("admin-units")
    assert runner.invoke(cli, ["ingest", "admin-units", str(units.source)]).exit_code == 0
    drop(inbox, "one.csv", sample_rows())
    dry = runner.invoke(cli, ["harvest", DATASET, "--dry-run", "--json"])
    assert dry.exit_code == 0 and json.loads(dry.output)["status"] == "dry-run"
    assert (inbox / "one.csv").exists()  # a dry run takes nothing away
    done = runner.invoke(cli, ["harvest", "--due", "--json"])
    assert done.exit_code == 0 and json.loads(done.output)[0]["status"] == "committed"
    again = runner.invoke(cli, ["harvest", "--due", "--json"])
    assert json.loads(again.output) == []  # that slot is done
    drop(inbox, "half.csv", sample_rows()[:10])
    failed = runner.invoke(cli, ["harvest", DATASET])
    assert failed.exit_code == 5 and "remove 50 of the 60 published records" in failed.output
    history = json.loads(runner.invoke(cli, ["harvest", "--history", DATASET, "--json"]).output)
    assert [h["status"] for h in history] == ["failed", "committed", "dry-run"]
    sources = json.loads(runner.invoke(cli, ["harvest", "--sources", "--json"]).output)
    assert sources[0]["last_failure"]["error_vi"] and sources[0]["last_success"]["version"] == 1
    assert sources[0]["next_run"]
