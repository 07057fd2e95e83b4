"""Coordinates to WGS84 decimal degrees.

Sources give decimal degrees (with a decimal comma too), degrees-minutes-seconds (10°56'12"N), latitude
and longitude swapped, or VN-2000 plane coordinates from cadastral surveys. VN-2000 uses TM-3 zones:
107°45' (EPSG:5899) for former Đồng Nai and 106°15' (EPSG:9212) for former Bình Phước. The datum shift
to WGS84 is the 7-parameter EPSG:6960 "VN-2000 to WGS 84 (2)", forced: pyproj's own choice near Biên Hòa
is a Mekong-delta transformation 0.8 m off, and no shift at all is 226 m off.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyproj import Transformer

__all__ = [
    "BBOX",
    "parse_degrees",
    "format_degrees",
    "in_province",
    "looks_swapped",
    "is_plane",
    "vn2000_to_wgs84",
    "ZONE_DONG_NAI",
    "ZONE_BINH_PHUOC",
]

BBOX = (106.4118, 10.5797, 107.5758, 12.3000)  # lon min, lat min, lon max, lat max
ZONE_DONG_NAI = 107.75
ZONE_BINH_PHUOC = 106.25
_TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
_DMS = re.compile(
    r"""(?P<h1>[NSEWBĐTnsewbđt])?\s*(?P<d>\d+(?:[.,]\d+)?)\s*(?:°|º|˚|độ|d|\s)\s*
    (?:(?P<m>\d+(?:[.,]\d+)?)\s*(?:'|′|’|phút|m|\s)\s*)?
    (?:(?P<s>\d+(?:[.,]\d+)?)\s*(?:"|″|”|''|’’|giây|s)?\s*)?
    (?P<h2>[NSEWBĐTnsewbđt])?""",
    re.VERBOSE,
)
_DECIMAL = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_DEGREE_SIGN = re.compile(r"[°º˚]|độ")
_NEGATIVE = set("SWsw")  # Vietnamese B (Bắc), Đ (Đông) and N (read as North) are positive here


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def parse_degrees(text: str) -> float | None:
    """'10.9456' / '10,9456' / '10°56'12\"N' / '106 49 30 E' -> decimal degrees; None if not understood."""
    text = text.strip()
    if _DECIMAL.fullmatch(text):
        return _num(text)
    m = _DMS.fullmatch(text)
    if not m or (m["m"] is None and m["s"] is None and not _DEGREE_SIGN.search(text)):
        return None
    value = _num(m["d"]) + (_num(m["m"]) / 60 if m["m"] else 0) + (_num(m["s"]) / 3600 if m["s"] else 0)
    if (m["m"] and _num(m["m"]) >= 60) or (m["s"] and _num(m["s"]) >= 60):
        return None
    hemisphere = (m["h1"] or m["h2"] or "").upper()
    return -value if hemisphere in _NEGATIVE else value


def format_degrees(value: float) -> str:
    """Seven decimals (about 1 cm), trailing zeros removed."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def in_province(lat: float, lon: float, margin: float = 0.05) -> bool:
    return BBOX[1] - margin <= lat <= BBOX[3] + margin and BBOX[0] - margin <= lon <= BBOX[2] + margin


def looks_swapped(lat: float, lon: float) -> bool:
    """True when (lat, lon) is outside the province but (lon, lat) is inside it."""
    return not in_province(lat, lon) and in_province(lon, lat)


def is_plane(value: float) -> bool:
    """A VN-2000 metre coordinate rather than degrees."""
    return abs(value) > 1000


@lru_cache(maxsize=4)
def _transformer(lon_0: float) -> Transformer:
    from pyproj import CRS, Transformer

    proj = (
        f"+proj=tmerc +lat_0=0 +lon_0={lon_0} +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
        f"+towgs84={_TOWGS84} +units=m +no_defs"
    )
    return Transformer.from_crs(CRS.from_proj4(proj), CRS.from_epsg(4326), always_xy=True)


def vn2000_to_wgs84(x: float, y: float, zone: float = ZONE_DONG_NAI) -> tuple[float, float]:
    """VN-2000 TM-3 (x = northing, y = easting, the Vietnamese survey convention) to WGS84 (lat, lon).
    A pair given the other way round (easting first) is recognised by its size and turned."""
    if x < y:
        x, y = y, x
    lon, lat = _transformer(zone).transform(y, x)
    return lat, lon
