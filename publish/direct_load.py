"""A first PostgreSQL load straight into a new table that replaces the dataset's empty one at commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from publish.bulk import CopyStream, is_empty
from publish.db import driver
from publish.store import Store

__all__ = ["DirectLoad"]


class DirectLoad:
    """PostgreSQL, first load of a point (or geometry-less) dataset: rows are COPYed (binary, publish/copy_binary.py)
    straight into a new table shaped like the dataset's, and at commit that table *becomes* the dataset's table
    (drop the empty one, rename, recreate its indexes). Each row is written once instead of staged and copied
    again. The point is made by the database as each row is stored: in the new table `_geom` is a generated
    column (`point_sql`, the expression an ordinary apply inserts), made a plain column again at the swap.

    The new table lives in one transaction held open from the first batch to the commit: nobody else sees
    it, the dataset's table takes no lock until the swap, and a load killed part way leaves nothing behind.
    If the swap cannot happen (another load got there first, something depends on the old table), the new
    table serves as the staging table of an ordinary apply.

    Once every row is in, `index_early()` builds the dataset table's indexes and primary key on the new table
    in a thread (the connection's only user meanwhile): the server builds them while the caller checks the
    rows' quality, and the swap renames them instead of building them under the lock.
    """

    def __init__(self, conn: sa.Connection, table: sa.Table, name: str, version: int, geometry: dict[str, Any] | None,
                 point_sql: str | None = None) -> None:
        self.conn = conn
        self.table = table
        self.name = name
        self.version = version
        self.geometry = geometry
        self._stream: CopyStream | None = None
        self._indexing: threading.Thread | None = None  # index_early()'s thread, until finish() joins it
        self._indexing_error: BaseException | None = None
        self.analyzed = False  # index_early() refreshed the new table's statistics
        self.rows = 0  # rows copied so far, numbered 1 to rows
        self.transaction = conn.begin()
        # from the table's definition, not `LIKE`: that would lock the dataset's table until commit, and a
        # second load's swap would then wait for this one while this one waits for its lock
        shape = table.to_metadata(sa.MetaData(), name=name)
        self.generated = False
        if point_sql is not None and "_geom" in table.c:
            self.generated = True
            shape.append_column(sa.Column("_geom", table.c._geom.type, sa.Computed(sa.text(point_sql), persisted=True)),
                                replace_existing=True)
        ddl = CreateTable(shape).compile(dialect=conn.dialect)
        conn.exec_driver_sql(str(ddl).replace("%", "%%"))
        # the primary key's index too is built after the rows (swap() adds it), not row by row
        primary = conn.execute(sa.text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                                       "AND contype = 'p'"), {"t": name}).scalar()
        if primary:
            conn.exec_driver_sql(f'ALTER TABLE {name} DROP CONSTRAINT "{primary}"')
        # a first load's rows are all current, so an index of superseded rows only (`_to IS NOT NULL`) stays
        # empty: made now (each row only tests the condition) rather than by a scan of every row at the swap
        self.premade: dict[str, tuple[str, str]] = {}  # the dataset table's index -> the new table's, and the
        # definition both share (after USING)
        for index, unique, definition in conn.execute(sa.text(
                "SELECT quote_ident(c.relname), i.indisunique, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass) "
                "AND pg_get_expr(i.indpred, i.indrelid) = '(_to IS NOT NULL)'"), {"t": table.name}).all():
            made, shared = f"{name}_ix{len(self.premade)}", definition.split(" USING ", 1)[1]
            conn.exec_driver_sql(f"CREATE {'UNIQUE ' if unique else ''}INDEX {made} ON {name} USING {shared}"
                                 .replace("%", "%%"))
            self.premade[index] = (made, shared)

    @staticmethod
    def possible(conn: sa.Connection, store: Store, table: sa.Table, geometry: dict[str, Any] | None) -> bool:
        return (conn.dialect.name == "postgresql" and (geometry is None or geometry["type"] == "point")
                and not conn.in_transaction() and is_empty(conn, table.name)
                and driver(conn).info.server_version >= 130000)  # DROP EXPRESSION (swap)

    def copy(self, data: bytes, columns: list[str], rows: int) -> None:
        """One batch of `rows` rows as binary COPY rows (publish.copy_binary.direct_batch with first_id=self.rows
        + 1: id, key, hash, version, search, fields).

        One COPY stays open across batches (until finish()), its data sent by a writer thread: the server
        stores batch k while Python prepares batch k+1, instead of each waiting for the other. The ids are
        those the table's sequence would give (1, 2, ...): the server skips a sequence call per row, and the
        swap moves the sequence past them."""
        if self._stream is None:
            self._stream = CopyStream(self.conn, self.name, ["_id", "_key", "_hash", "_from", "_search", *columns],
                                      binary=True)
        self._stream.write(data)
        self.rows += rows

    def finish(self, error: BaseException | None = None) -> None:
        """End the open COPY (before any other statement on the connection), or wait for index_early()'s
        statements; with `error`, abandon the COPY."""
        if self._indexing is not None:
            thread, self._indexing = self._indexing, None
            thread.join()
            failure, self._indexing_error = self._indexing_error, None
            if failure is not None and error is None:
                raise failure
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.finish(error)

    def index_early(self, memory: str, analyze: Callable[[sa.Connection, str], None] | None = None) -> None:
        """Every row is in: end the COPY, then build the dataset table's indexes (and primary key) on the new table
        in a thread, with `memory` for the sorts, as the swap would; finish() waits for them. Built in a savepoint:
        if one cannot be built, none is kept and the swap builds them itself, as it always did. Then
        `analyze(conn, table)` refreshes the new table's statistics (they stay with it through the renames):
        `analyzed` says whether it did."""
        self.finish()
        self._indexing = threading.Thread(target=self._build_indexes, args=(memory, analyze), name="hub-index-early",
                                          daemon=True)
        self._indexing.start()

    def _build_indexes(self, memory: str, analyze: Callable[[sa.Connection, str], None] | None) -> None:
        conn = self.conn
        try:
            conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{memory}'")
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{memory}'")
            made: dict[str, tuple[str, str]] = {}
            savepoint = conn.begin_nested()
            try:
                # read in the savepoint too: the dataset's table takes no lock until the swap, so another first
                # load's swap may drop it under this read ("could not open relation with OID ..."); then the
                # swap, or the apply this load falls back to, builds the indexes, as when one cannot be built
                old = self._facts(self.table.name)
                if old.primary and old.primary_definition:
                    conn.exec_driver_sql(f'ALTER TABLE {self.name} ADD CONSTRAINT "{self.name}_pkey" '
                                         f'{old.primary_definition}'.replace("%", "%%"))
                for index, definition in old.indexes:
                    if index in self.premade:
                        continue
                    name, shared = f"{self.name}_ix{len(self.premade) + len(made)}", definition.split(" USING ", 1)[1]
                    unique = "UNIQUE " if definition.startswith("CREATE UNIQUE ") else ""
                    conn.exec_driver_sql(f"CREATE {unique}INDEX {name} ON {self.name} USING {shared}".replace("%", "%%"))
                    made[index] = (name, shared)
            except sa.exc.DBAPIError:
                savepoint.rollback()
                return
            savepoint.commit()
            self.premade.update(made)
            if analyze is not None:
                with conn.begin_nested():
                    analyze(conn, self.name)
                self.analyzed = True
        except BaseException as exc:  # noqa: BLE001 (raised again by finish(), in the caller's thread)
            self._indexing_error = exc

    def swap(self) -> bool:
        """Inside the locked transaction: make the new table the dataset's, with the old one's names,
        indexes, constraints, comments and grants. False (nothing changed) if not possible; then the caller
        applies from the new table as from a staging table."""
        self.finish()
        conn, table = self.conn, self.table.name
        savepoint = conn.begin_nested()
        try:
            if self.generated:  # the stored points stay; later versions' rows get theirs from the apply
                conn.exec_driver_sql(f"ALTER TABLE {self.name} ALTER COLUMN _geom DROP EXPRESSION")

            old, new = self._facts(table), self._facts(self.name)
            if new.sequence and self.rows:  # the rows came numbered: the next row added gets the next number
                conn.execute(sa.text("SELECT setval(:s, :n)"), {"s": new.sequence, "n": self.rows})
            conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql(f"ALTER TABLE {self.name} RENAME TO {table}")
            if old.sequence and new.sequence:
                conn.exec_driver_sql(f"ALTER SEQUENCE {new.sequence} RENAME TO {old.sequence.split('.')[-1]}")
            if old.primary and new.primary:
                conn.exec_driver_sql(f'ALTER TABLE {table} RENAME CONSTRAINT "{new.primary}" TO "{old.primary}"')
            elif old.primary:  # dropped at the start, to build its index once
                conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{old.primary}" {old.primary_definition}'
                                     .replace("%", "%%"))
            for name, definition in old.constraints:
                conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'.replace("%", "%%"))
            premade = {made for made, _ in self.premade.values()}
            for index, definition in old.indexes:
                made, shared = self.premade.get(index, ("", ""))
                if made and definition.split(" USING ", 1)[-1] == shared:
                    conn.exec_driver_sql(f"ALTER INDEX {made} RENAME TO {index}")
                    premade.discard(made)
                else:
                    conn.exec_driver_sql(definition.replace("%", "%%"))
            for made in premade:  # the dataset table's index changed or went meanwhile
                conn.exec_driver_sql(f"DROP INDEX {made}")
            self._comments_and_grants(table, old.grants)
        except sa.exc.DBAPIError:
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def _facts(self, table: str) -> _Facts:
        """What the swap carries over from a table, read in one query."""
        row = self.conn.execute(sa.text(_FACTS), {"t": table}).one()
        return _Facts(*row)

    def _comments_and_grants(self, table: str, grants: list[list[str]]) -> None:
        """The comments the table's definition gives it (CREATE TABLE alone does not carry them) and the old
        table's grants, sent together."""
        from psycopg import sql

        statements: list[sql.Composable] = []
        if self.table.comment:
            statements.append(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(table),
                                                                          sql.Literal(self.table.comment)))
        for column in self.table.columns:
            if column.comment:
                statements.append(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    sql.Identifier(table), sql.Identifier(column.name), sql.Literal(column.comment)))
        for privilege, grantee in grants:
            statements.append(sql.SQL(f"GRANT {privilege} ON {{}} TO {grantee}").format(sql.Identifier(table)))
        if statements:
            with driver(self.conn).cursor() as cur:
                cur.execute(sql.SQL("; ").join(statements))


class _Facts(NamedTuple):
    indexes: list[list[str]]  # [quoted name, definition] of each index but the primary key's
    constraints: list[list[str]]  # [name, definition] of each unique, check, foreign key and exclusion constraint
    primary: str | None
    primary_definition: str | None
    grants: list[list[str]]  # [privilege, grantee] other than the owner's
    sequence: str | None  # of `_id`


_FACTS = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(quote_ident(c.relname), pg_get_indexdef(i.indexrelid))), '[]')
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = t.oid AND NOT i.indisprimary),
  (SELECT coalesce(json_agg(json_build_array(conname, pg_get_constraintdef(oid))), '[]')
     FROM pg_constraint WHERE conrelid = t.oid AND contype IN ('u', 'c', 'f', 'x')),
  (SELECT conname FROM pg_constraint WHERE conrelid = t.oid AND contype = 'p'),
  (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = t.oid AND contype = 'p'),
  (SELECT coalesce(json_agg(json_build_array(a.privilege_type,
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END)), '[]')
     FROM aclexplode(t.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE a.grantee <> t.relowner),
  pg_get_serial_sequence(:t, '_id')
FROM pg_class t WHERE t.oid = CAST(:t AS regclass)
"""
