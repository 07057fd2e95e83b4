"""Records as returned: a read row (a tuple, or a dict of its columns) made into the record the viewer sees,
values as JSON gives them (dates as text, a distance to 0.1 m, the geometry parsed), blanked where the viewer
may not see them (publish/access.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from itertools import repeat
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
           with_geometry: bool) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """row tuples -> the records as returned. With nothing to blank and no geometry (the common page), the
    selected fields are the rows' first columns: zip them, and turn only date and datetime columns to text
    (a type check of every value was a third of a page's time); otherwise through `shape_row`."""
    from publish.access import conditional_personal

    if (with_geometry or conditional_personal(dataset, viewer) or keys[: len(names)] != names
            or (names and names[-1] == DISTANCE)):
        return lambda rows: [shape_row(dict(zip(keys, row, strict=True)), names, redact, with_geometry)
                             for row in rows]
    dated = [n for n in names if isinstance(table.c[n].type, (sa.Date, sa.DateTime))]

    def shape(rows: Sequence[Any]) -> list[dict[str, Any]]:
        # each row's dict made without a Python call per row: a page of 100 in 47 µs instead of 66
        out = list(map(dict, map(zip, repeat(names), rows)))
        if dated:
            for record in out:
                for n in dated:
                    if isinstance(v := record[n], _DATES):
                        record[n] = v.isoformat()
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
