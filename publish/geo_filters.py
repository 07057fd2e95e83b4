"""Geographic filters and distances of record queries, written the same way for PostGIS and SpatiaLite:
`bbox`, `near` (a circle in metres on the WGS84 ellipsoid) and `commune` (inside a ward's boundary), each
narrowed through the spatial index first; `distance` gives each record's metres from a point."""

from __future__ import annotations

import math

import sqlalchemy as sa

from publish.store import Store

__all__ = ["DISTANCE", "RTREES", "clauses", "distance", "near_box", "rtree_prefilter"]

DISTANCE = "distance_m"  # with `near`: each record's distance in metres from the point, and a sort key


def clauses(store: Store, table: sa.Table, *, bbox: tuple[float, float, float, float] | None = None,
            near: tuple[float, float, float] | None = None, commune: str | None = None
            ) -> list[sa.ColumnElement[bool]]:
    """Geographic filters on `table`'s geometry. Each first narrows the rows by bounding box through the spatial
    index (PostGIS: `&&` on the GiST index; SpatiaLite: the R*Tree `idx_<table>__geom`, which no SpatiaLite
    function consults by itself), then checks exactly, so both backends give the same rows."""
    pg = store.dialect == "postgresql"
    out: list[sa.ColumnElement[bool]] = []
    if bbox:
        x1, y1, x2, y2 = bbox
        if pg:
            out.append(sa.func.ST_Intersects(table.c._geom, sa.func.ST_MakeEnvelope(x1, y1, x2, y2, 4326)))
        else:
            out.extend(rtree_prefilter(store, table, (x1, y1, x2, y2)))
            out.append(sa.func.ST_Intersects(table.c._geom, sa.func.BuildMbr(x1, y1, x2, y2, 4326)) == 1)
    if near:
        lat, lon, radius = near
        box = near_box(lat, lon, radius)
        if pg:
            point = sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326)
            # geography(_geom) has no index: the box on the geometry column uses the GiST index
            out.append(table.c._geom.op("&&")(sa.func.ST_MakeEnvelope(*box, 4326)))
            out.append(sa.func.ST_DWithin(sa.func.geography(table.c._geom), sa.func.geography(point), radius))
        else:
            out.extend(rtree_prefilter(store, table, box))
            out.append(sa.func.MbrIntersects(table.c._geom, sa.func.BuildMbr(*box, 4326)) == 1)
            out.append(sa.func.ST_Distance(table.c._geom, sa.func.MakePoint(lon, lat, 4326), 1) <= radius)
    if commune:
        units = store.table("admin-units")
        boundary = (
            sa.select(units.c._geom).where(units.c._to.is_(None), units.c.code == str(commune)).scalar_subquery()
        )
        out.append(sa.func.ST_Within(table.c._geom, boundary) == (True if pg else 1))
    return out


def near_box(lat: float, lon: float, radius: float) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) holding every point within `radius` metres of (lat, lon) on the
    WGS84 ellipsoid. A degree of latitude is at least 110,574 m and a degree of longitude at latitude φ at least
    111,319 m × cos φ, so dividing by 110,000 m and 111,000 m × cos of the box's farthest latitude errs outward."""
    dlat = radius / 110_000.0
    far = min(abs(lat) + dlat, 89.9)
    dlon = min(radius / (111_000.0 * max(math.cos(math.radians(far)), 1e-6)), 360.0)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


RTREES: set[tuple[str, str]] = set()  # (database, table) known to have SpatiaLite's R*Tree


def rtree_prefilter(store: Store, table: sa.Table, box: tuple[float, float, float, float]
                     ) -> list[sa.ColumnElement[bool]]:
    """SpatiaLite: `_id` among the R*Tree entries whose box meets `box` (the R*Tree keeps each geometry's
    box, rounded outward to 32-bit floats, under the row's ROWID, which is `_id`). Nothing when the table has
    no spatial index."""
    rtree = f"idx_{table.name}__geom"
    known = (store.read_engine.url.render_as_string(), table.name)
    if known not in RTREES:
        with store.read_engine.connect() as conn:
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (rtree,)).first():
                RTREES.add(known)
            else:
                return []
    x1, y1, x2, y2 = box
    index = sa.table(rtree, sa.column("pkid"), sa.column("xmin"), sa.column("xmax"), sa.column("ymin"),
                     sa.column("ymax"))
    return [table.c._id.in_(sa.select(index.c.pkid).where(
        index.c.xmin <= x2, index.c.xmax >= x1, index.c.ymin <= y2, index.c.ymax >= y1))]


def distance(store: Store, table: sa.Table, near: tuple[float, float, float]) -> sa.ColumnElement[float]:
    """Metres from (lat, lon) to each record's geometry on the WGS84 ellipsoid (PostGIS: geography, spheroid;
    SpatiaLite: ST_Distance with use_ellipsoid), so both backends agree to well under a metre."""
    lat, lon, _ = near
    if store.dialect == "postgresql":
        point = sa.func.ST_SetSRID(sa.func.ST_MakePoint(lon, lat), 4326)
        return sa.func.ST_Distance(sa.func.geography(table.c._geom), sa.func.geography(point))
    return sa.func.ST_Distance(table.c._geom, sa.func.MakePoint(lon, lat, 4326), 1)
