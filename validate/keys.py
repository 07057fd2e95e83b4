"""Unique fields, primary keys and foreign keys across the batches of one file.

frictionless's rules (frictionless/resources/table.py, row stream), reproduced here:
- Keys are compared as typed values (so "007" and "7" are the same integer). A cell with a type error or
  no value counts as None.
- unique: a None cell is skipped; a repeat names the *latest* earlier row with that value.
- primary key: if every key cell is None the row gets "cells composing the primary keys are all "None""
  and is not remembered; otherwise a repeat names the latest earlier row (None may be part of a key).
  Primary key fields are not implicitly required.
- foreign key: a tuple whose cells are all None is skipped; a reference to the same file ("resource": "")
  is looked up among the referenced fields of *every* row of the file, including later ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


class KeyMemory:
    """Remembers the last row number of each key value."""

    def __init__(self) -> None:
        self._last: dict[Any, int] = {}

    def previous(self, keys: Iterable[Any], rows: Iterable[int], *, skip_none: bool = False) -> list[int | None]:
        """For each key, the latest earlier row with the same key (None if new); remembers this row."""
        last = self._last
        out: list[int | None] = []
        append = out.append
        for key, row in zip(keys, rows, strict=True):
            if skip_none and key is None:
                append(None)
                continue
            append(last.get(key))
            last[key] = row
        return out


def row_tuples(columns: list[np.ndarray]) -> list[tuple[Any, ...]]:
    """Row-wise tuples of several typed columns."""
    return list(zip(*(c.tolist() for c in columns), strict=True))


def all_none(columns: list[np.ndarray]) -> np.ndarray:
    out = np.ones(len(columns[0]), dtype=bool)
    for column in columns:
        out &= np.fromiter((v is None for v in column), dtype=bool, count=len(column))
    return out
