"""The rows a load stages, built column by column: the fast twin of `publish.rows.stored_rows`.

`stored_rows` looks at every value on its own (type checks, pandas missing checks, folding letter by letter):
about 5 seconds for 100,000 accommodation rows, more than the whole database work of a load. Here each column
is converted once according to its pandas dtype, and search text is folded word by word through a cache
(a register repeats the same few thousand Vietnamese words). The output is the same tuples, value for value
and hash for hash (tests/publish/test_staging.py checks it on every sample and on generated text), so loads
made either way recognise each other's unchanged rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from hub.catalog import Schema
from hub.text import fold
from publish.rows import KEY_SEPARATOR, canonical, python_values


class _FoldedWords(dict):
    """word -> fold(word), filled on first sight. ASCII words fold to their lower case (no marks, no 'đ')."""

    def __missing__(self, word: str) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        folded = self[word] = word.lower() if word.isascii() else fold(word)
        return folded


_CACHE_LIMIT = 200_000  # words; a few MB
_WORDS = _FoldedWords()


def fold_batch(texts: list[str]) -> list[str]:
    """`hub.text.fold` of every text, word by word through a cache (a register repeats the same few thousand
    words). Folding never creates or removes whitespace inside a word and `fold` collapses whitespace, so
    joining the non-empty folded words gives exactly `fold(text)`."""
    folded = _WORDS.__getitem__
    return [" ".join(filter(None, map(folded, text.split()))) for text in texts]


def _float_text(value: float | None) -> str:
    if value is None or value != value:  # NaN
        return "\x00"
    return repr(int(value)) if value.is_integer() else repr(value)


def _column(series: pd.Series) -> tuple[list[Any], list[str], type | None]:
    """(plain Python values with None for missing, their canonical texts, the values' one Python type if the
    dtype says it) of one column."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or (pd.api.types.is_object_dtype(dtype) and _all_text(series)):
        values = series.to_numpy(dtype=object, na_value=None).tolist()
        return values, ["\x00" if v is None else v for v in values], str
    if pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=None).tolist()
        return values, ["\x00" if v is None else ("true" if v else "false") for v in values], bool
    if pd.api.types.is_integer_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=None).tolist()
        return values, ["\x00" if v is None else str(v) for v in values], int
    if pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        odd = np.flatnonzero(np.isnan(numbers) | (numbers == np.floor(numbers)))  # missing or integer-valued
        values = numbers.tolist()
        texts = list(map(repr, values))
        for i in odd.tolist():
            if values[i] != values[i]:
                values[i] = None
            texts[i] = _float_text(values[i])
        return values, texts, float
    values = python_values(series.to_frame(), [series.name])[0]  # dates, timestamps, mixed: the general path
    return values, [canonical(v) for v in values], None


def _all_text(series: pd.Series) -> bool:
    return all(v is None or isinstance(v, str) or v is pd.NA or (isinstance(v, float) and v != v)
               for v in series.tolist())


def _to_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _to_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)) if isinstance(value, str) else value


def _to_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(_to_date(value), time())


# PostgreSQL binary COPY type -> (the Python type it takes, how to convert another value)
COPY_KINDS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "text": (str, _to_text), "int8": (int, int), "int4": (int, int), "float8": (float, float), "bool": (bool, bool),
    "date": (date, _to_date), "timestamp": (datetime, _to_datetime),
}


def _typed(values: list[Any], known: type | None, copy_type: str) -> list[Any]:
    """`values` with each of another type than the binary COPY column takes converted (hashes are already
    made from the values as they came, so this changes nothing a later load compares)."""
    kind, convert = COPY_KINDS[copy_type]
    if known is kind or (known is None and all(v is None or type(v) is kind for v in values)):
        return values
    return [v if v is None or type(v) is kind else convert(v) for v in values]


def stored_rows_fast(frame: pd.DataFrame, schema: Schema, copy_types: list[str] | None = None) -> list[tuple[Any, ...]]:
    """(key, hash, search, *field values) per row, exactly as `publish.rows.stored_rows` gives them.

    With `copy_types` (the binary COPY type of each field), values are also given the Python type that COPY
    column takes."""
    names = schema.field_names
    n = len(frame)
    values: list[list[Any]] = []
    texts: list[list[str]] = []
    kinds: list[type | None] = []
    for name in names:
        if name not in frame.columns:
            values.append([None] * n)
            texts.append(["\x00"] * n)
            kinds.append(type(None))
            continue
        v, t, k = _column(frame[name])
        values.append(v)
        texts.append(t)
        kinds.append(k)
    index = {name: i for i, name in enumerate(names)}
    pk = [texts[index[name]] for name in schema.primary_key]
    keys = pk[0] if len(pk) == 1 else [KEY_SEPARATOR.join(parts) for parts in zip(*pk, strict=True)]
    md5: Callable[..., Any] = hashlib.md5
    hashes = [md5(KEY_SEPARATOR.join(row).encode("utf-8"), usedforsecurity=False).hexdigest()
              for row in zip(*texts, strict=True)]
    # a None is left out of the search text; as "" it only adds a space, which folding collapses
    search_columns = [[v if isinstance(v, str) else ("" if v is None else str(v)) for v in values[index[name]]]
                      for name in schema.search_fields if name in index]
    search = fold_batch([" ".join(parts) for parts in zip(*search_columns, strict=True)]) if search_columns else [""] * n
    if copy_types:
        values = [v if k is type(None) else _typed(v, k, t) for v, k, t in zip(values, kinds, copy_types, strict=True)]
    return list(zip(keys, hashes, search, *values, strict=True))
