"""GeoJSON FeatureCollection export, streamed feature by feature."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def feature(row: dict[str, Any], id_field: str | None = None) -> dict[str, Any]:
    properties = {k: v for k, v in row.items() if k != "_geometry"}
    out: dict[str, Any] = {"type": "Feature", "geometry": row.get("_geometry"), "properties": properties}
    if id_field and properties.get(id_field) is not None:
        out["id"] = properties[id_field]
    return out


def geojson_chunks(rows: Iterable[dict[str, Any]], *, id_field: str | None = None,
                   extra: dict[str, Any] | None = None) -> Iterator[str]:
    head = {"type": "FeatureCollection", **(extra or {})}
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ['
    yield opening
    first = True
    for row in rows:
        yield ("" if first else ",") + json.dumps(feature(row, id_field), ensure_ascii=False, default=str)
        first = False
    yield "]}"
