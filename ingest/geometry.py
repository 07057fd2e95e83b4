"""Row step for point datasets: swapped latitude/longitude and VN-2000 plane coordinates.

Runs after the column normalisers because it needs both coordinates of a row (and its commune, which
tells the VN-2000 zone: units of former Bình Phước, codes 25xxx, were surveyed in TM-3 106°15', the rest
of today's Đồng Nai in 107°45'). Rows whose point is inside the province are left alone without a Python
step each: numpy finds the few rows that need a look.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas

from ingest.cells import Change
from ingest.normalise.coordinates import (
    BBOX,
    ZONE_BINH_PHUOC,
    ZONE_DONG_NAI,
    format_degrees,
    is_plane,
    looks_swapped,
    vn2000_to_wgs84,
)

__all__ = ["fix_points", "zone_for"]


def zone_for(commune_code: str | None) -> float:
    """TM-3 central meridian for a row: 106°15' for former Bình Phước communes, else 107°45'."""
    if commune_code and commune_code.isdigit() and int(commune_code) < 25500:
        return ZONE_BINH_PHUOC
    return ZONE_DONG_NAI


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.replace(",", ".")) if text.count(",") <= 1 else None
    except ValueError:
        return None


# A missing cell reads as NaN. numpy reads a few texts to_numeric would not ("1_0"): a row is then looked
# at or not as float() reads it, which is how fix_points reads the row itself, so nothing it changes is missed.
_NAN: dict[str | None, str | None] = {None: "nan"}


def _rows_to_check(lats: Sequence[str | None], lons: Sequence[str | None], plane: bool) -> list[int]:
    """Rows fix_points may change: a coordinate that is not a plain number, a point outside the province
    (swapped, or VN-2000 metres), or, when plane columns exist, a missing coordinate."""

    def parse(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        cells = np.empty(len(values), dtype=object)
        cells[:] = values
        missing = pandas.isna(cells)
        try:  # the usual column: plain decimals, read by numpy in one C loop
            numbers = np.array(list(map(_NAN.get, values, values)), dtype=float)
        except (TypeError, ValueError):
            numbers = np.asarray(pandas.to_numeric(cells, errors="coerce"), dtype=float)
        return numbers, missing

    (lat, lat_none), (lon, lon_none) = parse(lats), parse(lons)
    margin = 0.05
    with np.errstate(invalid="ignore"):
        inside = (lat >= BBOX[1] - margin) & (lat <= BBOX[3] + margin) & (lon >= BBOX[0] - margin) & (lon <= BBOX[2] + margin)
    missing = lat_none | lon_none
    check = ~inside & ~missing  # NaN (not a number) is never inside
    if plane:
        check |= missing
    return np.flatnonzero(check).tolist()


def fix_points(
    lat_name: str,
    lon_name: str,
    lats: list[str | None],
    lons: list[str | None],
    plane_x: list[str | None] | None,
    plane_y: list[str | None] | None,
    communes: list[str | None] | None,
    rows: list[int],
    record: Callable[[Change], None],
) -> None:
    """Fix lat/lon lists in place; every changed cell is recorded."""
    for i in _rows_to_check(lats, lons, plane_x is not None and plane_y is not None):
        lat, lon = _float(lats[i]), _float(lons[i])
        source = (lats[i], lons[i])
        x, y = lat, lon
        if (lat is None or lon is None) and plane_x is not None and plane_y is not None:
            x, y = _float(plane_x[i]), _float(plane_y[i])
            source = (plane_x[i], plane_y[i])
        if x is not None and y is not None and is_plane(x) and is_plane(y):
            new_lat, new_lon = vn2000_to_wgs84(x, y, zone_for(communes[i] if communes else None))
            lats[i], lons[i] = format_degrees(new_lat), format_degrees(new_lon)
            record(Change(rows[i], lat_name, source[0] or "", lats[i], "vn2000"))
            record(Change(rows[i], lon_name, source[1] or "", lons[i], "vn2000"))
        elif lat is not None and lon is not None and looks_swapped(lat, lon):
            lats[i], lons[i] = lons[i], lats[i]
            record(Change(rows[i], lat_name, source[0] or "", lats[i], "latlon-swap"))
            record(Change(rows[i], lon_name, source[1] or "", lons[i], "latlon-swap"))
