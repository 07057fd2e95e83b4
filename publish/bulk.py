"""Bulk paths of a load: a big first load into an empty table, and connection settings for the apply phase.

Maintaining five indexes (and, on SpatiaLite, the R*Tree and its bookkeeping triggers) row by row costs more
than the insert itself; building them once after the rows are in is about twice as fast. So when a dataset's
table is empty, the load drops its secondary indexes (and SpatiaLite's triggers) inside the locked
transaction, inserts everything, recreates them from the definitions it saved and fills the R*Tree in one
statement, before commit.
If anything fails the transaction rolls back and the definitions were never lost.

On PostgreSQL, dropping an index locks the (empty) table until commit, so a reader of a dataset that has no
version yet waits for the first one instead of seeing nothing; on SQLite, readers keep their snapshot.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

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
    rtree = f"idx_{table}__geom"
    spatial = geometry and conn.exec_driver_sql(
        "SELECT spatial_index_enabled FROM geometry_columns WHERE lower(f_table_name) = lower(?) "
        "AND lower(f_geometry_column) = '_geom'", (table,)).scalar() == 1
    # SpatiaLite's triggers check each geometry, stamp a time table and update the R*Tree, row by row
    saved = conn.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL", (table,)).all()
    for kind, name, _ in saved:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
    if spatial:
        conn.exec_driver_sql(f'DELETE FROM "{rtree}"')
    yield
    for _, _, sql in saved:
        conn.exec_driver_sql(sql)
    if geometry:
        conn.exec_driver_sql(
            "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = '_geom'", (table,))
    if spatial:  # what CreateSpatialIndex does, without its per-row alignment call (the R*Tree module itself
        # rounds a box outward when it stores it in 32-bit floats, so no point falls outside its box)
        conn.exec_driver_sql(
            f'INSERT INTO "{rtree}" (pkid, xmin, xmax, ymin, ymax) SELECT ROWID, MbrMinX(_geom), MbrMaxX(_geom), '
            f'MbrMinY(_geom), MbrMaxY(_geom) FROM "{table}" WHERE MbrMinX(_geom) IS NOT NULL')


class DirectLoad:
    """PostgreSQL, first load of a point (or geometry-less) dataset: rows are COPYed straight into a new table
    shaped like the dataset's, and at commit that table *becomes* the dataset's table (drop the empty one,
    rename, recreate its indexes). Each row is written once instead of staged and copied again.

    The new table lives in one transaction held open from the first batch to the commit: nobody else sees
    it, the dataset's table takes no lock until the swap, and a load killed part way leaves nothing behind.
    If the swap cannot happen (another load got there first, something depends on the old table), the new
    table serves as the staging table of an ordinary apply.
    """

    def __init__(self, conn: sa.Connection, table: sa.Table, name: str, version: int, geometry: dict | None) -> None:
        self.conn = conn
        self.table = table
        self.name = name
        self.version = version
        self.geometry = geometry
        self._copy: Any = None
        self._copy_context: Any = None
        self._cursor: Any = None
        self.transaction = conn.begin()
        # from the table's definition, not `LIKE`: that would lock the dataset's table until commit, and a
        # second load's swap would then wait for this one while this one waits for its lock
        ddl = CreateTable(table.to_metadata(sa.MetaData(), name=name)).compile(dialect=conn.dialect)
        conn.exec_driver_sql(str(ddl).replace("%", "%%"))

    @staticmethod
    def possible(conn: sa.Connection, store: Store, table: sa.Table, geometry: dict | None) -> bool:
        return (conn.dialect.name == "postgresql" and (geometry is None or geometry["type"] == "point")
                and not conn.in_transaction() and is_empty(conn, table.name))

    def copy(self, rows: list[tuple[Any, ...]], field_names: list[str], copy_types: list[str]) -> None:
        """rows: (key, hash, search, *field values) with values typed for binary COPY.

        One COPY stays open across batches (until finish()), its data sent by a writer thread: the server
        stores batch k while Python prepares batch k+1, instead of each waiting for the other."""
        if self._copy is None:
            self._open(field_names, copy_types)
        version = self.version
        write = self._copy.write_row
        if self.geometry:
            lon = 3 + field_names.index(self.geometry["longitude"])
            lat = 3 + field_names.index(self.geometry["latitude"])
            for r in rows:
                write((r[0], r[1], version, *r[2:], _point(r[lon], r[lat])))
        else:
            for r in rows:
                write((r[0], r[1], version, *r[2:]))

    def _open(self, field_names: list[str], copy_types: list[str]) -> None:
        from psycopg.copy import QueuedLibpqWriter

        columns = ["_key", "_hash", "_from", "_search", *field_names]
        types = ["text", "text", "int4", "text", *copy_types]
        if self.geometry:
            columns.append("_geom")
            types.append("bytea")  # the column's own binary input (EWKB) reads these bytes
        cols = ", ".join(f'"{c}"' for c in columns)
        self._cursor = self.conn.connection.driver_connection.cursor()
        self._copy_context = self._cursor.copy(f"COPY {self.name} ({cols}) FROM STDIN (FORMAT BINARY)",
                                               writer=QueuedLibpqWriter(self._cursor))
        self._copy = self._copy_context.__enter__()
        self._copy.set_types(types)

    def finish(self, error: BaseException | None = None) -> None:
        """End the open COPY (before any other statement on the connection); with `error`, abandon it."""
        if self._copy is None:
            return
        context, cursor = self._copy_context, self._cursor
        self._copy = self._copy_context = self._cursor = None
        try:
            context.__exit__(type(error) if error else None, error, None)
        finally:
            cursor.close()

    def swap(self) -> bool:
        """Inside the locked transaction: make the new table the dataset's, with the old one's names,
        indexes, constraints, comments and grants. False (nothing changed) if not possible; then the caller
        applies from the new table as from a staging table."""
        self.finish()
        conn, table = self.conn, self.table.name
        savepoint = conn.begin_nested()
        try:
            def one(sql: str, **params: Any) -> Any:
                return conn.execute(sa.text(sql), params).scalar()

            old, new = one("SELECT CAST(:t AS regclass)::oid", t=table), one("SELECT CAST(:t AS regclass)::oid", t=self.name)
            indexes = conn.execute(sa.text("SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                                           "WHERE indrelid = :o AND NOT indisprimary"), {"o": old}).scalars().all()
            constraints = conn.execute(sa.text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                               "WHERE conrelid = :o AND contype IN ('u', 'c', 'f', 'x')"), {"o": old}).all()
            primary = "SELECT conname FROM pg_constraint WHERE conrelid = :o AND contype = 'p'"
            old_pk, new_pk = one(primary, o=old), one(primary, o=new)
            grants = conn.execute(sa.text(
                "SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END "
                "FROM pg_class c, aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
                "WHERE c.oid = :o AND a.grantee <> c.relowner"), {"o": old}).all()
            old_seq = one("SELECT pg_get_serial_sequence(:t, '_id')", t=table)
            new_seq = one("SELECT pg_get_serial_sequence(:t, '_id')", t=self.name)
            conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql(f"ALTER TABLE {self.name} RENAME TO {table}")
            if old_seq and new_seq:
                conn.exec_driver_sql(f"ALTER SEQUENCE {new_seq} RENAME TO {old_seq.split('.')[-1]}")
            if old_pk and new_pk:
                conn.exec_driver_sql(f'ALTER TABLE {table} RENAME CONSTRAINT "{new_pk}" TO "{old_pk}"')
            for name, definition in constraints:
                conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'.replace("%", "%%"))
            for definition in indexes:
                conn.exec_driver_sql(definition.replace("%", "%%"))
            self._comments(table)
            for privilege, grantee in grants:
                conn.exec_driver_sql(f"GRANT {privilege} ON {table} TO {grantee}")
        except sa.exc.DBAPIError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def _comments(self, table: str) -> None:
        """The comments the table's definition gives it (CREATE TABLE alone does not carry them)."""
        from psycopg import sql

        with self.conn.connection.driver_connection.cursor() as cur:
            if self.table.comment:
                cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(table),
                                                                        sql.Literal(self.table.comment)))
            for column in self.table.columns:
                if column.comment:
                    cur.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                        sql.Identifier(table), sql.Identifier(column.name), sql.Literal(column.comment)))


def _point(lon: Any, lat: Any) -> bytes | None:
    """EWKB of a point in SRID 4326 (little-endian, the SRID flag set)."""
    if lon is None or lat is None:
        return None
    return _EWKB_POINT.pack(1, 0x20000001, 4326, lon, lat)


_EWKB_POINT = struct.Struct("<BIIdd")
