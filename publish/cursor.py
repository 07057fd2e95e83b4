"""The records page cursor: opaque to callers, pinned to one version, of two kinds.

- keyset, `{"v": version, "s": sort, "k": [sort values..., key]}`: the last row's sort values and stored key
  (`_key`, one row per key in a version, so the order is total). The next page is the rows after it,
  `WHERE (sort, _key) > (last values)` in the page's order, which an index reads as a range from that row on;
  an offset costs the database every row before the page (PostgreSQL, 100,000 rows: a page near the end of a
  walk 48 ms by offset).
- offset, `{"v": version, "o": offset}`: for an order with no column to seek on (`sort=distance_m` with
  `near`), and as the cursors handed out before keyset ones, which stay valid.

`s` is the sort the cursor was made for: a cursor used with another sort is refused, not read as a position
in an order it was not taken from.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

OPEN = 2**31 - 1  # "not superseded": larger than any version
MAX_OFFSET = 2**53  # past any table; larger numbers overflow the databases' integers
MAX_INTEGER = 2**63 - 1  # the databases' integers


@dataclass(frozen=True)
class Cursor:
    version: int | None
    offset: int = 0
    after: tuple[Any, ...] | None = None  # keyset: the last row's sort values and key, as the columns hold them


def sort_text(sort: list[tuple[str, bool]]) -> str:
    return ",".join(f"-{name}" if descending else name for name, descending in sort)


def encode(version: int | None, sort: list[tuple[str, bool]], *, offset: int | None = None,
           after: tuple[Any, ...] | None = None) -> str:
    """A cursor to the rows after `after` (a keyset cursor), or from `offset`."""
    data: dict[str, Any] = {"v": version}
    if after is not None:
        data["s"] = sort_text(sort)
        data["k"] = [v.isoformat() if isinstance(v, (date, datetime)) else v for v in after]
    else:
        data["o"] = offset or 0
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: list[tuple[str, bool]], types: list[sa.types.TypeEngine[Any]]) -> Cursor:
    """The cursor of a query sorted by `sort`, whose keyset columns (sort columns, then the key) have `types`.
    Anything a page of ours could not have given raises ValueError: a forged value must not reach the database
    (an overflowing integer, a NUL in a text, a text for a date column would be a 500)."""
    padded = cursor + "=" * (-len(cursor) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if type(data) is not dict:
        raise ValueError("not an object")
    version = data["v"]
    if not (version is None or (type(version) is int and 0 <= version < OPEN)):
        raise ValueError("version")
    if "k" in data:
        values = data["k"]
        if data.get("s") != sort_text(sort) or type(values) is not list or not types or len(values) != len(types) \
                or "o" in data:
            raise ValueError("keyset")
        after = tuple(_typed(v, t) for v, t in zip(values, types, strict=True))
        if after[-1] is None:
            raise ValueError("key")
        return Cursor(version, after=after)
    offset = data["o"]
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise ValueError("offset")
    return Cursor(version, offset=offset)


def _typed(value: Any, ctype: sa.types.TypeEngine[Any]) -> Any:
    """`value` from the cursor's JSON as a value of a column of `ctype`; ValueError if it cannot be one."""
    if value is None:
        return None
    if isinstance(ctype, sa.Boolean):
        if type(value) is not bool:
            raise ValueError("boolean")
        return value
    if isinstance(ctype, sa.Integer):  # Integer, BigInteger
        if type(value) is not int or abs(value) > MAX_INTEGER:
            raise ValueError("integer")
        return value
    if isinstance(ctype, sa.Float):
        if not (type(value) is float and math.isfinite(value) or type(value) is int and abs(value) <= MAX_INTEGER):
            raise ValueError("number")  # JSON's NaN and Infinity are read as floats; 10**400 overflows a float
        return float(value)
    if type(value) is not str or "\x00" in value:
        raise ValueError("text")
    value.encode("utf-8")  # a lone surrogate ("\ud800") raises UnicodeEncodeError, a ValueError
    if isinstance(ctype, sa.DateTime):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is not None:  # the columns hold local times without a zone
            raise ValueError("datetime")
        return moment
    if isinstance(ctype, sa.Date):
        return date.fromisoformat(value)
    return value


def after_clause(columns: Sequence[tuple[sa.ColumnElement[Any], bool]], after: tuple[Any, ...]) -> sa.ColumnElement[bool]:
    """Rows after `after` in the order of `columns` ((column, descending), NULLs last either way, the last a
    key that is never NULL): after it in the first column, or equal there and after it in the next, and so
    on. The values are parameters `_a0`, `_a1`...; a NULL value is written into the statement (`IS NULL`:
    nothing sorts after a NULL in its own column), so a statement fits one pattern of NULLs."""
    ors: list[sa.ColumnElement[bool]] = []
    equal: list[sa.ColumnElement[bool]] = []
    for i, ((col, descending), value) in enumerate(zip(columns, after, strict=True)):
        if value is None:
            equal.append(col.is_(None))
            continue
        param = sa.bindparam(f"_a{i}", type_=col.type)
        beyond = col < param if descending else col > param
        if _nullable(col):  # NULLs come last: after any value
            beyond = sa.or_(beyond, col.is_(None))
        ors.append(sa.and_(*equal, beyond) if equal else beyond)
        equal.append(col == param)
    return sa.or_(*ors) if ors else sa.false()


def after_parameters(after: tuple[Any, ...] | None) -> dict[str, Any]:
    return {f"_a{i}": v for i, v in enumerate(after or ()) if v is not None}


def _nullable(col: sa.ColumnElement[Any]) -> bool:
    return not isinstance(col, sa.Column) or bool(col.nullable)
