"""Records as returned: a read row (a tuple, or a dict of its columns) made into the record the viewer sees,
values as JSON gives them (dates as text, a distance to 0.1 m, the geometry parsed), blanked where the viewer
may not see them (publish/access.py)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from core.catalog import Dataset
from publish.access import Viewer
from publish.geo_filters import DISTANCE

__all__ = ["jsonable", "shape_row", "shaper"]


def jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return value
    return value


_DATES = (date, datetime)


def shaper(dataset: Dataset, table: sa.Table, viewer: Viewer, names: list[str], keys: list[str], redact: Any,
            with_geometry: bool) -> Any:
    """row tuple -> the record as returned. With nothing to blank and no geometry (the common page), the
    selected fields are the row's first columns: zip them, and turn only date and datetime columns to text
    (a type check of every value was a third of a page's time); otherwise through `shape_row`."""
    from publish.access import conditional_personal

    if (with_geometry or conditional_personal(dataset, viewer) or keys[: len(names)] != names
            or (names and names[-1] == DISTANCE)):
        return lambda row: shape_row(dict(zip(keys, row, strict=True)), names, redact, with_geometry)
    dated = [n for n in names if isinstance(table.c[n].type, (sa.Date, sa.DateTime))]
    if not dated:
        return lambda row: dict(zip(names, row, strict=False))

    def shape(row: Any) -> dict[str, Any]:
        out = dict(zip(names, row, strict=False))
        for n in dated:
            if isinstance(v := out[n], _DATES):
                out[n] = v.isoformat()
        return out

    return shape


def shape_row(row: dict[str, Any], names: list[str], redact: Any, with_geometry: bool) -> dict[str, Any]:
    redact(row)
    # jsonable() inlined: one function call per value is a fifth of a CSV export's time
    out: dict[str, Any] = {n: v.isoformat() if isinstance(v := row.get(n), _DATES) else v for n in names}
    if out.get(DISTANCE) is not None:
        out[DISTANCE] = round(float(out[DISTANCE]), 1)
    if with_geometry:
        geometry = row.get("_geometry")
        out["_geometry"] = json.loads(geometry) if geometry else None
    return out
