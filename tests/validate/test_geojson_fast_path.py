"""The direct GeoJSON geometry check agrees with frictionless's profile (jsonschema) on valid and broken shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from frictionless import Schema, fields

from validate.casting import _plain_geometry_ok

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
RING = [[106.8, 10.9], [106.9, 10.9], [106.9, 11.0], [106.8, 10.9]]


def frictionless_accepts(value: object) -> bool:
    field = fields.GeojsonField(name="g")
    Schema(fields=[field])
    cell, notes = field.read_cell(json.dumps(value))
    return not notes


@pytest.mark.parametrize("value", [
    {"type": "Point", "coordinates": [106.8, 10.9]},
    {"type": "Point", "coordinates": [106.8, 10.9, 5]},
    {"type": "Point", "coordinates": [True, 10.9]},
    {"type": "LineString", "coordinates": [[1, 2]]},
    {"type": "Polygon", "coordinates": [RING]},
    {"type": "Polygon", "coordinates": [RING[:3]]},
    {"type": "MultiPolygon", "coordinates": [[RING], [RING]]},
    {"type": "MultiPolygon", "coordinates": [RING]},
    {"type": "Polygon", "coordinates": [RING], "bbox": [1, 2, 3, 4]},
    {"type": "Polygon", "coordinates": [RING], "bbox": ["x"]},
    {"type": "Circle", "coordinates": [1, 2]},
])
def test_fast_path_never_accepts_what_the_profile_refuses(value: dict) -> None:
    if _plain_geometry_ok(value) is True:
        assert frictionless_accepts(value)


def test_every_commune_boundary_takes_the_fast_path() -> None:
    features = json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))["features"]
    assert all(_plain_geometry_ok(f["geometry"]) is True for f in features)
    assert frictionless_accepts(features[0]["geometry"])
