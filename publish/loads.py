"""Atomic, versioned loads.

A load has two phases on one connection:
1. staging: validated rows go into a TEMPORARY table (PostgreSQL `COPY`, SQLite one executemany per batch).
   Temporary tables are private to the connection, so staging takes no lock readers or other loads notice.
2. apply: one transaction, holding the dataset's lock (an advisory lock on PostgreSQL, the write lock on
   SQLite), compares staging with the current rows by key and hash, closes the rows that changed or went away
   (`_to = v`), inserts the new and changed ones (`_from = v`, geometry built in SQL) and records the version.

Readers see the previous version until phase 2 commits. A load killed at any point leaves nothing: its
`running` entry in hub_loads is marked failed at the next start (Store.recover_interrupted_loads).
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from hub.catalog import Dataset
from hub.errors import LoadConflict
from publish import tables
from publish.rows import rejected_records, stored_rows
from publish.store import Store, utcnow

LOCK_TIMEOUT_SECONDS = 60


@dataclass
class LoadResult:
    load_id: int
    dataset: str
    status: str
    version: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_unchanged: int = 0
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    report: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def geometry_sql(store: Store, dataset: Dataset, alias: str) -> str | None:
    """SQL building the stored geometry from the staged columns, per backend."""
    geometry = dataset.schema.geometry
    if not geometry:
        return None
    pg = store.dialect == "postgresql"
    if geometry["type"] == "point":
        lon, lat = f'{alias}."{geometry["longitude"]}"', f'{alias}."{geometry["latitude"]}"'
        if pg:
            return f"CASE WHEN {lon} IS NULL OR {lat} IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326) END"
        return f"CASE WHEN {lon} IS NULL OR {lat} IS NULL THEN NULL ELSE MakePoint({lon}, {lat}, 4326) END"
    column = f'{alias}."{geometry["field"]}"'
    if pg:
        return f"ST_SetSRID(ST_GeomFromGeoJSON({column}), 4326)"
    return f"SetSRID(GeomFromGeoJSON({column}), 4326)"


class Loader:
    """One load of one dataset. Use as a context manager: stage(), reject(), then commit() or fail()."""

    def __init__(self, store: Store, dataset: Dataset, provenance: dict[str, Any] | None = None) -> None:
        self.store = store
        self.dataset = dataset
        self.provenance = dict(provenance or {})
        self.table = store.table(dataset)
        self.conn: sa.Connection | None = None
        self.load_id: int | None = None
        self.rows_staged = 0
        self.rows_rejected = 0
        self._stage_name = f"stg_{dataset.table_name}_{os.getpid()}"
        self._reject_name = f"rej_{dataset.table_name}_{os.getpid()}"
        self._finished = False

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> Loader:
        self.open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None and not self._finished:
            self.fail(f"{type(exc).__name__}: {exc}")
        self.close()

    def open(self) -> None:
        with self.store.engine.begin() as conn:
            self.load_id = conn.execute(
                tables.loads.insert().values(
                    dataset=self.dataset.id, status="running", started_at=utcnow(), pid=os.getpid(),
                    **{k: v for k, v in self.provenance.items() if k in tables.loads.c},
                )
            ).inserted_primary_key[0]
        self.conn = self.store.engine.connect()
        names = self._quoted_fields()
        with self.conn.begin():
            pg = self.store.dialect == "postgresql"
            for name in (self._stage_name, self._reject_name):
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {'pg_temp.' if pg else 'temp.'}{name}")
            types = [self._sql_type(f.type) for f in self.dataset.schema.fields]
            cols = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
            self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {self._stage_name} (_key TEXT, _hash TEXT, _search TEXT, {cols})")
            self.conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {self._reject_name} (row_number INTEGER, data TEXT, errors TEXT)"
            )

    def close(self) -> None:
        if self.conn is not None:
            try:
                if self.conn.in_transaction():
                    self.conn.rollback()
                with self.conn.begin():
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._stage_name}")
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._reject_name}")
            except sa.exc.SQLAlchemyError:
                pass
            self.conn.close()
            self.conn = None

    # -- staging -----------------------------------------------------------------------------------------------
    def stage(self, frame: pd.DataFrame) -> int:
        """Stage a batch of valid, typed rows. Returns how many."""
        if frame.empty:
            return 0
        rows = list(stored_rows(frame, self.dataset.schema))
        assert self.conn is not None
        with self.conn.begin():
            if self.store.dialect == "postgresql":
                self._copy(self._stage_name, ["_key", "_hash", "_search", *self.dataset.schema.field_names], rows)
            else:
                marks = ", ".join("?" for _ in range(len(rows[0])))
                self.conn.exec_driver_sql(f"INSERT INTO {self._stage_name} VALUES ({marks})", rows)
        self.rows_staged += len(rows)
        return len(rows)

    def reject(self, frame: pd.DataFrame) -> int:
        """Keep invalid rows (source text and errors) for the steward."""
        if frame.empty:
            return 0
        rows = list(rejected_records(frame, self.dataset.schema))
        assert self.conn is not None
        with self.conn.begin():
            if self.store.dialect == "postgresql":
                self._copy(self._reject_name, ["row_number", "data", "errors"], rows)
            else:
                self.conn.exec_driver_sql(f"INSERT INTO {self._reject_name} VALUES (?, ?, ?)", rows)
        self.rows_rejected += len(rows)
        return len(rows)

    def _copy(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        assert self.conn is not None
        raw = self.conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # -- apply -------------------------------------------------------------------------------------------------
    def commit(self, *, report: dict[str, Any] | None = None, rows_read: int | None = None,
               quality_score: float | None = None, keep_rejected_only: bool = False) -> LoadResult:
        """Apply the staged rows as the dataset's next version, atomically.

        With keep_rejected_only (a load refused by the `reject` policy) nothing is applied: the load is
        recorded as rejected, with its report and its invalid rows.
        """
        assert self.conn is not None and self.load_id is not None
        conn = self.conn
        result = LoadResult(self.load_id, self.dataset.id, "rejected" if keep_rejected_only else "committed",
                            rows_read=rows_read if rows_read is not None else self.rows_staged + self.rows_rejected,
                            rows_rejected=self.rows_rejected, report=report)
        if not keep_rejected_only:
            with conn.begin():
                conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{self._stage_name} ON {self._stage_name} (_key, _hash)")
        conn.info["sqlite_begin"] = "IMMEDIATE"
        try:
            with conn.begin():
                self._lock(conn)
                if not keep_rejected_only:
                    self._apply(conn, result)
                self._record(conn, result, report, quality_score)
        except sa.exc.OperationalError as exc:
            if "locked" in str(exc).lower() or "lock timeout" in str(exc).lower():
                raise LoadConflict(
                    f"Bộ dữ liệu «{self.dataset.id}» đang được nạp bởi tiến trình khác; hãy thử lại sau",
                    f"Dataset «{self.dataset.id}» is being loaded by another process; try again later",
                    dataset=self.dataset.id,
                ) from None
            raise
        finally:
            conn.info.pop("sqlite_begin", None)
        self._finished = True
        return result

    def _lock(self, conn: sa.Connection) -> None:
        if self.store.dialect == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(self.dataset.id.encode())})
        # SQLite: BEGIN IMMEDIATE already holds the database's write lock.

    def _apply(self, conn: sa.Connection, result: LoadResult) -> None:
        t, s = self.table.name, self._stage_name
        count = lambda sql: conn.exec_driver_sql(sql).scalar() or 0  # noqa: E731
        current = "d._to IS NULL AND d._key = s._key"
        staged = count(f"SELECT count(*) FROM {s}")
        result.rows_added = count(f"SELECT count(*) FROM {s} s WHERE NOT EXISTS (SELECT 1 FROM {t} d WHERE {current})")
        result.rows_unchanged = count(
            f"SELECT count(*) FROM {s} s WHERE EXISTS (SELECT 1 FROM {t} d WHERE {current} AND d._hash = s._hash)"
        )
        result.rows_changed = staged - result.rows_added - result.rows_unchanged
        result.rows_removed = count(
            f"SELECT count(*) FROM {t} d WHERE d._to IS NULL AND NOT EXISTS (SELECT 1 FROM {s} s WHERE s._key = d._key)"
        )
        result.rows_loaded = staged
        if result.rows_added + result.rows_changed + result.rows_removed == 0:
            result.status = "unchanged"
            return
        version = (self.store.current_version(self.dataset.id, conn) or 0) + 1
        result.version = version
        conn.exec_driver_sql(
            f"UPDATE {t} SET _to = {version} WHERE _to IS NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {s} s WHERE s._key = {t}._key AND s._hash = {t}._hash)"
        )
        fields = self._quoted_fields()
        target = ["_key", "_hash", "_from", "_search", *fields]
        source = ["s._key", "s._hash", str(version), "s._search", *(f"s.{f}" for f in fields)]
        geom = geometry_sql(self.store, self.dataset, "s")
        if geom:
            target.append("_geom")
            source.append(geom)
        conn.exec_driver_sql(
            f"INSERT INTO {t} ({', '.join(target)}) SELECT {', '.join(source)} FROM {s} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {t} d WHERE {current})"
        )

    def _record(self, conn: sa.Connection, result: LoadResult, report: dict[str, Any] | None,
                quality_score: float | None) -> None:
        conn.exec_driver_sql(
            f"INSERT INTO hub_rejected_rows (load_id, row_number, data, errors) "
            f"SELECT {self.load_id}, row_number, data, errors FROM {self._reject_name}"
        )
        conn.execute(
            tables.loads.update().where(tables.loads.c.id == self.load_id).values(
                status=result.status, version=result.version, finished_at=utcnow(),
                rows_read=result.rows_read, rows_loaded=result.rows_loaded, rows_rejected=result.rows_rejected,
                rows_unchanged=result.rows_unchanged, rows_added=result.rows_added, rows_changed=result.rows_changed,
                rows_removed=result.rows_removed, quality_score=quality_score,
                report=json.dumps(report, ensure_ascii=False, default=str) if report is not None else None,
            )
        )

    def fail(self, error: str, *, report: dict[str, Any] | None = None) -> None:
        """Record the load as failed; nothing of it is applied."""
        if self.load_id is None:
            return
        with self.store.engine.begin() as conn:
            conn.execute(
                tables.loads.update().where(tables.loads.c.id == self.load_id).values(
                    status="failed", finished_at=utcnow(), error=error,
                    report=json.dumps(report, ensure_ascii=False, default=str) if report is not None else None,
                )
            )
        self._finished = True

    # -- helpers -----------------------------------------------------------------------------------------------
    def _quoted_fields(self) -> list[str]:
        return [f'"{name}"' for name in self.dataset.schema.field_names]

    def _sql_type(self, field_type: str) -> str:
        pg = self.store.dialect == "postgresql"
        return {
            "integer": "BIGINT",
            "number": "DOUBLE PRECISION" if pg else "REAL",
            "boolean": "BOOLEAN",
            "date": "DATE",
            "datetime": "TIMESTAMP",
            "year": "INTEGER",
        }.get(field_type, "TEXT")
