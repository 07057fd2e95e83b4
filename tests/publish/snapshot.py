"""A version of a dataset as bytes, for the crash and fault tests to compare before and after.

Two views: the GeoJSON download of the version with every field (what a user with full rights gets) and the
version's stored rows (every column of the dataset's table, the geometry as WKB, in key order). `_to` is left
out of the stored view: a later version closing a row does not change what the earlier version holds.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from geoalchemy2.elements import WKBElement

from publish.access import Viewer
from publish.exports import export_stream
from publish.store import Store

BOOKKEEPING = ("_id", "_from", "_to")  # which load wrote or closed a row: not what the row holds


def full_viewer(dataset: str) -> Viewer:
    """A client that sees every field of `dataset`, personal ones included."""
    return Viewer(name="tests", role="admin", datasets=frozenset({dataset}), personal=frozenset({dataset}))


def _plain(value: Any) -> Any:
    if isinstance(value, WKBElement):  # a geometry, as hex WKB
        return value.desc
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


def stored_rows(store: Store, dataset: str, version: int, *, bookkeeping: bool = True) -> bytes:
    """The rows of `version` as stored, one JSON line each in key order; without `bookkeeping`, only what the
    rows hold (so the same file loaded as two versions gives the same bytes)."""
    table = store.table(dataset)
    skipped = {"_to"} if bookkeeping else set(BOOKKEEPING)
    columns = [c for c in table.c if c.name not in skipped]
    as_of = sa.and_(table.c._from <= version, sa.or_(table.c._to.is_(None), table.c._to > version))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(as_of).order_by(table.c._key)).all()
    lines = [json.dumps([_plain(v) for v in row], ensure_ascii=False, default=str) for row in rows]
    return "\n".join([json.dumps([c.name for c in columns]), *lines]).encode("utf-8")


def download(store: Store, dataset: str, version: int) -> bytes:
    """The GeoJSON download of `version` with every field."""
    return b"".join(export_stream(store, dataset, "geojson", full_viewer(dataset), version=version))


def version_bytes(store: Store, dataset: str, version: int) -> bytes:
    """Version `version` of `dataset` byte for byte: its download, then its stored rows."""
    return download(store, dataset, version) + b"\n--\n" + stored_rows(store, dataset, version)


def later_rows(store: Store, dataset: str, version: int) -> int:
    """Rows written or closed by anything after `version` (a partial version would leave some)."""
    table = store.table(dataset)
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(
            sa.or_(table.c._from > version, table.c._to > version))).scalar() or 0)


def load_connections(store: Store, application: str) -> int:
    """PostgreSQL connections named `application` still open (none on SQLite: a process's locks go with it)."""
    if store.dialect != "postgresql":
        return 0
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"),
                                {"app": application}).scalar() or 0)


def leftover_tables(store: Store, pid: int) -> list[str]:
    """Tables a load by process `pid` could leave behind: a direct load's new table (`…__load_<id>`) and its
    staging and rejected-rows tables (temporary: on SQLite in the connection's own temporary file, which dies
    with the process; on PostgreSQL dropped when the server ends the dead client's session)."""
    with store.engine.connect() as conn:
        names = [t for t in sa.inspect(conn).get_table_names() if "__load_" in t or t.startswith(("stg_", "rej_"))]
        if store.dialect == "postgresql":  # temporary tables live in pg_temp_N schemas, one per connection
            names += conn.execute(sa.text("SELECT relname FROM pg_class WHERE relname LIKE :stg OR relname LIKE :rej"),
                                  {"stg": f"stg\\_%\\_{pid}", "rej": f"rej\\_%\\_{pid}"}).scalars().all()
    return sorted(names)
