"""Which datasets listings show: a report's statistics dataset enters them with its first produced report.

A statistics dataset (core/statistics.py) is generated for every report definition, so it exists in the
catalogue before any period is produced. Until then it holds nothing: listings (the API's dataset list,
CKAN's package_list and package_search, DCAT's catalogue, feeds, the sitemap, the web site's cards and search,
pushes to a CKAN portal) leave it out, as a portal would not announce an empty table. Its own addresses
answer all along (an empty dataset), like any dataset not loaded yet.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from core.catalog import Dataset
from publish import tables
from publish.store import Store


def unpublished_statistics(store: Store) -> set[str]:
    """Statistics datasets with no committed version yet (one query; none when no report is defined)."""
    ids = [ds.id for ds in store.catalog if ds.report]
    if not ids:
        return set()
    loads = tables.loads
    with store.read_engine.connect() as conn:
        found = set(conn.execute(sa.select(loads.c.dataset).distinct().where(
            loads.c.dataset.in_(ids), loads.c.status == "committed", loads.c.version.is_not(None))).scalars())
    return set(ids) - found


def listed(store: Store, datasets: Iterable[Dataset]) -> list[Dataset]:
    """`datasets` without the statistics datasets whose report has not been produced yet."""
    chosen = list(datasets)
    if not any(ds.report for ds in chosen):
        return chosen
    hidden = unpublished_statistics(store)
    return [ds for ds in chosen if ds.id not in hidden]
