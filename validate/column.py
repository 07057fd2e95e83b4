"""One field of one batch, read: its texts, typed values, missing cells and type errors.

A column read by the Arrow kernels (arrow_casts.py) keeps its texts in Arrow memory and makes Python objects
only when asked: `texts` and `values` are built on first use (keys, foreign keys, `Validator.check`), and the
texts of a few cells (the rows with errors) are read one by one with `text_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .schema import FieldSpec


class CastColumn:
    """One field of one batch, read."""

    def __init__(
        self,
        field: FieldSpec,
        texts: np.ndarray | None,
        values: np.ndarray | None,
        missing: np.ndarray,
        type_error: np.ndarray,
        *,
        arrow: pa.Array | None = None,
        load_values: Callable[[], np.ndarray] | None = None,
        numbers: np.ndarray | None = None,
        value_of: Callable[[str], Any] | None = None,
    ) -> None:
        self.field = field
        self._texts = texts  # object: the canonical text, None for an empty or absent cell
        self._values = values  # object: the typed value, None where missing or invalid
        self.missing = missing  # bool: no value (empty, a missingValues text, or an absent cell)
        self.type_error = type_error  # bool
        self.arrow = arrow  # the texts as an Arrow string array (null = None cell), when read with Arrow
        self._load_values = load_values
        self._value_of = value_of  # text -> typed value, for one cell
        self._numbers: Any = numbers  # machine numbers of the cells with a value, once read
        self._some_texts: dict[int, Any] = {}

    @property
    def texts(self) -> np.ndarray:
        if self._texts is None:
            assert self.arrow is not None
            self._texts = np.asarray(self.arrow.to_numpy(zero_copy_only=False), dtype=object)
        return self._texts

    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            assert self._load_values is not None
            self._values = self._load_values()
        return self._values

    @property
    def ok(self) -> np.ndarray:
        """Cells with a value of the field's type."""
        ok: np.ndarray = ~(self.missing | self.type_error)
        return ok

    def prefetch(self, positions: np.ndarray) -> None:
        """Read the texts of these cells now, in one go (the rows with errors)."""
        if self._texts is None and self.arrow is not None and len(positions):
            texts = self.arrow.take(pa.array(positions, type=pa.int64())).to_pylist()
            self._some_texts.update(zip(positions.tolist(), texts, strict=True))

    def text_at(self, i: int) -> Any:
        if self._texts is not None:
            return self._texts[i]
        if i in self._some_texts:
            return self._some_texts[i]
        assert self.arrow is not None
        return self.arrow[i].as_py()

    def value_at(self, i: int) -> Any:
        """The typed value of one cell, without reading the whole column."""
        if self._values is not None or self._value_of is None:
            return self.values[i]
        if self.missing[i] or self.type_error[i]:
            return None
        return self._value_of(self.text_at(i))

    def numbers(self) -> np.ndarray | None:
        """int64 (integer) or float64 (number) of the cells with a value, in order; None if they do not fit
        (an integer beyond 64 bits, a signalling NaN). Read once, shared by the bounds and `to_series`."""
        if self._numbers is None:
            values = self.values[self.ok]
            try:
                if self.field.type == "integer":
                    self._numbers = np.array(values.tolist(), dtype=np.int64)
                else:
                    self._numbers = values.astype(np.float64)  # float(Decimal) per value, in C
            except (OverflowError, ValueError):
                self._numbers = False
        return None if self._numbers is False else self._numbers

    def to_series(self, index: pd.Index) -> pd.Series:
        """The typed pandas column: Int64, Float64, boolean, date objects, or text."""
        ftype = self.field.type
        ok = self.ok
        if ftype == "integer":
            numbers = self.numbers()
            if numbers is None:  # an integer beyond 64 bits: valid for frictionless, kept as an object
                return pd.Series(self.values, index=index, dtype=object)
            data = np.zeros(len(ok), dtype=np.int64)
            data[ok] = numbers
            return pd.Series(pd.arrays.IntegerArray(data, ~ok), index=index)
        if ftype == "number":
            floats = np.zeros(len(ok), dtype=np.float64)
            numbers = self.numbers()
            floats[ok] = numbers if numbers is not None else self.values[ok].astype(np.float64)
            return pd.Series(pd.arrays.FloatingArray(floats, ~ok), index=index)
        if ftype == "boolean":
            flags = np.zeros(len(ok), dtype=bool)
            flags[ok] = self.values[ok].astype(bool)
            return pd.Series(pd.arrays.BooleanArray(flags, ~ok), index=index)
        if ftype == "date":
            return pd.Series(self.values, index=index, dtype=object)
        if ftype == "string" and self.arrow is not None and self._texts is None:  # stays in Arrow memory
            kept = pc.if_else(pa.array(ok), self.arrow, pa.scalar(None, type=self.arrow.type))
            return pd.Series(pd.array(kept, dtype=pd.StringDtype("pyarrow", na_value=np.nan)), index=index)
        texts = self.texts.copy()
        texts[~ok] = None
        return pd.Series(texts, index=index, dtype="str" if ftype == "string" else object)
