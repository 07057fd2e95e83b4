"""Loads on both backends: versions, unchanged re-ingest, atomicity."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from publish import query, versions
from publish.context import Hub
from publish.loads import REJECTS_KEPT, Loader
from publish.query import Query
from tests.publish.conftest import (
    SAMPLES,
    accommodation_frame,
    ingest,
    load_units,
    planner_rows,
    read_rows,
    write_rows,
)


def test_sample_loads_as_version_one_with_every_row(units_loaded: Hub) -> None:
    hub = units_loaded
    source = read_rows(SAMPLES / "heritage-sites.csv")
    outcome = ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
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
    ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    with hub.store.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    again = ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    assert again.load.status == "unchanged"
    assert again.load.version is None
    with hub.store.engine.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    assert after == before
    assert hub.store.current_version("heritage-sites") == 1


def test_edited_file_becomes_next_version_and_old_version_stays_readable(units_loaded: Hub, tmp_path: Path) -> None:
    hub = units_loaded
    dataset = hub.catalog.dataset("heritage-sites")
    ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    rows = read_rows(SAMPLES / "heritage-sites.csv")
    old_name = rows[0]["name"]
    rows[0]["name"] = old_name + " (đã sửa)"
    removed = rows.pop()
    outcome = ingest(hub, "heritage-sites", write_rows(tmp_path / "heritage-sites.csv", rows))
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
    ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
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
    ingest(hub, "heritage-sites", SAMPLES / "heritage-sites.csv")
    dataset = hub.catalog.dataset("heritage-sites")
    row = next(r for r in read_rows(SAMPLES / "heritage-sites.csv") if r["lat"])
    record = query.get_record(hub.store, dataset, row["code"])
    lon, lat = record["_geometry"]["coordinates"]
    assert (round(lon, 5), round(lat, 5)) == (round(float(row["lon"]), 5), round(float(row["lat"]), 5))


def test_awkward_text_and_numbers_are_stored_exactly_and_recognised_unchanged(hub: Hub) -> None:
    """Values PostgreSQL's COPY text format would misread unescaped (backslashes, line breaks, tabs, the
    column delimiter, a literal '\\N') come back exactly, and reloading them changes nothing."""
    awkward = ["a\\b", "dòng\nmới", "tab\there", "\\N", "x\x1fy", "cr\r", "", "  đầu cuối  ", "Hòa\\\\n"]
    frame = accommodation_frame(1, len(awkward))
    frame["name"] = pd.array(awkward, dtype="string")
    frame["address"] = pd.array([None, *awkward[1:]], dtype="string")
    frame["lat"] = pd.array([10.123456789012345, 11.0, None, 10.5, 1e-7 + 10, 12.2, 10.6, 10.7, 10.8], dtype="Float64")
    frame["rooms"] = pd.array([0, -1, 2**40, None, 5, 6, 7, 8, 9], dtype="Int64")
    dataset = hub.catalog.dataset("accommodation")

    def load(frames: list[pd.DataFrame]) -> object:
        with Loader(hub.store, dataset, {"source_name": "awkward.csv"}) as loader:
            for batch in frames:
                loader.stage(batch)
            return loader.commit()

    assert load([frame.iloc[:4], frame.iloc[4:]]).version == 1
    rows = query.records(hub.store, dataset, Query(limit=100, with_geometry=True)).rows
    by_code = {r["code"]: r for r in rows}
    for i, source in enumerate(frame.to_dict("records")):
        stored = by_code[source["code"]]
        for name in ("name", "address", "lat", "rooms"):
            expected = None if pd.isna(source[name]) else source[name]
            assert stored[name] == expected, (name, stored[name], expected)
        point = stored["_geometry"]
        assert (point is None) == pd.isna(source["lat"]), i
        if point:
            assert point["coordinates"] == pytest.approx([source["lon"], source["lat"]], abs=1e-9)  # GeoJSON rounds
    again = load([frame])
    assert again.status == "unchanged" and again.rows_unchanged == len(awkward)
    frame.loc[0, "name"] = "a\\b (sửa)"
    changed = load([frame])
    assert (changed.version, changed.rows_changed, changed.rows_unchanged) == (2, 1, len(awkward) - 1)


def test_spatial_index_of_a_first_load_finds_exactly_the_points_in_a_box(hub: Hub) -> None:
    """A first load builds the spatial index in one go (SpatiaLite: the R*Tree written packed); it is a valid
    index that later loads keep maintaining, and box queries through it find exactly the points inside."""
    dataset = hub.catalog.dataset("accommodation")
    frame = accommodation_frame(1, 3_000)
    frame["lon"] = pd.array([106.4 + (i * 7919 % 3000) / 2500 for i in range(3_000)], dtype="Float64")
    frame.loc[::97, "lat"] = None  # some rows have no point
    with Loader(hub.store, dataset, {"source_name": "points.csv"}) as loader:
        loader.stage(frame.iloc[:1_700])
        loader.stage(frame.iloc[1_700:])
        assert loader.commit().version == 1
    edited = frame.copy()
    edited.loc[:99, "lon"] = 107.9  # moved out of every box below
    with Loader(hub.store, dataset, {"source_name": "moved.csv"}) as loader:
        loader.stage(edited)
        assert loader.commit().rows_changed == 100
    if hub.store.dialect == "sqlite":
        with hub.store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT rtreecheck('idx_ds_accommodation__geom')").scalar() == "ok"
    points = {r["code"]: (r["lon"], r["lat"]) for r in edited.to_dict("records") if not pd.isna(r["lat"])}
    for box in [(106.5, 10.7, 107.0, 11.2), (106.4, 10.6, 107.6, 11.6), (107.3, 10.6, 107.4, 10.65)]:
        expected = {c for c, (x, y) in points.items() if box[0] <= x <= box[2] and box[1] <= y <= box[3]}
        rows = query.records(hub.store, dataset, Query(bbox=box, limit=5_000)).rows
        assert {r["code"] for r in rows} == expected and expected


def test_planner_has_statistics_of_the_new_version_after_each_load(hub: Hub, units_frame: pd.DataFrame) -> None:
    """Without statistics the planner plans for an empty table (or the previous, smaller one) until
    autovacuum passes, if ever (SQLite never gathers them by itself). Covered: a staged first load (communes),
    a first load straight into a new table (PostgreSQL, points) and an applied later load."""
    store = hub.store
    assert load_units(hub, units_frame).version == 1
    assert planner_rows(store, "ds_admin_units") == len(units_frame)
    dataset = hub.catalog.dataset("accommodation")
    for frame, rows in ((accommodation_frame(1, 3_000), 3_000),
                        (accommodation_frame(1, 5_000, tag=" (sửa)"), 8_000)):  # 3,000 closed, 5,000 current
        with Loader(store, dataset, {"source_name": "accommodation.csv"}) as loader:
            loader.stage(frame)
            assert loader.commit().version is not None
        assert planner_rows(store, "ds_accommodation") == rows
    if store.dialect == "sqlite":  # SpatiaLite's R*Tree and its bookkeeping are left as they were
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT rtreecheck('idx_ds_accommodation__geom')").scalar() == "ok"
            assert conn.exec_driver_sql("SELECT CheckSpatialIndex('ds_accommodation', '_geom')").scalar() == 1


def test_invalid_rows_between_batches_are_all_kept_with_the_load(hub: Hub) -> None:
    """Every batch brings valid and invalid rows (a quarantine load): each invalid row is kept with its load,
    however many there are, and every valid row is in the new version (first load and a later one)."""
    store, dataset = hub.store, hub.catalog.dataset("accommodation")
    batches, bad = 4, REJECTS_KEPT // 2 + 7  # kept in memory past one batch, copied part way and at the commit
    for run, tag in enumerate(("", " (sửa)")):
        with Loader(store, dataset, {"source_name": "accommodation.csv"}) as loader:
            for b in range(batches):
                loader.stage(accommodation_frame(1 + b * 100, 100, tag=tag))
                first = 1 + run * 100_000 + b * bad
                loader.reject(pd.DataFrame({"code": [f"X-{i}" for i in range(first, first + bad)],
                                            "_row": list(range(first, first + bad)), "_errors": [["bad"]] * bad}))
            result = loader.commit()
        assert (result.version, result.rows_rejected) == (run + 1, batches * bad)
        with store.engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT row_number FROM hub_rejected_rows WHERE load_id = :l ORDER BY 1"),
                                {"l": result.load_id}).scalars().all()
        assert kept == list(range(1 + run * 100_000, 1 + run * 100_000 + batches * bad))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM ds_accommodation WHERE _to IS NULL").scalar() == batches * 100


@pytest.mark.parametrize("backend", ["postgis"])
def test_every_field_a_query_can_filter_on_has_statistics_after_a_load(hub: Hub) -> None:
    """The planner knows each filterable field's values (API filters, search, versions, boxes) after a first
    load and after a later one; only the row hash, which no query filters on, is left unsampled."""
    store, dataset = hub.store, hub.catalog.dataset("accommodation")
    wanted = {"_id", "_key", "_from", "_to", "_search", "_geom", *dataset.schema.field_names}
    for tag in ("", " (sửa)"):
        with Loader(store, dataset, {"source_name": "accommodation.csv"}) as loader:
            loader.stage(accommodation_frame(1, 2_000, tag=tag))
            assert loader.commit().version is not None
        with store.engine.connect() as conn:
            sampled = set(conn.execute(sa.text("SELECT attname FROM pg_stats WHERE tablename = 'ds_accommodation' "
                                            "AND schemaname = current_schema()"))
                          .scalars())
            estimate = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) SELECT * FROM ds_accommodation "
                                            "WHERE star_rank = 3 AND _to IS NULL").scalar()
        assert wanted - {"_to"} <= sampled and "_hash" not in sampled  # _to: all NULL at first, no row of stats needed
        assert estimate[0]["Plan"]["Plan Rows"] == pytest.approx(400, rel=0.25)  # 2,000 current rows, one in five


def test_the_stored_report_is_the_reports_json_text(units_loaded: Hub) -> None:
    """hub_loads.report is json.dumps' text of the report, Vietnamese as it is, stored as text on both backends
    (SQLite gets it as UTF-8 bytes cast to TEXT, PostgreSQL as a text parameter in binary format: its UTF-8
    bytes; issue 21's peak memory)."""
    import json

    hub = units_loaded
    outcome = ingest(hub, "accommodation", SAMPLES / "messy" / "accommodation.csv")
    assert outcome.report["tasks"][0]["errors"]  # the messy sample breaks its schema
    loads = sa.table("hub_loads", sa.column("id"), sa.column("report"))
    with hub.store.engine.connect() as conn:
        text = conn.execute(sa.select(loads.c.report).where(loads.c.id == outcome.load.load_id)).scalar_one()
        if hub.store.dialect == "sqlite":
            assert conn.exec_driver_sql("SELECT typeof(report) FROM hub_loads WHERE id = ?",
                                        (outcome.load.load_id,)).scalar() == "text"
    assert isinstance(text, str) and text == json.dumps(outcome.report, ensure_ascii=False, default=str)
    assert any(ord(c) > 127 for c in text)  # not escaped
