"""Bulk paths of a load: a big first load into an empty table, and connection settings for the apply phase.

Maintaining five indexes (and, on SpatiaLite, the R*Tree and its bookkeeping triggers) row by row costs more
than the insert itself; building them once after the rows are in is about twice as fast. So when a dataset's
table is empty, the load drops its secondary indexes (and SpatiaLite's triggers and spatial index) inside the
locked transaction, inserts everything, and recreates them from the definitions it saved, before commit.
If anything fails the transaction rolls back and the definitions were never lost.

On PostgreSQL, dropping an index locks the (empty) table until commit, so a reader of a dataset that has no
version yet waits for the first one instead of seeing nothing; on SQLite, readers keep their snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from publish.store import Store

SQLITE_CACHE_KIB = 256 * 1024  # page cache while applying: index builds over a million rows stay in memory
PG_MEMORY = "256MB"


def is_empty(conn: sa.Connection, table: str) -> bool:
    """No row in the table at all, of any version."""
    if conn.in_transaction():
        return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None
    with conn.begin():
        return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None


@contextmanager
def tuned(conn: sa.Connection) -> Iterator[None]:
    """More memory for sorts, hashes and index builds while one load applies; back to normal afterwards."""
    sqlite = conn.dialect.name == "sqlite"
    with conn.begin():
        if sqlite:
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        else:
            conn.exec_driver_sql(f"SET work_mem = '{PG_MEMORY}'")
            conn.exec_driver_sql(f"SET maintenance_work_mem = '{PG_MEMORY}'")
    try:
        yield
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size = {before}")
                else:
                    conn.exec_driver_sql("RESET work_mem")
                    conn.exec_driver_sql("RESET maintenance_work_mem")
        except sa.exc.SQLAlchemyError:
            pass


@contextmanager
def indexes_deferred(conn: sa.Connection, store: Store, table: sa.Table) -> Iterator[None]:
    """Inside the load's transaction: drop the table's secondary indexes, let the caller insert, rebuild."""
    if conn.dialect.name == "postgresql":
        with _postgres(conn, table.name):
            yield
        conn.exec_driver_sql(f"ANALYZE {table.name}")  # the planner knows the new size from the first query on
    else:
        geometry = "_geom" in table.c
        with _sqlite(conn, table.name, geometry):
            yield


@contextmanager
def _postgres(conn: sa.Connection, table: str) -> Iterator[None]:
    saved = conn.execute(sa.text(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary"), {"t": table}).all()
    for name, _ in saved:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _, definition in saved:
        conn.exec_driver_sql(definition)


@contextmanager
def _sqlite(conn: sa.Connection, table: str, geometry: bool) -> Iterator[None]:
    spatial = geometry and conn.exec_driver_sql(
        "SELECT spatial_index_enabled FROM geometry_columns WHERE lower(f_table_name) = lower(?) "
        "AND lower(f_geometry_column) = '_geom'", (table,)).scalar() == 1
    if spatial:  # SpatiaLite drops its R*Tree triggers itself; the R*Tree goes too, rebuilt afterwards
        conn.exec_driver_sql("SELECT DisableSpatialIndex(?, '_geom')", (table,))
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "idx_{table}__geom"')
    saved = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL", (table,)).all()
    for kind, name, _ in saved:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    yield
    for _, _, sql in saved:
        conn.exec_driver_sql(sql)
    if geometry:
        conn.exec_driver_sql(
            "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = '_geom'", (table,))
    if spatial:
        conn.exec_driver_sql("SELECT CreateSpatialIndex(?, '_geom')", (table,))
