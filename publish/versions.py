"""The history of a dataset: its loads and versions, as plain dicts for the CLI, API and web."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from core.errors import NotFound
from publish import tables
from publish.db import reading
from publish.store import Store

SUMMARY_COLUMNS = [
    "id", "dataset", "version", "status", "source_name", "source_sha256", "source_size", "format", "encoding",
    "created_by", "started_at", "finished_at", "rows_read", "rows_loaded", "rows_rejected", "rows_unchanged",
    "rows_added", "rows_changed", "rows_removed", "quality_score", "error", "note",
]


def _row(row: Any) -> dict[str, Any]:
    out = {}
    for name in SUMMARY_COLUMNS:
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def loads(store: Store, dataset: str | None = None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Loads newest first (every attempt, including refused and failed ones)."""
    t = tables.loads
    stmt = sa.select(*[t.c[n] for n in SUMMARY_COLUMNS]).order_by(t.c.id.desc()).limit(limit)
    if dataset:
        stmt = stmt.where(t.c.dataset == dataset)
    with store.read_engine.connect() as conn:
        return [_row(r) for r in conn.execute(stmt)]


def versions(store: Store, dataset: str) -> list[dict[str, Any]]:
    """Committed versions, newest first (the first is the current one)."""
    t = tables.loads
    stmt = (sa.select(*[t.c[n] for n in SUMMARY_COLUMNS])
            .where(t.c.dataset == dataset, t.c.status == "committed").order_by(t.c.version.desc()))
    with reading(store.read_engine) as conn:  # one statement: no transaction around it
        return [_row(r) for r in conn.execute(stmt)]


def latest_load(store: Store, dataset: str) -> dict[str, Any] | None:
    """The newest load that produced or confirmed the current data (committed or unchanged)."""
    t = tables.loads
    stmt = (sa.select(*[t.c[n] for n in SUMMARY_COLUMNS])
            .where(t.c.dataset == dataset, t.c.status.in_(("committed", "unchanged"))).order_by(t.c.id.desc()).limit(1))
    with reading(store.read_engine) as conn:  # one statement: no transaction around it
        row = conn.execute(stmt).first()
    return _row(row) if row else None


def load_summary(store: Store, load_id: int, dataset: str | None = None) -> dict[str, Any]:
    """One load's summary (the columns `loads` lists); NotFound for an unknown id, or one of another dataset
    when `dataset` is given (load ids are not a way to peek across datasets)."""
    t = tables.loads
    stmt = sa.select(*[t.c[n] for n in SUMMARY_COLUMNS]).where(t.c.id == load_id)
    if dataset is not None:
        stmt = stmt.where(t.c.dataset == dataset)
    with store.read_engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        if dataset is not None:
            raise NotFound(f"Không có lần nạp {load_id} của «{dataset}»", f"No load {load_id} of «{dataset}»",
                           dataset=dataset)
        raise NotFound(f"Không có lần nạp {load_id}", f"No load {load_id}", field="load")
    return _row(row)


def load_report(store: Store, load_id: int) -> dict[str, Any] | None:
    with store.read_engine.connect() as conn:
        raw = conn.execute(sa.select(tables.loads.c.report).where(tables.loads.c.id == load_id)).scalar()
    return json.loads(raw) if raw else None


def rejected_rows(store: Store, load_id: int, *, limit: int | None = None) -> list[dict[str, Any]]:
    t = tables.rejected_rows
    stmt = sa.select(t.c.row_number, t.c.data, t.c.errors).where(t.c.load_id == load_id).order_by(t.c.row_number)
    if limit:
        stmt = stmt.limit(limit)
    with store.read_engine.connect() as conn:
        return [{"row": r.row_number, "data": json.loads(r.data), "errors": json.loads(r.errors)} for r in conn.execute(stmt)]
