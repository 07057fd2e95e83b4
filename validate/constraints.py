"""Field constraints checked column-wise, with frictionless 5.21's rules (frictionless/schema/field.py).

- Constraints are checked only on cells without a type error, in the order of the type's supported
  constraints (`SUPPORTED_CONSTRAINTS`), not the order written in the schema; a constraint a type does not
  support is ignored.
- An empty cell fails only `required`; every other constraint passes it.
- `pattern` is compiled as `^{pattern}$` with Python's `re` and tried with `match`, so `H01|H02` accepts
  "H01xyz" and `$` accepts one trailing newline: write `(?:H01|H02)`.
- `minimum`, `enum`... values in the schema are read with the field's own reader (so "2000-01-01" is a date
  and 10.5 a Decimal); NaN fails every bound.
- `unique` is not a cell constraint: see keys.py.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .casting import CastColumn, read_value

_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "exclusiveMinimum": operator.gt,
    "exclusiveMaximum": operator.lt,
}


def _bound_ok(compare: Callable[[Any, Any], bool], bound: Any, value: Any) -> bool:
    try:
        if value != value:  # NaN
            return False
        return bool(compare(value, bound))
    except ArithmeticError:  # signalling NaN
        return False


def _bound_failures(
    column: CastColumn, values: np.ndarray, compare: Callable[[Any, Any], Any], bound: Any
) -> np.ndarray:
    ftype = column.field.type
    if ftype == "integer" and isinstance(bound, int):
        arr = column.numbers()
        if arr is not None and abs(bound) < 2**62:
            failing: np.ndarray = ~compare(arr, bound)
            return failing
    if ftype == "number":
        arr = column.numbers()
        try:
            fbound = float(bound)
        except (ValueError, OverflowError):
            arr = None
        if arr is not None:
            with np.errstate(invalid="ignore"):
                fails: np.ndarray = ~compare(arr, fbound)
            # float rounding keeps order except at ties: decide those exactly with Decimal
            ties = np.flatnonzero(arr == fbound)
            for i in ties:
                fails[i] = not _bound_ok(compare, bound, values[i])
            return fails
    return np.fromiter((not _bound_ok(compare, bound, v) for v in values), dtype=bool, count=len(values))


def _enum_failures(column: CastColumn, values: np.ndarray, allowed_raw: list[Any]) -> np.ndarray:
    allowed = [read_value(column.field, v) for v in allowed_raw]
    try:
        allowed_set: Any = set(allowed)
    except TypeError:  # unhashable (GeoJSON objects): compare one by one, as frictionless does
        allowed_set = allowed
    return np.fromiter((v not in allowed_set for v in values), dtype=bool, count=len(values))


def _pattern_failures(values: np.ndarray, pattern: str) -> np.ndarray:
    match = _compiled(pattern).match
    if len(values) > 64 and len(set(values[:64].tolist())) < 32:  # codes, kinds repeat: match each text once
        codes, uniques = pd.factorize(values)
        if len(uniques) * 2 < len(values):
            return np.array([match(v) is None for v in uniques.tolist()], dtype=bool)[codes]
    return np.array([match(v) is None for v in values.tolist()], dtype=bool)  # no match object kept alive


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^{pattern}$")


def constraint_failures(column: CastColumn) -> list[tuple[str, np.ndarray]]:
    """For each constraint of the field (report order), a mask of the cells that break it."""
    field = column.field
    n = len(column.values)
    has_value = ~(column.missing | column.type_error)
    idx = np.flatnonzero(has_value)
    values = column.values[idx]
    out: list[tuple[str, np.ndarray]] = []
    for name in field.checked_constraints:
        constraint = field.constraints[name]
        if name == "required":
            if constraint:
                out.append((name, column.missing.copy()))
            continue
        if not len(idx):
            continue
        if name == "minLength":
            fails = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) < constraint
        elif name == "maxLength":
            fails = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) > constraint
        elif name == "pattern":
            fails = _pattern_failures(values, constraint)
        elif name == "enum":
            fails = _enum_failures(column, values, list(constraint))
        else:
            bound = read_value(field, constraint)
            fails = _bound_failures(column, values, _BOUNDS[name], bound)
        if fails.any():
            mask = np.zeros(n, dtype=bool)
            mask[idx[fails]] = True
            out.append((name, mask))
    return out
