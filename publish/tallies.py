"""Counts over the hub's own tables for the operator's metrics (hub/metrics.py renders them for Prometheus)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from publish import tables
from publish.store import Store

ROW_KINDS = ("read", "loaded", "added", "changed", "removed")  # the rows_<kind> columns of hub_loads

__all__ = ["ROW_KINDS", "LoadTally", "job_tallies", "load_tallies"]


@dataclass(frozen=True)
class LoadTally:
    dataset: str
    status: str
    loads: int
    rows: dict[str, int]  # ROW_KINDS -> sum over the loads
    rejected: int
    version: int | None  # the highest version among them


def load_tallies(store: Store) -> list[LoadTally]:
    """Per (dataset, status) of hub_loads: how many loads, their row counts summed, the highest version."""
    t = tables.loads
    stmt = sa.select(t.c.dataset, t.c.status, sa.func.count(),
                     *[sa.func.coalesce(sa.func.sum(t.c[f"rows_{k}"]), 0) for k in ROW_KINDS],
                     sa.func.coalesce(sa.func.sum(t.c.rows_rejected), 0), sa.func.max(t.c.version),
                     ).group_by(t.c.dataset, t.c.status)
    with store.engine.connect() as conn:
        return [LoadTally(r[0], r[1], r[2], dict(zip(ROW_KINDS, r[3:3 + len(ROW_KINDS)], strict=True)), r[8], r[9])
                for r in conn.execute(stmt)]


def job_tallies(store: Store) -> list[tuple[str, str, int]]:
    """(kind, status, how many) of hub_jobs."""
    t = tables.jobs
    with store.engine.connect() as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(sa.select(t.c.kind, t.c.status, sa.func.count())
                                                          .group_by(t.c.kind, t.c.status))]
