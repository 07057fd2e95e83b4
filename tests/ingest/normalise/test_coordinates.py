import math

import pytest
from pyproj import Transformer

from ingest.normalise.coordinates import (
    ZONE_BINH_PHUOC,
    ZONE_DONG_NAI,
    format_degrees,
    in_province,
    looks_swapped,
    parse_degrees,
    vn2000_to_wgs84,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("10.9456", 10.9456),
        ("10,9456", 10.9456),
        ("106.8281", 106.8281),
        ("10°56'12\"N", 10 + 56 / 60 + 12 / 3600),
        ("106°49'30\"E", 106 + 49 / 60 + 30 / 3600),
        ("10° 56′ 12″ N", 10 + 56 / 60 + 12 / 3600),
        ("N 10°56'12\"", 10 + 56 / 60 + 12 / 3600),
        ("10°56.2'", 10 + 56.2 / 60),
        ("10 độ 56 phút 12 giây", 10 + 56 / 60 + 12 / 3600),
        ("10°", 10.0),
        ("33°51'S", -(33 + 51 / 60)),
        ("10°75'12\"N", None),  # 75 minutes
        ("gần chợ", None),
        ("", None),
    ],
)
def test_degrees_from_decimal_and_dms(raw, expected):
    value = parse_degrees(raw)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, abs=1e-9)


def test_degrees_are_written_with_seven_decimals_at_most():
    assert format_degrees(10.936666666666) == "10.9366667"
    assert format_degrees(106.8) == "106.8"


def test_swapped_pair_is_recognised_by_the_province_bbox():
    assert looks_swapped(106.85, 10.95)
    assert not looks_swapped(10.95, 106.85)
    assert in_province(11.52, 106.9)
    assert not looks_swapped(21.0, 105.8)  # Hà Nội: outside either way


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 110_574
    dlon = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


@pytest.mark.parametrize(
    "epsg, zone, x, y",
    [(5899, ZONE_DONG_NAI, 1_210_000.0, 400_000.0), (9212, ZONE_BINH_PHUOC, 1_272_000.0, 572_000.0)],
)
def test_vn2000_point_matches_epsg_6960_within_a_metre(epsg, zone, x, y):
    """Reference: the EPSG definitions themselves (projection inverse to VN-2000 geographic, then the
    EPSG:6960 Helmert transformation), independent of the PROJ string the module uses."""
    lon_vn, lat_vn = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4756", always_xy=True).transform(y, x)
    helmert = Transformer.from_pipeline("urn:ogc:def:coordinateOperation:EPSG::6960")
    ref_lat, ref_lon = helmert.transform(lat_vn, lon_vn)
    got = vn2000_to_wgs84(x, y, zone)
    assert _metres(got, (ref_lat, ref_lon)) < 1.0
    assert in_province(*got)
    # and the datum shift is really applied: without it the point is about 226 m away
    assert 150 < _metres(got, (lat_vn, lon_vn)) < 300


def test_vn2000_pair_given_easting_first_is_turned():
    assert vn2000_to_wgs84(400_000, 1_210_000) == vn2000_to_wgs84(1_210_000, 400_000)
