"""Atomic, versioned loads.

A load has two phases on one connection:
1. staging: validated rows go into a TEMPORARY table (PostgreSQL: one `COPY` in text format kept open across
   batches, each batch's text built whole by publish/staging.copy_text; SQLite: one executemany per batch).
   Temporary tables are private to the connection, so staging takes no lock readers or other loads notice.
   The rows' keys, hashes and search text are built column by column (publish/staging.py).
2. apply: one transaction, holding the dataset's lock (an advisory lock on PostgreSQL, the write lock on
   SQLite), compares staging with the current rows by key and hash, closes the rows that changed or went
   away (`_to = v`), inserts the new and changed ones (`_from = v`, geometry built in SQL) and records the
   version, then refreshes the table's planner statistics (ANALYZE of a small sample, publish/bulk.analyze).

Readers see the previous version until phase 2 commits. A load killed at any point leaves nothing: its
`running` entry in hub_loads is marked failed at the next start (Store.recover_interrupted_loads).

The first load into an empty table is a bulk load (publish/bulk.py): indexes are built after the rows
instead of row by row (on SpatiaLite the R*Tree is written packed, in one go). On PostgreSQL a first load of
a point or geometry-less dataset skips staging: rows go by binary COPY (publish/copy_binary.py) into a new
table inside one open transaction, the points made by the database as each row is stored, and that table
replaces the empty one at commit (publish/direct_load.py).
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from core.catalog import Dataset
from core.errors import HubError, ShrinkRefused
from core.text import FoldedColumns
from publish import bulk, leases, tables
from publish.copy_binary import direct_batch
from publish.crash import crash_point
from publish.db import driver, inserted_id
from publish.direct_load import DirectLoad
from publish.guard import KEYS_SHOWN, Impact, LoadPlan, check_shrink
from publish.load_sql import change_counts, geometry_sql
from publish.locks import conflicts_reported, locked_transaction, next_version, take_lock
from publish.rows import rejected_records
from publish.staging import copy_text, stored_rows_fast
from publish.store import Store, utcnow
from publish.stored_report import stored_report

# staging column types per schema type: (PostgreSQL, SQLite)
_STAGE_TYPES = {
    "integer": ("BIGINT", "INTEGER"),
    "number": ("DOUBLE PRECISION", "REAL"),
    "boolean": ("BOOLEAN", "BOOLEAN"),
    "date": ("DATE", "DATE"),
    "datetime": ("TIMESTAMP", "TIMESTAMP"),
    "year": ("INTEGER", "INTEGER"),
}
_TEXT = ("TEXT", "TEXT")
DIRECT_SLICE = 10_000  # rows per binary COPY block of a direct first load (Loader._copy_direct)
REJECTS_KEPT = 5_000  # invalid rows kept in memory before they are copied (a few MB at most)
SQLITE_STAGE_ROWS = 1_000  # rows made Python tuples at once (~2 KB a row, kept by Python's allocator once freed)


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


class Loader:
    """One load of one dataset. Use as a context manager: stage(), reject(), then commit() or fail().

    While it runs, a heartbeat thread says so in hub_loads every store.heartbeat_seconds (publish/leases.py)."""

    def __init__(self, store: Store, dataset: Dataset, provenance: dict[str, Any] | None = None, *,
                 plan: LoadPlan | None = None) -> None:
        self.store = store
        self.dataset = dataset
        self.plan = plan or LoadPlan.make(dataset)
        self.impact: Impact | None = None  # measured under the lock when the load applies
        self.refusal: HubError | None = None  # why commit() refused the load (the guard), if it did
        self._heartbeat: leases.Heartbeat | None = None
        self.provenance = dict(provenance or {})
        self.table = store.table(dataset)
        self.conn: sa.Connection | None = None
        self.load_id: int | None = None
        self.rows_staged = 0
        self.rows_rejected = 0
        self._stage_name = f"stg_{dataset.table_name}_{os.getpid()}"
        self._reject_name = f"rej_{dataset.table_name}_{os.getpid()}"
        self._finished = False
        self._direct: DirectLoad | Literal[False] | None = None  # None: not decided yet; False: staging
        self._stream: bulk.CopyStream | None = None  # PostgreSQL: the COPY into the staging table
        # PostgreSQL: invalid rows not yet copied (see reject()), pickled a batch to a blob: as thousands of
        # strings they would sit among the freed batches and hold the heap's pages until the commit
        self._rejects: list[bytes] = []
        self._rejects_kept = 0
        slot = 0 if self.store.dialect == "postgresql" else 1
        self._column_types = [_STAGE_TYPES.get(f.type, _TEXT)[slot] for f in dataset.schema.fields]

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> Loader:
        self.open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None and not self._finished:
            self.fail(f"{type(exc).__name__}: {exc}")
        self.close()

    def open(self) -> None:
        """Record the load as running and make its staging tables. Another process holding SQLite's write lock
        past the store's lock_timeout: LoadConflict (exit status 7), like a conflict at commit."""
        with self.store.engine.connect() as conn, conflicts_reported(self.store, conn, self.dataset.id), conn.begin():
            self.load_id = inserted_id(conn.execute(
                tables.loads.insert().values(
                    dataset=self.dataset.id, status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                    **leases.Identity.current().columns(),
                    **{k: v for k, v in self.provenance.items() if k in tables.loads.c},
                )
            ))
        self._heartbeat = leases.Heartbeat(self.store.engine, self.load_id, self.store.heartbeat_seconds).start()
        self.conn = self.store.engine.connect()
        names = self._quoted_fields()
        with self.conn.begin():
            pg = self.store.dialect == "postgresql"
            for name in (self._stage_name, self._reject_name):
                self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {'pg_temp.' if pg else 'temp.'}{name}")
            cols = ", ".join(f"{n} {t}" for n, t in zip(names, self._column_types, strict=True))
            self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {self._stage_name} (_key TEXT, _hash TEXT, _search TEXT, {cols})")
            self.conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {self._reject_name} (row_number INTEGER, data TEXT, errors TEXT)"
            )

    def close(self) -> None:
        self._stop_heartbeat()
        if self.conn is not None:
            try:
                if self._direct:
                    self._direct.finish(RuntimeError("load abandoned"))
                self._end_stream(RuntimeError("load abandoned"))
                if self.conn.in_transaction():  # an unfinished direct load: its new table goes with it
                    self.conn.rollback()
                with self.conn.begin():
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._stage_name}")
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self._reject_name}")
            except sa.exc.SQLAlchemyError:
                pass
            self.conn.close()
            self.conn = None

    # -- staging -----------------------------------------------------------------------------------------------
    def stage(self, frame: pd.DataFrame, folds: FoldedColumns | None = None) -> int:
        """Stage a batch of valid, typed rows. Returns how many. `folds`: the batch's text columns as an earlier
        stage (the quality check) folded them, a direct load's search text made of them, not folded again."""
        if frame.empty:
            return 0
        assert self.conn is not None
        schema = self.dataset.schema
        if self.store.dialect == "postgresql":
            if self._direct is None:
                self._direct = self._start_direct()
            if self._direct:
                self._copy_direct(self._direct, frame, folds)
            else:
                if self._stream is None:  # one COPY into the staging table, open until commit or reject
                    if not self.conn.in_transaction():
                        self.conn.begin()
                    self._stream = bulk.CopyStream(self.conn, self._stage_name, ["_key", "_hash", "_search",
                                                                                 *schema.field_names])
                self._stream.write(copy_text(frame, schema))
        else:
            marks = ", ".join("?" for _ in range(3 + len(schema.field_names)))
            with self.conn.begin():
                for start in range(0, len(frame), SQLITE_STAGE_ROWS):
                    self.conn.exec_driver_sql(f"INSERT INTO {self._stage_name} VALUES ({marks})",
                                              stored_rows_fast(frame.iloc[start:start + SQLITE_STAGE_ROWS], schema))
        self.rows_staged += len(frame)
        return len(frame)

    def _copy_direct(self, direct: DirectLoad, frame: pd.DataFrame, folds: FoldedColumns | None = None) -> None:
        """The batch into a direct load's COPY, DIRECT_SLICE rows at a time: the server stores a slice while the
        next is built (it starts sooner and is left less to finish at commit), and a slice's buffers are a fifth
        of a 50,000-row batch's. A slice refused after others went abandons the COPY: the load cannot commit
        part of a batch."""
        schema = self.dataset.schema
        for start in range(0, len(frame), DIRECT_SLICE):
            try:
                part = frame.iloc[start:start + DIRECT_SLICE]
                data = direct_batch(part, schema, version=direct.version, rows_before=self.rows_staged + start,
                                    first_id=direct.rows + 1, folds=folds if len(part) == len(frame) else None)
            except BaseException as exc:
                if start:
                    direct.finish(exc)
                raise
            direct.copy(data, schema.field_names, len(part))

    def index_early(self) -> None:
        """Every batch is staged: a direct first load builds its table's indexes now, on the server, while the
        caller goes on (the quality check); the commit waits for them (publish/direct_load.py)."""
        if self._direct:  # invalid rows kept for the steward are copied at the commit, once the indexes are built
            self._direct.index_early(bulk.PG_MEMORY, self._analyze)

    def _analyze(self, conn: sa.Connection, table: str) -> None:
        """The planner's statistics of a loaded table (its own name, or a direct load's new table)."""
        bulk.analyze(conn, table, self.table.c.keys(), statistics_target=bulk.LOAD_STATISTICS_TARGET)

    def _end_stream(self, error: BaseException | None = None) -> None:
        """Finish the staging COPY (PostgreSQL), so the connection can run other statements."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.finish(error)

    def _start_direct(self) -> DirectLoad | Literal[False]:
        assert self.conn is not None and self.load_id is not None
        geometry = self.dataset.schema.geometry
        if not DirectLoad.possible(self.conn, self.store, self.table, geometry):
            return False
        version = next_version(self.store, self.conn, self.dataset.id)  # expected; checked again under the lock
        self.conn.rollback()  # the look-ups' implicit transaction; the direct load opens its own
        return DirectLoad(self.conn, self.table, f"{self.table.name}__load_{self.load_id}", version, geometry,
                               geometry_sql(self.store, self.dataset, ""))

    def reject(self, frame: pd.DataFrame) -> int:
        """Keep invalid rows (source text and errors) for the steward."""
        if frame.empty:
            return 0
        rows = list(rejected_records(frame, self.dataset.schema))
        assert self.conn is not None
        self.rows_rejected += len(rows)
        if self.store.dialect == "postgresql":  # copying them ends the rows' COPY, which then restarts after
            # waiting for the server: kept until enough of them (or the commit), the COPY stays open
            self._rejects.append(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
            self._rejects_kept += len(rows)
            if self._rejects_kept >= REJECTS_KEPT:
                self._flush_rejects()
            return len(rows)
        with self.conn.begin():
            self.conn.exec_driver_sql(f"INSERT INTO {self._reject_name} VALUES (?, ?, ?)", rows)
        return len(rows)

    def _flush_rejects(self) -> None:
        """PostgreSQL: copy the invalid rows kept so far into the load's rejects table."""
        if not self._rejects:
            return
        assert self.conn is not None
        if self._direct:
            self._direct.finish()  # the connection runs one statement at a time
        self._end_stream()
        blobs, self._rejects, self._rejects_kept = self._rejects, [], 0
        rows = (row for blob in blobs for row in pickle.loads(blob))  # our own bytes, from reject()
        with nullcontext() if self.conn.in_transaction() else self.conn.begin():  # a COPY's transaction is open
            self._copy(self._reject_name, ["row_number", "data", "errors"], rows)

    def _copy(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        assert self.conn is not None
        raw = driver(self.conn)
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # -- apply -------------------------------------------------------------------------------------------------
    def commit(self, *, report: dict[str, Any] | None = None, rows_read: int | None = None,
               quality_score: float | None = None, keep_rejected_only: bool = False,
               error: str | None = None) -> LoadResult:
        """Apply the staged rows as the dataset's next version, atomically.

        With keep_rejected_only (a load refused by the `reject` policy) nothing is applied: the load is
        recorded as rejected, with its report and its invalid rows. A load the shrink guard refuses
        (publish/guard.py: it would remove more than the plan allows) is recorded the same way, with the
        refusal as its error; the refusal is kept in `self.refusal` for the caller to report.
        """
        assert self.conn is not None and self.load_id is not None
        rows_read = rows_read if rows_read is not None else self.rows_staged + self.rows_rejected
        try:
            return self._commit(report, rows_read, quality_score, keep_rejected_only, error)
        except ShrinkRefused as exc:
            conn = self.conn
            if conn.in_transaction():  # a direct load's transaction (its new table goes with it)
                conn.rollback()
            self.refusal = exc
            result = LoadResult(self.load_id, self.dataset.id, "rejected", rows_read=rows_read,
                                rows_rejected=self.rows_rejected, report=report)
            with conn.begin():
                self._record(conn, result, report, quality_score, error=exc.bilingual())
            self._finished = True
            return result

    def _commit(self, report: dict[str, Any] | None, rows_read: int, quality_score: float | None,
                keep_rejected_only: bool, error: str | None) -> LoadResult:
        assert self.conn is not None and self.load_id is not None
        conn = self.conn
        self._flush_rejects()
        result = LoadResult(self.load_id, self.dataset.id, "rejected" if keep_rejected_only else "committed",
                            rows_read=rows_read, rows_rejected=self.rows_rejected, report=report)
        if self._direct:
            self._commit_direct(conn, self._direct, result, quality_score, keep_rejected_only, error)
            self._finished = True
            return result
        self._end_stream()
        if conn.in_transaction():  # the staging COPY's
            conn.commit()
        first = not keep_rejected_only and bulk.is_empty(conn, self.table.name)
        if not keep_rejected_only and not first and self.store.dialect == "sqlite":
            with conn.begin():  # SQLite looks staged rows up by key (PostgreSQL hash-joins, no index needed)
                conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{self._stage_name} ON {self._stage_name} (_key, _hash)")
        with bulk.tuned(conn), locked_transaction(self.store, conn, self.dataset.id):
            if not keep_rejected_only:
                if first and bulk.is_empty(conn, self.table.name):  # checked again under the lock
                    self._apply_first(conn, result)
                else:
                    self._apply(conn, result)
                if result.version is not None:
                    bulk.analyze(conn, self.table.name, self.table.c.keys(), statistics_target=bulk.LOAD_STATISTICS_TARGET)
            self._record(conn, result, report, quality_score, error=error)
            crash_point("applied")
        self._finished = True
        if result.version is not None and self.store.dialect == "sqlite":
            bulk.truncate_wal(conn)
        return result

    def _commit_direct(self, conn: sa.Connection, direct: DirectLoad, result: LoadResult,
                       quality_score: float | None, keep_rejected_only: bool, error: str | None) -> None:
        """Finish a direct load in the transaction it began: swap its table in, or apply from it."""
        direct.finish()
        with conflicts_reported(self.store, conn, self.dataset.id):
            take_lock(self.store, conn, self.dataset.id)
            conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{bulk.PG_MEMORY}'")
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{bulk.PG_MEMORY}'")
            swapped = False
            if not keep_rejected_only and self.rows_staged and bulk.is_empty(conn, self.table.name) \
                    and next_version(self.store, conn, self.dataset.id) == direct.version:
                swapped = direct.swap()
            if swapped:
                result.version = direct.version
                result.rows_loaded = result.rows_added = self.rows_staged
                self.impact = Impact(incoming=self.rows_staged, added=self.rows_staged)
            elif not keep_rejected_only:  # someone loaded first: the new table is this load's staging table
                staging, self._stage_name = self._stage_name, direct.name
                try:
                    if bulk.is_empty(conn, self.table.name):
                        self._apply_first(conn, result)
                    else:
                        self._apply(conn, result)
                finally:
                    self._stage_name = staging
            if not swapped:
                conn.exec_driver_sql(f"DROP TABLE {direct.name}")
            if result.version is not None and not (swapped and direct.analyzed):
                self._analyze(conn, self.table.name)
            self._record(conn, result, result.report, quality_score, error=error)
            crash_point("applied")
            direct.transaction.commit()

    def _insert_sql(self, version: int, where: str = "") -> str:
        fields = self._quoted_fields()
        target = ["_key", "_hash", "_from", "_search", *fields]
        source = ["s._key", "s._hash", str(version), "s._search", *(f"s.{f}" for f in fields)]
        geom = geometry_sql(self.store, self.dataset, "s")
        if geom:
            target.append("_geom")
            source.append(geom)
        return f"INSERT INTO {self.table.name} ({', '.join(target)}) SELECT {', '.join(source)} FROM {self._stage_name} s {where}"

    def _apply_first(self, conn: sa.Connection, result: LoadResult) -> None:
        """Everything staged is new: insert it in one statement with the indexes built afterwards."""
        result.rows_loaded = result.rows_added = self.rows_staged
        self.impact = Impact(incoming=self.rows_staged, added=self.rows_staged)
        if not self.rows_staged:
            result.status = "unchanged"
            return
        result.version = next_version(self.store, conn, self.dataset.id)
        with bulk.indexes_deferred(conn, self.store, self.table):
            conn.exec_driver_sql(self._insert_sql(result.version))

    def _measure(self, conn: sa.Connection) -> Impact:
        """What applying the staged rows does to the current version, under the plan (publish/guard.py)."""
        t, s = self.table.name, self._stage_name
        staged, added, unchanged, current = change_counts(conn, t, f"SELECT _key, _hash FROM {s}")
        impact = Impact(incoming=staged, added=added, unchanged=unchanged, changed=staged - added - unchanged)
        if self.plan.mode == "upsert":
            return impact
        missing = f"NOT EXISTS (SELECT 1 FROM {s} s WHERE s._key = d._key)"
        if self.plan.scope is None:
            impact.current = current
            impact.removed = current - (staged - added)  # keys are unique on both sides
            where = f"d._to IS NULL AND {missing}"
        else:
            where = f"d._to IS NULL AND {self.plan.scope.sql(self.dataset.schema, 'd')}"
            impact.current = int(conn.exec_driver_sql(f"SELECT count(*) FROM {t} d WHERE {where}").scalar() or 0)
            where += f" AND {missing}"
            impact.removed = int(conn.exec_driver_sql(f"SELECT count(*) FROM {t} d WHERE {where}").scalar() or 0)
        if impact.removed:
            order = 'd._key COLLATE "C"' if self.store.dialect == "postgresql" else "d._key"
            impact.removed_keys = list(conn.exec_driver_sql(
                f"SELECT d._key FROM {t} d WHERE {where} ORDER BY {order} LIMIT {KEYS_SHOWN}").scalars())
        return impact

    def _apply(self, conn: sa.Connection, result: LoadResult) -> None:
        t, s = self.table.name, self._stage_name
        if self.store.dialect == "sqlite":  # made before the lock unless this load expected an empty table
            conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS ix_{s} ON {s} (_key, _hash)")
        impact = self.impact = self._measure(conn)
        check_shrink(self.dataset, self.plan, impact)  # refused: the transaction rolls back, nothing changes
        result.rows_loaded, result.rows_added, result.rows_removed = impact.incoming, impact.added, impact.removed
        result.rows_unchanged = impact.unchanged
        result.rows_changed = impact.changed
        if result.rows_added + result.rows_changed + result.rows_removed == 0:
            result.status = "unchanged"
            return
        version = result.version = next_version(self.store, conn, self.dataset.id)
        if result.rows_changed + result.rows_removed:
            changed = f"EXISTS (SELECT 1 FROM {s} s WHERE s._key = {t}._key AND s._hash <> {t}._hash)"
            if self.plan.mode == "full":
                closing = f"NOT EXISTS (SELECT 1 FROM {s} s WHERE s._key = {t}._key AND s._hash = {t}._hash)"
            elif self.plan.mode == "upsert":
                closing = changed
            else:  # scoped: changed anywhere, or of the scope and not in the file
                scope = self.plan.scope.sql(self.dataset.schema, t)  # type: ignore[union-attr]
                closing = f"({changed} OR ({scope} AND NOT EXISTS (SELECT 1 FROM {s} s WHERE s._key = {t}._key)))"
            conn.exec_driver_sql(f"UPDATE {t} SET _to = {version} WHERE _to IS NULL AND {closing}")
        if result.rows_added + result.rows_changed:
            conn.exec_driver_sql(self._insert_sql(
                version, f"WHERE NOT EXISTS (SELECT 1 FROM {t} d WHERE d._to IS NULL AND d._key = s._key)"))

    def _record(self, conn: sa.Connection, result: LoadResult, report: dict[str, Any] | None,
                quality_score: float | None, *, error: str | None = None) -> None:
        if isinstance(report, dict) and isinstance(report.get("hub"), dict):  # the plan and what it measured
            report["hub"]["load"] = {**self.plan.to_dict(),
                                     "impact": self.impact.to_dict() if self.impact is not None else None}
        if self.rows_rejected:
            conn.exec_driver_sql(
                f"INSERT INTO hub_rejected_rows (load_id, row_number, data, errors) "
                f"SELECT {self.load_id}, row_number, data, errors FROM {self._reject_name}"
            )
        conn.execute(
            tables.loads.update().where(tables.loads.c.id == self.load_id).values(
                status=result.status, version=result.version, finished_at=utcnow(),
                rows_read=result.rows_read, rows_loaded=result.rows_loaded, rows_rejected=result.rows_rejected,
                rows_unchanged=result.rows_unchanged, rows_added=result.rows_added, rows_changed=result.rows_changed,
                rows_removed=result.rows_removed, quality_score=quality_score, error=error,
                report=stored_report(report, conn),
            )
        )

    def fail(self, error: str, *, report: dict[str, Any] | None = None) -> None:
        """Record the load as failed; nothing of it is applied."""
        if self.load_id is None:
            return
        self._stop_heartbeat()
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    tables.loads.update().where(tables.loads.c.id == self.load_id).values(
                        status="failed", finished_at=utcnow(), error=error,
                        report=json.dumps(report, ensure_ascii=False, default=str) if report is not None else None,
                    )
                )
        except sa.exc.SQLAlchemyError:  # the database is locked or full too: the error being reported matters
            # more; the entry stays `running` until recovery finds this process gone
            return
        self._finished = True

    # -- helpers -----------------------------------------------------------------------------------------------
    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None

    def _quoted_fields(self) -> list[str]:
        return [f'"{name}"' for name in self.dataset.schema.field_names]
