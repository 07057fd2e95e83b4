"""Restore a hub backup (publish/backup.py) into an empty database of either kind.

Every table file's checksum is verified before anything is written; then the whole restore is one
transaction (it lands completely or not at all). Rows stream in batches: PostgreSQL `COPY` (geometry given
as hex EWKB, which PostGIS reads directly), SQLite executemany (geometry rebuilt with GeomFromWKB). Dataset
tables are filled with their indexes and spatial index built afterwards (publish/bulk.py). Ids are restored
as they were, so PostgreSQL's identity/serial sequences are moved past them at the end.

A database that already holds data is refused unless `force`: then its tables are emptied first, in the
same transaction (the audit log's append-only triggers are lifted for that and put back). On SQLite the audit
log goes into its own file (publish/audit_store.py), in a transaction of that file committed with the main one.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from contextlib import ExitStack, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

from publish import bulk, tables
from publish.audit import NUL_STAND_IN
from publish.backup import BATCH, BackupError, Progress, kind_of, verify
from publish.db import driver
from publish.store import Store, utcnow

_TYPES = {"integer": sa.BigInteger, "number": sa.Float, "boolean": sa.Boolean, "date": sa.Date,
          "datetime": sa.DateTime, "string": sa.Text, "binary": sa.LargeBinary}


def restore(store: Store, path: Path | str, *, force: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Restore the backup at `path` into `store`'s database. Returns the manifest."""
    manifest = verify(path)
    store.init()
    with ExitStack() as stack:
        conn = stack.enter_context(store.engine.connect())
        # the audit log's own file on SQLite (publish/audit_store.py): its table is restored there
        audit_conn = conn if store.audit_engine is store.engine else stack.enter_context(store.audit_engine.connect())

        def on(table: sa.Table) -> sa.Connection:
            return audit_conn if table.name == tables.audit_log.name else conn

        plan = _plan(store, conn, manifest)
        filled = [table.name for _, table in plan if _has_rows(on(table), table)]
        for c in {id(conn): conn, id(audit_conn): audit_conn}.values():
            c.rollback()  # end the reads' implicit transaction; the restore's own begins below
        if filled and not force:
            raise BackupError(
                f"Cơ sở dữ liệu đích không trống ({', '.join(filled[:5])}); dùng --force để xoá và khôi phục đè",
                f"The target database is not empty ({', '.join(filled[:5])}); use --force to empty it and restore",
                file=str(path))
        conn.info["sqlite_begin"] = audit_conn.info["sqlite_begin"] = "IMMEDIATE"
        try:
            with conn.begin(), audit_conn.begin() if audit_conn is not conn else nullcontext(), \
                    zipfile.ZipFile(path) as archive:
                for _, table in reversed(plan):
                    if table.name in filled:
                        _empty(on(table), table)
                for entry, table in plan:
                    _load(on(table), store, archive, entry, table, progress)
                if store.dialect == "postgresql":
                    for _, table in plan:
                        _reset_sequences(conn, table)
                conn.execute(tables.loads.update().where(tables.loads.c.status == "running").values(
                    status="failed", finished_at=utcnow(),
                    error="Đang chạy khi sao lưu / It was running when the backup was taken"))
        finally:
            conn.info.pop("sqlite_begin", None)
            audit_conn.info.pop("sqlite_begin", None)
    return manifest


def _plan(store: Store, conn: sa.Connection, manifest: dict[str, Any]) -> list[tuple[dict[str, Any], sa.Table]]:
    """Each backed-up table with the table it goes into (created from the manifest if the target lacks it)."""
    present = set(sa.inspect(conn).get_table_names())
    datasets = {ds.id: ds for ds in store.catalog}
    reflected = sa.MetaData()
    plan = []
    for entry in manifest["tables"]:
        name = entry["name"]
        if entry.get("dataset") in datasets:
            table = store.table(datasets[entry["dataset"]])
        elif name in tables.metadata.tables:
            table = tables.metadata.tables[name]
        elif name in present:
            table = sa.Table(name, reflected, autoload_with=conn)
        else:
            table = _table_from_manifest(entry, reflected)
            table.create(conn)
            conn.commit()
        missing = [c["name"] for c in entry["columns"] if c["name"] not in table.c]
        if missing:
            raise BackupError(f"Bảng {name} của bản sao lưu có cột mà cơ sở dữ liệu đích không có: {', '.join(missing)}",
                              f"Table {name} of the backup has columns the target database lacks: {', '.join(missing)}",
                              field=missing[0])
        plan.append((entry, table))
    return plan


def _table_from_manifest(entry: dict[str, Any], md: sa.MetaData) -> sa.Table:
    columns = []
    for c in entry["columns"]:
        kind = Geometry("GEOMETRY", srid=4326) if c["type"] == "geometry" else _TYPES[c["type"]]()
        columns.append(sa.Column(c["name"], kind, primary_key=c["name"] in ("id", "_id")))
    return sa.Table(entry["name"], md, *columns)


def _has_rows(conn: sa.Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def _empty(conn: sa.Connection, table: sa.Table) -> None:
    """DELETE every row; when a trigger refuses it (the audit log), lift the table's triggers meanwhile."""
    try:
        with conn.begin_nested():
            conn.execute(table.delete())
        return
    except sa.exc.DBAPIError:
        pass
    if conn.dialect.name == "sqlite":
        saved = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                     (table.name,)).all()
        drop = 'DROP TRIGGER "{}"'
    else:
        saved = conn.execute(sa.text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                                     "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"), {"t": table.name}).all()
        drop = 'DROP TRIGGER "{}" ON ' + table.name
    for name, _ in saved:
        conn.exec_driver_sql(drop.format(name))
    conn.execute(table.delete())
    for _, sql in saved:
        conn.exec_driver_sql(sql)


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind in ("geometry", "binary"):
        return bytes.fromhex(value)
    if kind == "boolean":
        return bool(value)
    if kind == "number":
        return float(value)
    return value


def _ewkb_hex(wkb: bytes, srid: int) -> str:
    """WKB with the SRID flag and value added to its header: the text PostGIS's geometry input accepts."""
    fmt = "<I" if wkb[0] == 1 else ">I"
    (kind,) = struct.unpack(fmt, wkb[1:5])
    return (wkb[:1] + struct.pack(fmt, kind | 0x20000000) + struct.pack(fmt, srid) + wkb[5:]).hex()


def _batches(archive: zipfile.ZipFile, entry: dict[str, Any]) -> Any:
    kinds = [c["type"] for c in entry["columns"]]
    batch: list[list[Any]] = []
    with archive.open(entry["file"]) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            batch.append([_value(v, k) for v, k in zip(json.loads(line), kinds, strict=True)])
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _load(conn: sa.Connection, store: Store, archive: zipfile.ZipFile, entry: dict[str, Any], table: sa.Table,
          progress: Progress | None) -> None:
    if not entry["rows"]:
        return
    names = [c["name"] for c in entry["columns"]]
    geometry = [i for i, c in enumerate(entry["columns"]) if c["type"] == "geometry"]
    srid = {n: _srid(table.c[n]) for n in names}
    with bulk.indexes_deferred(conn, store, table) if entry["kind"] == "dataset" else nullcontext():
        if store.dialect == "postgresql":
            _copy(conn, archive, entry, table, names, geometry, srid, progress)
        else:
            _insert(conn, archive, entry, table, names, geometry, srid, progress)
    if entry["kind"] == "dataset":  # the planner's statistics of the restored rows, as a load leaves them
        bulk.analyze(conn, table.name)


def _srid(column: sa.Column[Any]) -> int:
    srid = getattr(column.type, "srid", None)
    return srid if srid and srid > 0 else 4326


def _copy(conn: sa.Connection, archive: zipfile.ZipFile, entry: dict[str, Any], table: sa.Table, names: list[str],
          geometry: list[int], srid: dict[str, int], progress: Progress | None) -> None:
    done = 0
    raw = driver(conn)
    cols = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
        for batch in _batches(archive, entry):
            for row in batch:
                for i in geometry:
                    if row[i] is not None:
                        row[i] = _ewkb_hex(row[i], srid[names[i]])
                for i, value in enumerate(row):
                    # SQLite text may hold NUL, PostgreSQL's cannot: the stand-in the audit log hashes instead
                    if type(value) is str and "\x00" in value:
                        row[i] = value.replace("\x00", NUL_STAND_IN)
                copy.write_row(row)
            done += len(batch)
            if progress:
                progress(table.name, done)


def _insert(conn: sa.Connection, archive: zipfile.ZipFile, entry: dict[str, Any], table: sa.Table, names: list[str],
            geometry: list[int], srid: dict[str, int], progress: Progress | None) -> None:
    done = 0
    processors = [None if i in geometry else table.c[n].type.bind_processor(conn.dialect)
                  for i, n in enumerate(names)]
    marks = ", ".join(f"GeomFromWKB(?, {srid[n]})" if i in geometry else "?" for i, n in enumerate(names))
    sql = f'INSERT INTO "{table.name}" ({", ".join(chr(34) + n + chr(34) for n in names)}) VALUES ({marks})'
    cursor = driver(conn).cursor()
    for batch in _batches(archive, entry):
        cursor.executemany(sql, [[p(v) if p and v is not None else v for p, v in zip(processors, row, strict=True)]
                                 for row in batch])
        done += len(batch)
        if progress:
            progress(table.name, done)
    cursor.close()


def _reset_sequences(conn: sa.Connection, table: sa.Table) -> None:
    """After explicit ids, the next id a sequence hands out must be past the largest restored one."""
    for column in table.primary_key.columns:
        if kind_of(column) != "integer":
            continue
        sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": table.name, "c": column.name}).scalar()
        if sequence:
            conn.execute(sa.text(f'SELECT setval(:s, COALESCE((SELECT max("{column.name}") FROM "{table.name}"), 1), '
                                 f'(SELECT max("{column.name}") FROM "{table.name}") IS NOT NULL)'), {"s": sequence})


__all__ = ["restore"]
