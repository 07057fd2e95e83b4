"""GeoJSON FeatureCollections: feature properties become columns, the geometry goes where the schema
says. For a point dataset (`geometry.type == "point"`) the latitude/longitude fields are filled from a
Point's coordinates (GeoJSON order is lon, lat); for a polygon dataset the geojson field gets the
geometry as compact JSON text. frictionless does not read GeoJSON as a table, so this is the only path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ingest.headers import HeaderMatcher
from ingest.readers._table import RawTable
from ingest.readers.json import objects_table, stream_objects

__all__ = ["read_geojson", "flatten_feature"]


def _number(value: Any) -> Any:
    return value  # Decimal from ijson keeps the digits as written


def flatten_feature(feature: Any, geometry: Mapping) -> Any:
    """A feature as one flat record: its properties plus the geometry in the schema's fields."""
    if not isinstance(feature, dict):
        return feature
    record = dict(feature.get("properties") or {})
    geom = feature.get("geometry")
    kind = geometry.get("type")
    if kind == "point":
        lat, lon = geometry.get("latitude"), geometry.get("longitude")
        coords = None
        if isinstance(geom, dict) and geom.get("type") == "Point":
            coords = geom.get("coordinates")
        elif isinstance(geom, dict) and geom.get("type") == "MultiPoint" and len(geom.get("coordinates") or []) == 1:
            coords = geom["coordinates"][0]
        if coords and len(coords) >= 2:
            record[lon], record[lat] = _number(coords[0]), _number(coords[1])
    elif kind == "polygon" and geom is not None:
        record[geometry["field"]] = json.dumps(geom, separators=(",", ":"), ensure_ascii=False, default=float)
    return record


def read_geojson(path: Path, matcher: HeaderMatcher, schema: Mapping, *, encoding: str | None = None) -> RawTable:
    geometry = schema.get("geometry") or {}
    features: Iterator[Any] = (flatten_feature(f, geometry) for f in stream_objects(path, ("features",), encoding))
    return objects_table(path, features, matcher, what="GeoJSON")
