"""Loads on both backends: versions, unchanged re-ingest, atomicity."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from hub import pipeline
from hub.context import Hub
from publish import query, versions
from publish.loads import Loader
from publish.query import Query

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _load(hub: Hub, dataset: str, path: Path) -> pipeline.Outcome:
    return pipeline.run(hub.store, dataset, path, user="tests")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def units_loaded(hub: Hub) -> Hub:
    outcome = _load(hub, "admin-units", SAMPLES / "admin-units.geojson")
    assert outcome.load and outcome.load.status == "committed"
    return hub


def test_sample_loads_as_version_one_with_every_row(units_loaded: Hub) -> None:
    hub = units_loaded
    source = _rows(SAMPLES / "heritage-sites.csv")
    outcome = _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    assert outcome.load.status == "committed"
    assert outcome.load.version == 1
    assert outcome.load.rows_added == len(source)
    page = query.records(hub.store, hub.catalog.dataset("heritage-sites"), Query(limit=1000))
    assert page.total == len(source)
    assert {r["code"] for r in page.rows} == {r["code"] for r in source}
    assert hub.store.current_version("admin-units") == 1


def test_reingesting_unchanged_file_creates_no_new_rows(units_loaded: Hub) -> None:
    hub = units_loaded
    table = hub.store.table("heritage-sites")
    _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    with hub.store.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    again = _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    assert again.load.status == "unchanged"
    assert again.load.version is None
    with hub.store.engine.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    assert after == before
    assert hub.store.current_version("heritage-sites") == 1


def test_edited_file_becomes_next_version_and_old_version_stays_readable(units_loaded: Hub, tmp_path: Path) -> None:
    hub = units_loaded
    dataset = hub.catalog.dataset("heritage-sites")
    _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    rows = _rows(SAMPLES / "heritage-sites.csv")
    old_name = rows[0]["name"]
    rows[0]["name"] = old_name + " (đã sửa)"
    removed = rows.pop()
    outcome = _load(hub, "heritage-sites", _write(tmp_path / "heritage-sites.csv", rows))
    load = outcome.load
    assert (load.version, load.rows_changed, load.rows_removed, load.rows_added) == (2, 1, 1, 0)
    current = query.get_record(hub.store, dataset, rows[0]["code"])
    assert current["name"] == old_name + " (đã sửa)"
    assert query.get_record(hub.store, dataset, rows[0]["code"], version=1)["name"] == old_name
    assert query.get_record(hub.store, dataset, removed["code"], version=1)["code"] == removed["code"]
    with pytest.raises(Exception, match="No record"):
        query.get_record(hub.store, dataset, removed["code"])
    listed = versions.versions(hub.store, "heritage-sites")
    assert [v["version"] for v in listed] == [2, 1]
    assert listed[0]["source_sha256"] and listed[0]["source_name"] == "heritage-sites.csv"


def test_load_that_fails_part_way_leaves_previous_version_served(units_loaded: Hub) -> None:
    hub = units_loaded
    dataset = hub.catalog.dataset("heritage-sites")
    _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    before = query.records(hub.store, dataset, Query(limit=1000)).rows
    frame = pd.DataFrame([{f: None for f in dataset.schema.field_names}])
    frame["code"] = "DT-9999"
    with pytest.raises(RuntimeError), Loader(hub.store, dataset, {"source_name": "broken.csv"}) as loader:
        loader.stage(frame)
        raise RuntimeError("the disk went away")
    assert query.records(hub.store, dataset, Query(limit=1000)).rows == before
    last = versions.loads(hub.store, "heritage-sites")[0]
    assert last["status"] == "failed" and "disk went away" in last["error"]


def test_points_are_stored_as_geometry(units_loaded: Hub) -> None:
    hub = units_loaded
    _load(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    dataset = hub.catalog.dataset("heritage-sites")
    row = next(r for r in _rows(SAMPLES / "heritage-sites.csv") if r["lat"])
    record = query.get_record(hub.store, dataset, row["code"])
    lon, lat = record["_geometry"]["coordinates"]
    assert (round(lon, 5), round(lat, 5)) == (round(float(row["lon"]), 5), round(float(row["lat"]), 5))
