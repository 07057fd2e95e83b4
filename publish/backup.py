"""Backup of the whole hub, portable between SQLite and PostgreSQL: a zip of JSON Lines plus a manifest.

What is in it is discovered, never listed: every hub_* table of `publish.tables.metadata` (loads = the
catalogue's versions, reports, rejected rows, clients, keys, grants, audit log (read from its own file on
SQLite), jobs, and whatever table is added later), any other hub_* or ds_* table found in the database, and
every dataset table with every version of every row. One file per table, `tables/<name>.jsonl`, one JSON array
per row in the column order the manifest gives, values in a typed canonical form (dates and times ISO 8601,
geometry as WKB hex), so a backup taken on one backend restores on the other. `manifest.json` records the hub's
version, the Alembic revision, each table's columns, row count, size and sha256.

All tables are read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite), so
a backup taken while a load commits holds the dataset before or after it, never half. The zip is written
next to its final name and renamed at the end: a backup that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

from core.errors import HubError, InputError
from core.files import storage_errors
from publish import audit, tables
from publish.store import Store

FORMAT = "dong-nai-hub-backup"
FORMAT_VERSION = 1
BATCH = 5000
Progress = Callable[[str, int], None]  # (table, rows done so far)


class BackupError(HubError):
    code = "backup-error"


class DamagedBackup(BackupError, InputError):
    """Not a hub backup, made by a newer hub, or damaged: an unreadable input (exit status 5, HTTP 400)."""

    code = "backup-damaged"


def kind_of(column: sa.Column[Any]) -> str:
    """The canonical type a column's values are written as."""
    t = column.type
    if column.name == "_geom" or isinstance(t, Geometry):
        return "geometry"
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.Integer):
        return "integer"
    if isinstance(t, (sa.Float, sa.Numeric)):
        return "number"
    if isinstance(t, sa.DateTime):
        return "datetime"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.LargeBinary):
        return "binary"
    return "string"


def discover(store: Store, conn: sa.Connection) -> list[tuple[str, sa.Table, str | None]]:
    """(kind, table, dataset id) of everything to back up: hub tables in foreign-key order, then datasets.

    A table's columns are those the database really has (a column the code declares but no migration has
    added yet is not there to read)."""
    inspector = sa.inspect(conn)
    # the key generation is a counter of changes, not data: each database keeps its own (migration 0006)
    present = set(inspector.get_table_names()) - {tables.key_generation.name}
    found: list[tuple[str, sa.Table, str | None]] = []
    for table in tables.metadata.sorted_tables:
        if table.name in present:
            found.append(("hub", table, None))
    known = {t.name for _, t, _ in found}
    for ds in store.catalog.load_order():
        table = store.table(ds)
        if table.name in present:
            found.append(("dataset", table, ds.id))
            known.add(table.name)
    extra = sa.MetaData()
    for name in sorted(present - known):
        if name.startswith(("hub_", "ds_")):
            found.append(("hub" if name.startswith("hub_") else "dataset", sa.Table(name, extra, autoload_with=conn),
                          None))
    out = []
    for kind, table, dataset in found:
        real = {c["name"] for c in inspector.get_columns(table.name)}
        if real != set(table.c.keys()):
            table = sa.Table(table.name, sa.MetaData(), *[c._copy() for c in table.columns if c.name in real])
        out.append((kind, table, dataset))
    return out


def _columns(store: Store, table: sa.Table) -> list[Any]:
    out: list[Any] = []
    for column in table.columns:
        if kind_of(column) == "geometry":
            fn = sa.func.ST_AsBinary if store.dialect == "postgresql" else sa.func.AsBinary
            out.append(fn(sa.literal_column(f'"{column.name}"', type_=sa.LargeBinary)).label(column.name))
        else:
            out.append(column)
    return out


def _canonical(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("geometry", "binary"):
        return bytes(value).hex()
    if kind == "boolean":
        return bool(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _dump_rows(conn: sa.Connection, store: Store, table: sa.Table) -> Iterator[bytes]:
    kinds = [kind_of(c) for c in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)[:1]
    stmt = sa.select(*_columns(store, table)).select_from(table).order_by(*order)
    for row in conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt):
        values = [_canonical(v, k) for v, k in zip(row, kinds, strict=True)]
        yield (json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")


def _hub_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dong-nai-culture-data-hub")
    except PackageNotFoundError:
        return "unknown"


def default_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"hub-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.zip"


def backup(store: Store, path: Path | str, *, keep: int | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """Write the whole hub to `path` (a .zip, added to a name without it; a folder, existing or written `DIR/`,
    gets a dated name inside). Returns the manifest, with
    `path` set. With `keep`, older backups in the same folder beyond the newest `keep` are removed."""
    from publish.migrate import current_revision

    target = Path(path)
    if not target.is_dir() and not str(path).endswith(("/", os.sep)) and target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")  # a backup is always a .zip
    if target.is_dir() or str(path).endswith(("/", os.sep)):  # a folder, even one not made yet ("DIR/")
        with storage_errors(target):
            target.mkdir(parents=True, exist_ok=True)
        folder, target = target, target / default_name()
        n = 1
        while target.exists():  # two backups within one second
            n += 1
            target = folder / default_name().replace(".zip", f"-{n}.zip")
    with storage_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "hub_version": _hub_version(),
        "alembic_revision": current_revision(store.engine), "source_dialect": store.dialect,
        "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z", "tables": [],
    }
    with storage_errors(target):
        fd, temp_name = tempfile.mkstemp(prefix=".partial-", suffix=".zip", dir=target.parent)
        os.close(fd)
    try:
        with storage_errors(target), zipfile.ZipFile(temp_name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive, \
                _snapshot(store, store.engine) as conn, _snapshot(store, store.audit_engine, conn) as audit_conn:
            for kind, table, dataset, source in sources(store, conn, audit_conn):
                manifest["tables"].append(_write_table(archive, source, store, table, kind, dataset, progress))
            # the audit chain's head, signed with HUB_AUDIT_KEY: `hub audit --verify --anchors <backup>` later
            # shows entries cut off the end since this backup
            manifest["audit_anchor"] = audit.anchor(store, audit_conn)
            archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    manifest["path"] = str(target)
    if keep:
        manifest["removed"] = [str(p) for p in prune(target.parent, keep)]
    return manifest


def sources(store: Store, conn: sa.Connection,
            audit_conn: sa.Connection) -> list[tuple[str, sa.Table, str | None, sa.Connection]]:
    """discover()'s tables, each with the connection to read it on: the audit log's own file on SQLite
    (publish/audit_store.py) is one more database, whose hub_audit is backed up as any other table."""
    found = [(kind, table, dataset, conn) for kind, table, dataset in discover(store, conn)]
    if audit_conn is not conn:
        names = {table.name for _, table, _, _ in found}  # a log not yet moved out of the main file counts once
        found += [(kind, table, dataset, audit_conn) for kind, table, dataset in discover(store, audit_conn)
                  if table.name not in names]
    return found


class _snapshot:
    """One read transaction over every table of `engine` (REPEATABLE READ on PostgreSQL: one snapshot for all
    reads); `same` when `engine` is the one `same` is a connection of."""

    def __init__(self, store: Store, engine: sa.Engine, same: sa.Connection | None = None) -> None:
        self.store, self.engine, self.same = store, engine, same

    def __enter__(self) -> sa.Connection:
        if self.same is not None and self.same.engine is self.engine:
            return self.same
        self.conn = self.engine.connect()
        if self.store.dialect == "postgresql":
            self.conn = self.conn.execution_options(isolation_level="REPEATABLE READ")
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, *exc: Any) -> None:
        if self.same is not None and self.same.engine is self.engine:
            return
        self.tx.rollback()
        self.conn.close()


def _write_table(archive: zipfile.ZipFile, conn: sa.Connection, store: Store, table: sa.Table, kind: str,
                 dataset: str | None, progress: Progress | None) -> dict[str, Any]:
    name = f"tables/{table.name}.jsonl"
    digest, size, rows = hashlib.sha256(), 0, 0
    with archive.open(name, "w", force_zip64=True) as entry:
        for line in _dump_rows(conn, store, table):
            digest.update(line)
            size += len(line)
            rows += 1
            entry.write(line)
            if progress and rows % BATCH == 0:
                progress(table.name, rows)
    if progress:
        progress(table.name, rows)
    return {"name": table.name, "kind": kind, "dataset": dataset, "file": name, "rows": rows, "bytes": size,
            "sha256": digest.hexdigest(),
            "columns": [{"name": c.name, "type": kind_of(c)} for c in table.columns]}


def read_manifest(path: Path | str) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise DamagedBackup(f"Không phải bản sao lưu của cổng dữ liệu: {path} ({exc})",
                          f"Not a hub backup: {path} ({exc})", file=str(path)) from None
    if manifest.get("format") != FORMAT:
        raise DamagedBackup(f"Không phải bản sao lưu của cổng dữ liệu: {path}", f"Not a hub backup: {path}",
                          file=str(path))
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise DamagedBackup("Bản sao lưu được tạo bởi phiên bản mới hơn của cổng dữ liệu",
                          "The backup was made by a newer version of the hub", file=str(path))
    return manifest


def verify(path: Path | str) -> dict[str, Any]:
    """The manifest, after checking every table file's size and sha256 against it (BackupError if not)."""
    manifest = read_manifest(path)
    with zipfile.ZipFile(path) as archive:
        for entry in manifest["tables"]:
            digest, size = hashlib.sha256(), 0
            try:
                with archive.open(entry["file"]) as handle:
                    while block := handle.read(1 << 20):
                        digest.update(block)
                        size += len(block)
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                raise DamagedBackup(f"Bản sao lưu hỏng: thiếu hoặc không đọc được {entry['file']}",
                                  f"Damaged backup: {entry['file']} is missing or unreadable ({exc})",
                                  file=str(path)) from None
            if digest.hexdigest() != entry["sha256"] or size != entry["bytes"]:
                raise DamagedBackup(f"Bản sao lưu hỏng: tổng kiểm tra của {entry['file']} không khớp",
                                  f"Damaged backup: the checksum of {entry['file']} does not match the manifest",
                                  file=str(path))
    return manifest


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove hub backups in `folder` beyond the newest `keep` (by the time in their manifest). Other files
    are never touched: only zips whose manifest says they are hub backups count."""
    found: list[tuple[str, float, Path]] = []
    for candidate in folder.glob("*.zip"):
        try:
            found.append((read_manifest(candidate)["created_at"], candidate.stat().st_mtime, candidate))
        except BackupError:
            continue
    found.sort(reverse=True)
    removed = []
    for _, _, old in found[keep:]:
        old.unlink()
        removed.append(old)
    return removed


__all__ = ["backup", "verify", "read_manifest", "prune", "discover", "sources", "kind_of", "BackupError", "default_name"]
