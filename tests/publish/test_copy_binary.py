"""A first PostgreSQL load goes by binary COPY straight into the dataset's new table (publish/copy_binary.py),
its points made by the database. It must store exactly what the staged path stores (the path of every other
load), and a value binary COPY cannot carry must fail the load cleanly: a bilingual error naming the row and
the field, nothing stored, the next load unaffected."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from core.catalog import Schema
from core.errors import ValidationFailed
from publish import copy_binary
from publish.context import Hub
from publish.direct_load import DirectLoad
from publish.loads import DIRECT_SLICE, Loader
from publish.staging import COPY_DELIMITER, copy_text
from tests.conftest import database_url, drop_schema
from tests.hub_copies import Templates
from tests.publish.conftest import accommodation_frame

AWKWARD = ["a\\b", "dòng\nmới", "tab\there", "\\N", "x\x1fy", "cr\r", "", "  Đồng Nai — Biên Hòa  ", "Hòa\\\\n"]


def _heritage_frame(hub: Hub) -> pd.DataFrame:
    """The heritage sample as the validator hands it over (dates, points), with missing values and text
    the COPY text format would need to escape."""
    from ingest import read_table
    from tests.publish.conftest import SAMPLES
    from validate import Validator

    schema = hub.catalog.dataset("heritage-sites").schema
    table = read_table(SAMPLES / "heritage-sites.csv", schema.descriptor)
    validator = Validator(schema.descriptor)
    frame = pd.concat([validator.check(batch)[0] for batch in table.batches()], ignore_index=True)
    texts = [f.name for f in schema.fields if f.type == "string" and f.name not in schema.primary_key]
    for i, text in enumerate(AWKWARD[: len(frame)]):
        frame.loc[i, texts[i % len(texts)]] = text
    frame.loc[len(frame) - 1, texts] = None  # a row with every text missing
    lat = schema.geometry["latitude"]  # type: ignore[index]
    frame.loc[1, lat] = None  # a row without a point
    return frame


def _stored(hub: Hub, dataset: str) -> list[tuple[Any, ...]]:
    """Every stored row as the database has it (the geometry as EWKT), in key order, without `_id`."""
    table = hub.store.table(dataset)
    columns = [c for c in table.c if c.name not in ("_id", "_geom")]
    geometry = [sa.func.ST_AsEWKT(table.c._geom) if hub.store.dialect == "postgresql" else sa.func.AsEWKT(table.c._geom)]
    with hub.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(*columns, *geometry).order_by(table.c._key, table.c._from))]


def _load(hub: Hub, dataset: str, frames: list[pd.DataFrame]) -> Any:
    with Loader(hub.store, hub.catalog.dataset(dataset), {"source_name": f"{dataset}.csv"}) as loader:
        for frame in frames:
            loader.stage(frame)
        return loader.commit()


def test_a_first_load_by_binary_copy_stores_what_the_staged_path_stores(
        backend: str, hub: Hub, templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _heritage_frame(hub)
    half = len(frame) // 2
    direct = _load(hub, "heritage-sites", [frame.iloc[:half], frame.iloc[half:]])
    assert (direct.version, direct.rows_added) == (1, len(frame))
    other = templates.copy("empty", backend, tmp_path / "staged")
    try:
        monkeypatch.setattr(DirectLoad, "possible", staticmethod(lambda *a: False))
        staged = _load(other.hub, "heritage-sites", [frame.iloc[:half], frame.iloc[half:]])
        assert (staged.version, staged.rows_added) == (1, len(frame))
        first = _stored(hub, "heritage-sites")
        assert first == _stored(other.hub, "heritage-sites")
        assert any(None in row for row in first) and any(AWKWARD[1] in row for row in first)
        assert any(isinstance(v, date) for row in first for v in row) and sum(row[-1] is None for row in first) == 1
    finally:
        other.close()
    # the reload after a binary first load: the same file is unchanged, an edited row becomes version 2 with
    # its point made as the staged path makes it (the table's point column is a plain one again)
    assert _load(hub, "heritage-sites", [frame]).status == "unchanged"
    lat = hub.catalog.dataset("heritage-sites").schema.geometry["latitude"]  # type: ignore[index]
    frame.loc[1, lat] = 11.25
    again = _load(hub, "heritage-sites", [frame])
    assert (again.version, again.rows_changed) == (2, 1)
    current = [r for r in _stored(hub, "heritage-sites") if r[3] is None]  # _to IS NULL
    assert sum(row[-1] is not None and "11.25)" in row[-1] for row in current) == 1


@pytest.mark.parametrize("backend", ["postgis"])
def test_a_value_binary_copy_cannot_carry_fails_the_first_load_cleanly_and_bilingually(hub: Hub) -> None:
    dataset = hub.catalog.dataset("accommodation")
    good = accommodation_frame(1, 40)
    bad = accommodation_frame(41, 40)
    bad["_row"] = range(42, 82)  # source row numbers, as the validator numbers them
    bad.loc[bad.index[7], "name"] = "Khách sạn\x00Đồng Nai"  # PostgreSQL's text cannot hold a NUL
    with pytest.raises(ValidationFailed) as raised:
        with Loader(hub.store, dataset, {"source_name": "nul.csv"}) as loader:
            loader.stage(good)
            loader.stage(bad)
            loader.commit()
    error = raised.value
    assert error.context == {"row": 49, "field": "name"}
    assert "Dòng 49, trường 'name'" in error.vi and "Row 49, field 'name'" in error.en and "NUL" in error.en
    with hub.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM ds_accommodation").scalar() == 0
        status, failure = conn.exec_driver_sql("SELECT status, error FROM hub_loads ORDER BY id DESC").first()
        leftovers = conn.exec_driver_sql("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ds_accommodation__load%%'")
        assert leftovers.scalar() == 0
    assert status == "failed" and "Row 49, field 'name'" in failure
    assert hub.store.current_version("accommodation") is None
    assert _load(hub, "accommodation", [good]).version == 1


@pytest.mark.parametrize("backend", ["postgis"])
def test_a_batch_refused_part_way_through_its_copy_never_publishes_its_first_part(hub: Hub) -> None:
    """A big batch goes to the server a slice at a time (publish.loads.DIRECT_SLICE rows); a value refused in
    a later slice comes after earlier slices were sent. Even a caller that goes on to commit must not publish
    those rows: a batch is all or nothing, as when it was sent whole."""
    dataset = hub.catalog.dataset("accommodation")
    good = accommodation_frame(1, 40)
    big = accommodation_frame(41, DIRECT_SLICE + 50)
    big.loc[big.index[DIRECT_SLICE + 20], "name"] = "Khách sạn\x00Đồng Nai"  # in the second slice
    with Loader(hub.store, dataset, {"source_name": "nul.csv"}) as loader:
        loader.stage(good)
        with pytest.raises(ValidationFailed):
            loader.stage(big)
        try:
            loader.commit()
        except sa.exc.DBAPIError:
            pass
    with hub.store.engine.connect() as conn:
        published = conn.exec_driver_sql("SELECT count(*) FROM ds_accommodation WHERE code > 'LT-0000040'").scalar()
    assert published == 0


SCHEMA = Schema({"fields": [{"name": n, "type": t} for n, t in [
    ("code", "string"), ("flag", "boolean"), ("day", "date"), ("moment", "datetime"), ("year", "year"),
    ("count", "integer"), ("share", "number"), ("note", "object")]], "primaryKey": ["code"]}, Path("odd.json"))
TYPES = {"string": "text", "boolean": "boolean", "date": "date", "datetime": "timestamp", "year": "integer",
         "integer": "bigint", "number": "double precision", "object": "text"}


@pytest.fixture
def pg() -> Any:
    url, schema = database_url("postgis", Path("."))
    conninfo = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        yield conn
    drop_schema(schema)


def _through_copy(pg: Any, frame: pd.DataFrame, binary: bool) -> list[tuple[Any, ...]]:
    table = "binary_rows" if binary else "text_rows"
    columns = ", ".join(f'"{f.name}" {TYPES[f.type]}' for f in SCHEMA.fields)
    names = ["_key", "_hash", "_from", "_search", *SCHEMA.field_names]
    with pg.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE {table} (_key text, _hash text, _from integer, _search text, {columns})")
        quoted = ", ".join(f'"{n}"' for n in names)
        if binary:
            with cur.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(copy_binary.SIGNATURE + copy_binary.direct_batch(frame, SCHEMA, version=3) + copy_binary.TRAILER)
        else:
            with cur.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT text, DELIMITER E'\\x{ord(COPY_DELIMITER):02x}')") as copy:
                copy.write(copy_text(frame, SCHEMA, version=3))
        return cur.execute(f"SELECT * FROM {table} ORDER BY _key").fetchall()


def test_binary_copy_reads_every_type_as_the_text_copy_reads_its_canonical_text(pg: Any) -> None:
    hanoi = timezone(timedelta(hours=7))
    frame = pd.DataFrame({
        "code": pd.array(["a", "b", "c", "d"], dtype="string"),
        "flag": pd.array([True, False, None, True], dtype="boolean"),
        "day": [date(2024, 2, 29), None, date(1999, 12, 31), date(2000, 1, 1)],
        "moment": [datetime(2024, 5, 1, 8, 30, 15, 123456), datetime(2020, 1, 1, 23, 0, tzinfo=hanoi), None,
                   date(1975, 4, 30)],
        "year": pd.array([2024, None, 1, -3], dtype="Int64"),
        "count": [3.0, None, -(2**53), 0.0],  # an integer field arriving as floats
        "share": pd.array([0.1, None, 1e-7, -2.5e300], dtype="Float64"),
        "note": [{"k": "Đồng"}, None, [1, 2], "plain"],
    })
    assert _through_copy(pg, frame, binary=True) == _through_copy(pg, frame, binary=False)


@pytest.mark.parametrize(("field", "value", "why"), [
    ("count", 2.5, "is not a whole number"), ("count", "12a", "is not a whole number"),
    ("year", 2**31, "beyond the database's integer range"), ("code", "x\x00y", "NUL character"),
    ("day", "31/12/2024", "not an ISO 8601 date")])
def test_a_value_binary_copy_cannot_carry_is_refused_naming_row_and_field(field: str, value: Any, why: str) -> None:
    frame = pd.DataFrame({n: [None, None] for n in SCHEMA.field_names})
    frame["code"] = ["a", "b"]
    frame["_row"] = [7, 8]
    frame[field] = pd.Series([frame[field].iloc[0], value], dtype=object)
    with pytest.raises(ValidationFailed, match=why) as raised:
        copy_binary.direct_batch(frame, SCHEMA, version=1)
    assert raised.value.context == {"row": 8, "field": field} and raised.value.vi.startswith("Dòng 8, trường")


@pytest.mark.parametrize("backend", ["postgis"])
def test_a_first_load_numbers_its_rows_as_the_sequence_would_and_the_next_load_goes_on_from_there(hub: Hub) -> None:
    """The direct load sends each row's `_id` (the server skips a sequence call per row): 1, 2, ... in the
    order the rows came, across slices, and the table's sequence continues after them."""
    first = accommodation_frame(1, DIRECT_SLICE + 5)
    assert _load(hub, "accommodation", [first.iloc[:7], first.iloc[7:]]).version == 1
    with hub.store.engine.connect() as conn:
        ids = conn.exec_driver_sql("SELECT _id FROM ds_accommodation ORDER BY _key").scalars().all()
    assert ids == list(range(1, len(first) + 1))
    again = _load(hub, "accommodation", [accommodation_frame(1, DIRECT_SLICE + 6)])
    assert (again.version, again.rows_added) == (2, 1)
    with hub.store.engine.connect() as conn:
        added = conn.exec_driver_sql("SELECT _id FROM ds_accommodation WHERE _from = 2").scalars().all()
    assert added == [len(first) + 1]


def _shape(hub: Hub, table: str) -> dict[str, Any]:
    """What a reader, a later load or an operator sees of a table besides its rows."""
    def rows(sql: str) -> list[tuple[Any, ...]]:
        with hub.store.engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(sql), {"t": table}))

    return {
        "indexes": rows("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c "
                        "ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass)"),
        "constraints": rows("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = CAST(:t AS regclass)"),
        "comments": rows("SELECT objsubid, description FROM pg_description WHERE objoid = CAST(:t AS regclass)"),
        "grants": rows("SELECT a.privilege_type, a.grantee FROM pg_class c, aclexplode(c.relacl) a "
                       "WHERE c.oid = CAST(:t AS regclass) AND a.grantee <> c.relowner"),
        "sequence": rows("SELECT pg_get_serial_sequence(:t, '_id')"),
    }


@pytest.mark.parametrize("backend", ["postgis"])
def test_the_table_a_first_load_swaps_in_keeps_the_indexes_comments_and_grants_it_replaces(hub: Hub) -> None:
    with hub.store.engine.begin() as conn:
        conn.exec_driver_sql("GRANT SELECT ON ds_accommodation TO PUBLIC")
    before = _shape(hub, "ds_accommodation")
    assert before["grants"] and len(before["indexes"]) >= 5 and before["comments"]
    assert _load(hub, "accommodation", [accommodation_frame(1, 40)]).version == 1
    assert _shape(hub, "ds_accommodation") == before


@pytest.mark.parametrize("backend", ["postgis"])
def test_indexes_built_while_the_quality_check_runs_give_the_table_the_same_shape_and_rows(hub: Hub) -> None:
    """Loader.index_early (the pipeline calls it once every batch is in): the server builds the indexes and the
    primary key on the new table, and its statistics, before the commit, which renames them; the table ends as
    an ordinary first load leaves it, its rows found through those indexes, and the next load goes on from it."""
    with hub.store.engine.begin() as conn:
        conn.exec_driver_sql("GRANT SELECT ON ds_accommodation TO PUBLIC")
    before = _shape(hub, "ds_accommodation")
    frame = accommodation_frame(1, 40)
    with Loader(hub.store, hub.catalog.dataset("accommodation"), {"source_name": "accommodation.csv"}) as loader:
        loader.stage(frame.iloc[:25])
        loader.stage(frame.iloc[25:])
        loader.index_early()
        assert loader.commit().version == 1
    assert _shape(hub, "ds_accommodation") == before
    with hub.store.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        found = conn.exec_driver_sql("SELECT _key FROM ds_accommodation WHERE _key = %(k)s AND _to IS NULL",
                                     {"k": frame["code"].iloc[30]}).scalars().all()
    assert found == [frame["code"].iloc[30]]
    with hub.store.engine.connect() as conn:  # the planner knows the rows (statistics made before the renames)
        assert conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'ds_accommodation'").scalar() == 40
        analyzed = set(conn.exec_driver_sql("SELECT attname FROM pg_stats WHERE tablename = 'ds_accommodation'").scalars())
    assert {"_key", "code", "name"} <= analyzed and "_hash" not in analyzed
    again = _load(hub, "accommodation", [accommodation_frame(1, 41)])
    assert (again.version, again.rows_added, again.rows_unchanged) == (2, 1, 40)


@pytest.mark.parametrize("backend", ["postgis"])
def test_a_first_load_whose_early_index_build_cannot_read_the_dataset_table_still_commits(hub: Hub) -> None:
    """Two first loads of one dataset at once (two workers publishing two periods of a report): the early index
    build of one read the dataset table's indexes while the other's swap dropped that table, PostgreSQL said
    "could not open relation with OID ...", and the load failed (a CI run). Here the dataset's table is away while
    the early build reads it: the build is left to the commit, which loads the rows and builds the indexes."""
    before = _shape(hub, "ds_accommodation")
    frame = accommodation_frame(1, 40)
    with Loader(hub.store, hub.catalog.dataset("accommodation"), {"source_name": "accommodation.csv"}) as loader:
        loader.stage(frame)
        with hub.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE ds_accommodation RENAME TO ds_accommodation_away")
        loader.index_early()
        for thread in threading.enumerate():  # the build has read, and given up, before the table comes back
            if thread.name == "hub-index-early":
                thread.join()
        with hub.store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE ds_accommodation_away RENAME TO ds_accommodation")
        result = loader.commit()
    assert (result.version, result.rows_added) == (1, 40)
    assert _shape(hub, "ds_accommodation") == before
