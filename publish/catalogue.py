"""What the catalogue pages show about datasets: versions, record counts, last update, views, formats.

Everything is read for the datasets a viewer may see (publish.access), in a handful of queries per page:
the newest loads of every dataset in one query, the view counters in another. Record counts only change with
a new load, so they are cached per process under the dataset's newest load id.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.catalog import Catalog, Dataset
from publish import tables
from publish.access import ANONYMOUS, Viewer, can_see_dataset
from publish.db import without_waiting
from publish.exports import FORMATS
from publish.listing import listed
from publish.query import count_current
from publish.store import Store

log = logging.getLogger("publish.catalogue")

_COUNTS: dict[tuple[str, str, int | None], tuple[float, int]] = {}
_COUNT_TTL = 300.0  # seconds; a safety net should something change rows without a load

__all__ = ["DatasetCard", "Figures", "cards", "count_download", "count_view", "download_formats", "figures"]


def download_formats(dataset: Dataset) -> list[str]:
    """Export formats that make sense for the dataset (GeoJSON only when records have a geometry)."""
    return [f for f in FORMATS if f != "geojson" or dataset.schema.geometry_kind]


@dataclass
class DatasetCard:
    dataset: Dataset
    version: int | None
    records: int
    last_updated: datetime | None
    quality_score: float | None
    last_status: str | None
    views: int
    downloads: int

    @property
    def id(self) -> str:
        return self.dataset.id

    @property
    def formats(self) -> list[str]:
        return download_formats(self.dataset)


@dataclass
class Figures:
    datasets: int
    records: int
    publishers: int
    last_updated: datetime | None


def _latest_loads(store: Store) -> dict[str, dict[str, Any]]:
    """Per dataset: current version, the newest committed-or-unchanged load and the newest attempt's status."""
    t = tables.loads
    good = t.c.status.in_(("committed", "unchanged"))
    newest_good = sa.select(sa.func.max(t.c.id)).where(good).group_by(t.c.dataset)
    newest_any = sa.select(sa.func.max(t.c.id)).where(t.c.status != "running").group_by(t.c.dataset)
    version = sa.select(t.c.dataset, sa.func.max(t.c.version).label("v")).where(t.c.status == "committed") \
        .group_by(t.c.dataset)
    out: dict[str, dict[str, Any]] = {}
    with store.read_engine.connect() as conn:
        for row in conn.execute(version):
            out.setdefault(row.dataset, {})["version"] = row.v
        stmt = sa.select(t.c.id, t.c.dataset, t.c.finished_at, t.c.quality_score).where(t.c.id.in_(newest_good))
        for load in conn.execute(stmt):
            out.setdefault(load.dataset, {}).update(load_id=load.id, finished_at=load.finished_at,
                                                    quality_score=load.quality_score)
        for row in conn.execute(sa.select(t.c.dataset, t.c.status).where(t.c.id.in_(newest_any))):
            out.setdefault(row.dataset, {})["last_status"] = row.status
    return out


def _stats(store: Store) -> dict[str, tuple[int, int]]:
    t = tables.dataset_stats
    with store.read_engine.connect() as conn:
        return {r.dataset: (r.views, r.downloads) for r in conn.execute(sa.select(t.c.dataset, t.c.views, t.c.downloads))}


def _count(store: Store, dataset: Dataset, load_id: int | None) -> int:
    key = (str(store.engine.url), dataset.id, load_id)
    cached = _COUNTS.get(key)
    if cached and time.monotonic() - cached[0] < _COUNT_TTL:
        return cached[1]
    n = count_current(store, dataset) if load_id is not None else 0
    _COUNTS[key] = (time.monotonic(), n)
    return n


def cards(store: Store, catalog: Catalog, viewer: Viewer = ANONYMOUS, ids: list[str] | None = None) -> list[DatasetCard]:
    """Cards of the datasets the viewer may see (all, or those in `ids`, in that order)."""
    chosen = [catalog.datasets[i] for i in ids if i in catalog.datasets] if ids is not None else list(catalog)
    chosen = [ds for ds in chosen if can_see_dataset(ds, viewer)]
    if ids is None:  # a listing, not the cards of datasets asked for by id
        chosen = listed(store, chosen)
    loads = _latest_loads(store)
    stats = _stats(store)
    out = []
    for ds in chosen:
        info = loads.get(ds.id, {})
        views, downloads = stats.get(ds.id, (0, 0))
        out.append(DatasetCard(ds, info.get("version"), _count(store, ds, info.get("load_id")), info.get("finished_at"),
                               info.get("quality_score"), info.get("last_status"), views, downloads))
    return out


def figures(all_cards: list[DatasetCard]) -> Figures:
    dates = [c.last_updated for c in all_cards if c.last_updated]
    return Figures(datasets=len(all_cards), records=sum(c.records for c in all_cards),
                   publishers=len({c.dataset.publisher for c in all_cards}),
                   last_updated=max(dates) if dates else None)


def _bump(store: Store, dataset_id: str, column: str) -> None:
    """Add one to a counter without ever holding up the page: a load holding SQLite's write lock (not waited
    for at all), or a row busy for 200 ms on PostgreSQL, makes us skip the count rather than wait."""
    t = tables.dataset_stats
    if store.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # same upsert API as PostgreSQL's
    stmt = insert(t).values(dataset=dataset_id, views=int(column == "views"), downloads=int(column == "downloads"))
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.dataset], set_={column: t.c[column] + 1})
    try:
        with store.engine.connect() as conn, without_waiting(conn, store.lock_timeout * 1000), conn.begin():
            if store.dialect == "postgresql":
                conn.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            conn.execute(stmt)
    except sa.exc.OperationalError as exc:
        log.info("view counter skipped for %s: %s", dataset_id, str(exc).splitlines()[0])


def count_view(store: Store, dataset_id: str) -> None:
    _bump(store, dataset_id, "views")


def count_download(store: Store, dataset_id: str) -> None:
    _bump(store, dataset_id, "downloads")
