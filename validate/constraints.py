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
import pyarrow as pa
import pyarrow.compute as pc

from .arrow_patterns import pattern_failures
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
    column: CastColumn, idx: np.ndarray, compare: Callable[[Any, Any], Any], bound: Any
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
                fails[i] = not _bound_ok(compare, bound, column.value_at(int(idx[i])))
            return fails
    values = column.values[idx]
    return np.fromiter((not _bound_ok(compare, bound, v) for v in values), dtype=bool, count=len(values))


def _enum_failures(column: CastColumn, idx: np.ndarray, allowed_raw: list[Any]) -> np.ndarray:
    allowed = [read_value(column.field, v) for v in allowed_raw]
    if column.arrow is not None and column.field.type == "string":  # text values: Arrow's is_in
        texts = pa.array([a for a in allowed if isinstance(a, str)], type=pa.large_string())
        found = pc.is_in(_texts(column, idx), value_set=texts).to_numpy(zero_copy_only=False)
        return ~np.asarray(found, dtype=bool)
    if column.field.type == "integer" and all(type(a) is int and abs(a) < 2**62 for a in allowed):
        numbers = column.numbers()
        if numbers is not None:
            return ~np.isin(numbers, np.array(allowed, dtype=np.int64))
    values = column.values[idx]
    try:
        allowed_set: Any = set(allowed)
    except TypeError:  # unhashable (GeoJSON objects): compare one by one, as frictionless does
        allowed_set = allowed
    return np.fromiter((v not in allowed_set for v in values), dtype=bool, count=len(values))


def _texts(column: CastColumn, idx: np.ndarray) -> pa.Array:
    """The texts of the cells with a value, in Arrow (a string field's values are its texts)."""
    assert column.arrow is not None
    return column.arrow if len(idx) == len(column.arrow) else column.arrow.take(pa.array(idx, type=pa.int64()))


def _lengths(column: CastColumn, idx: np.ndarray) -> np.ndarray:
    if column.arrow is not None:  # code points, as Python's len
        return np.asarray(pc.utf8_length(_texts(column, idx)).to_numpy(zero_copy_only=False), dtype=np.int64)
    values = column.values[idx]
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


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
    n = len(column.missing)
    idx = np.flatnonzero(column.ok)
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
            fails = _lengths(column, idx) < constraint
        elif name == "maxLength":
            fails = _lengths(column, idx) > constraint
        elif name == "pattern":
            found = pattern_failures(_texts(column, idx), constraint) if column.arrow is not None else None
            fails = found if found is not None else _pattern_failures(column.values[idx], constraint)
        elif name == "enum":
            fails = _enum_failures(column, idx, list(constraint))
        else:
            bound = read_value(field, constraint)
            fails = _bound_failures(column, idx, _BOUNDS[name], bound)
        if fails.any():
            mask = np.zeros(n, dtype=bool)
            mask[idx[fails]] = True
            out.append((name, mask))
    return out
