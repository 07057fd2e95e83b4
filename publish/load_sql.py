"""The SQL a load and a rollback share: the stored geometry made from the staged columns, and how many rows
of a set of keyed rows are new, the same or gone against a dataset table's current rows (publish/loads.py,
publish/rollback.py)."""

from __future__ import annotations

import sqlalchemy as sa

from core.catalog import Dataset
from publish.store import Store

__all__ = ["change_counts", "geometry_sql"]


def geometry_sql(store: Store, dataset: Dataset, alias: str) -> str | None:
    """SQL building the stored geometry from the staged columns (of `alias`; none: unqualified), per backend."""
    geometry = dataset.schema.geometry
    if not geometry:
        return None
    pg = store.dialect == "postgresql"
    prefix = f"{alias}." if alias else ""
    if geometry["type"] == "point":
        lon, lat = f'{prefix}"{geometry["longitude"]}"', f'{prefix}"{geometry["latitude"]}"'
        if pg:
            return f"CASE WHEN {lon} IS NULL OR {lat} IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326) END"
        return f"CASE WHEN {lon} IS NULL OR {lat} IS NULL THEN NULL ELSE MakePoint({lon}, {lat}, 4326) END"
    column = f'{prefix}"{geometry["field"]}"'
    if pg:
        return f"ST_SetSRID(ST_GeomFromGeoJSON({column}), 4326)"
    return f"SetSRID(GeomFromGeoJSON({column}), 4326)"


def change_counts(conn: sa.Connection, table: str, incoming: str) -> tuple[int, int, int, int]:
    """(incoming rows, of which keys not current, of which identical to a current row, current rows).

    PostgreSQL: one FULL OUTER JOIN (a hash join). SQLite plans that join as a nested loop (quadratic: ten
    minutes for 50,000 rows), so there each incoming row looks its key up in the unique index of current keys.
    """
    if conn.dialect.name == "postgresql":
        total, added, unchanged, current = conn.exec_driver_sql(
            f"SELECT count(s._key), count(*) FILTER (WHERE d._key IS NULL AND s._key IS NOT NULL), "
            f"count(*) FILTER (WHERE s._hash = d._hash), count(d._key) "
            f"FROM ({incoming}) s FULL OUTER JOIN (SELECT _key, _hash FROM {table} WHERE _to IS NULL) d "
            f"ON d._key = s._key").one()
        return int(total), int(added), int(unchanged), int(current)
    found = f"SELECT 1 FROM {table} d WHERE d._to IS NULL AND d._key = s._key"
    total, added, unchanged = conn.exec_driver_sql(
        f"SELECT count(*), coalesce(sum(CASE WHEN NOT EXISTS ({found}) THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN EXISTS ({found} AND d._hash = s._hash) THEN 1 ELSE 0 END), 0) FROM ({incoming}) s"
    ).one()
    current = conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE _to IS NULL").scalar() or 0
    return int(total), int(added), int(unchanged), int(current)
