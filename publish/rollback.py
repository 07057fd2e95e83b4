"""Rollback: make a dataset's rows equal an earlier version's again, as a NEW version.

Nothing is deleted or rewritten: history only grows, so the bad version stays readable (`as_of`) and the
change feed tells copies exactly what to undo. Two set-based statements in one transaction holding the
dataset's lock (the same lock as loads):
1. close the current rows that are not in version V (same key and same hash);
2. insert, as the new version, V's rows whose key is no longer current (geometry copied as stored).
Recorded in hub_loads like a load, with the note "rollback to V".
"""

from __future__ import annotations

import os

from core.catalog import Dataset
from core.errors import HubError, NotFound
from publish import tables
from publish.db import inserted_id
from publish.load_sql import change_counts
from publish.loads import LoadResult
from publish.locks import locked_transaction, next_version
from publish.store import Store, utcnow


def _as_of(alias: str, version: int) -> str:
    return f"{alias}._from <= {version} AND ({alias}._to IS NULL OR {alias}._to > {version})"


def rollback(store: Store, dataset: Dataset | str, version: int, *, user: str | None = None) -> LoadResult:
    """Publish the rows of `version` as the dataset's next version. Unchanged (no new version) when the
    current rows already equal them."""
    ds = store.catalog.dataset(dataset) if isinstance(dataset, str) else dataset
    table = store.table(ds).name
    current = store.current_version(ds.id) or 0
    if version < 1 or version > current:
        raise NotFound(f"Không có phiên bản {version} của «{ds.id}» để quay lại",
                       f"No version {version} of «{ds.id}» to roll back to", dataset=ds.id)
    columns = ["_key", "_hash", "_search", *[f'"{n}"' for n in ds.schema.field_names]]
    if ds.schema.geometry_kind:
        columns.append("_geom")
    note = f"rollback to {version}"
    with store.engine.connect() as conn, locked_transaction(store, conn, ds.id):
        if (store.current_version(ds.id, conn) or 0) < version:
            raise HubError("Phiên bản đã thay đổi trong lúc quay lại", "The versions changed during the rollback",
                           dataset=ds.id)
        target, added, unchanged, current = change_counts(
            conn, table, f"SELECT _key, _hash FROM {table} v WHERE {_as_of('v', version)}")
        removed = current - (target - added)
        result = LoadResult(0, ds.id, "committed", rows_read=target, rows_loaded=target, rows_added=added,
                            rows_removed=removed, rows_unchanged=unchanged, rows_changed=target - added - unchanged)
        if added + removed + result.rows_changed == 0:
            result.status = "unchanged"
        else:
            result.version = new = next_version(store, conn, ds.id)
            conn.exec_driver_sql(
                f"UPDATE {table} SET _to = {new} WHERE _to IS NULL AND NOT EXISTS (SELECT 1 FROM {table} v "
                f"WHERE v._key = {table}._key AND v._hash = {table}._hash AND {_as_of('v', version)})"
            )
            cols = ", ".join(columns)
            picked = ", ".join(f"v.{c}" for c in columns)
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({cols}, _from) SELECT {picked}, {new} FROM {table} v "
                f"WHERE {_as_of('v', version)} AND NOT EXISTS "
                f"(SELECT 1 FROM {table} c WHERE c._to IS NULL AND c._key = v._key)"
            )
        now = utcnow()
        result.load_id = inserted_id(conn.execute(tables.loads.insert().values(
            dataset=ds.id, version=result.version, status=result.status, source_name=note, format="rollback",
            created_by=user, started_at=now, finished_at=now, rows_read=result.rows_read,
            rows_loaded=result.rows_loaded, rows_unchanged=result.rows_unchanged, rows_added=result.rows_added,
            rows_changed=result.rows_changed, rows_removed=result.rows_removed, note=note, pid=os.getpid(),
        )))
    return result


__all__ = ["rollback"]
