"""The rows a load stages, built column by column: the fast twin of `publish.rows.stored_rows`.

`stored_rows` looks at every value on its own (type checks, pandas missing checks, folding letter by letter):
about 5 seconds for 100,000 accommodation rows, more than the whole database work of a load. Here each column
is converted once according to its pandas dtype, and search text is folded a batch at a time
(`core.text.search_fold_batch`). The output is the same tuples, value for value
and hash for hash (tests/publish/test_staging.py checks it on every sample and on generated text), so loads
made either way recognise each other's unchanged rows.

For PostgreSQL's staging table, `copy_text` turns a batch straight into COPY text: the canonical texts the hash is made of
are the column values PostgreSQL parses, so a row's line is a few joins of strings already built, and the
whole batch goes to the server as one block instead of row by row.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, cast

import numpy as np
import pandas as pd

from core.catalog import Schema
from core.text import search_fold_batch
from publish.rows import KEY_SEPARATOR, canonical, python_values


def _md5_of_short_texts() -> Callable[[bytes | memoryview], Any]:
    """CPython's own MD5: on rows of a few hundred bytes about 40% faster than OpenSSL's (its per-call cost);
    a build without it (FIPS) gets the same digest from OpenSSL."""
    try:
        import _md5  # type: ignore[import-not-found]
    except ImportError:
        return functools.partial(hashlib.md5, usedforsecurity=False)
    return cast(Callable[[bytes | memoryview], Any], _md5.md5)


_md5 = _md5_of_short_texts()


def _float_text(value: float | None) -> str:
    if value is None or value != value:  # NaN
        return "\x00"
    return repr(int(value)) if value.is_integer() else repr(value)


def _objects(series: pd.Series) -> list[Any]:
    """The values as Python objects, None for missing."""
    # pandas-stubs types na_value as a scalar; pandas takes None (the missing value we want)
    return series.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload, no-any-return]


def _column(series: pd.Series) -> tuple[list[Any], list[str], type | None]:
    """(plain Python values with None for missing, their canonical texts, the values' one Python type if the
    dtype says it) of one column."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or (pd.api.types.is_object_dtype(dtype) and _all_text(series)):
        values = _objects(series)
        if None not in values:  # the usual column: its texts are its values (one C scan instead of a loop)
            return values, list(values), str
        return values, ["\x00" if v is None else v for v in values], str
    if pd.api.types.is_bool_dtype(dtype):
        values = _objects(series)
        return values, ["\x00" if v is None else ("true" if v else "false") for v in values], bool
    if pd.api.types.is_integer_dtype(dtype):
        values = _objects(series)
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
    values = python_values(series.to_frame(), [cast(str, series.name)])[0]  # dates, timestamps, mixed: the general path
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


def _columns(frame: pd.DataFrame, names: list[str]) -> tuple[list[list[Any]], list[list[str]], list[type | None]]:
    """(values, canonical texts, known Python type) of each field, in `names` order."""
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
    return values, texts, kinds


def _keys_and_hashes(schema: Schema, texts: list[list[str]]) -> tuple[list[str], list[str], list[str]]:
    index = {name: i for i, name in enumerate(schema.field_names)}
    pk = [texts[index[name]] for name in schema.primary_key]
    keys = pk[0] if len(pk) == 1 else list(map(KEY_SEPARATOR.join, zip(*pk, strict=True)))
    joined = list(map(KEY_SEPARATOR.join, zip(*texts, strict=True)))
    hashes = [_md5(row.encode("utf-8")).hexdigest() for row in joined]
    return keys, hashes, joined


def keys_hashes_texts(frame: pd.DataFrame, schema: Schema, field: str | None = None
                      ) -> tuple[list[str], list[str], list[str] | None]:
    """Per row: the stored key, the stored hash and (with `field`) that field's canonical text, as a load
    would store them (for previews and scope checks; no search text is folded)."""
    _, texts, _ = _columns(frame, schema.field_names)
    keys, hashes, _ = _keys_and_hashes(schema, texts)
    return keys, hashes, texts[schema.field_names.index(field)] if field else None


def _keys_hashes_search(schema: Schema, values: list[list[Any]], texts: list[list[str]]
                        ) -> tuple[list[str], list[str], list[str], list[str]]:
    """Per row: the key, the hash, the folded search text, and the joined canonical texts the hash is of."""
    n = len(values[0]) if values else 0
    index = {name: i for i, name in enumerate(schema.field_names)}
    keys, hashes, joined = _keys_and_hashes(schema, texts)
    # a None is left out of the search text; as "" it only adds a space, which folding collapses
    search_columns = [[v if isinstance(v, str) else ("" if v is None else str(v)) for v in values[index[name]]]
                      for name in schema.search_fields if name in index]
    search = (search_fold_batch([" ".join(parts) for parts in zip(*search_columns, strict=True)]) if search_columns
              else [""] * n)
    return keys, hashes, search, joined


def stored_rows_fast(frame: pd.DataFrame, schema: Schema, copy_types: list[str] | None = None) -> list[tuple[Any, ...]]:
    """(key, hash, search, *field values) per row, exactly as `publish.rows.stored_rows` gives them.

    With `copy_types` (the binary COPY type of each field), values are also given the Python type that COPY
    column takes."""
    values, texts, kinds = _columns(frame, schema.field_names)
    keys, hashes, search, _ = _keys_hashes_search(schema, values, texts)
    if copy_types:
        values = [v if k is type(None) else _typed(v, k, t) for v, k, t in zip(values, kinds, copy_types, strict=True)]
    return list(zip(keys, hashes, search, *values, strict=True))


# PostgreSQL's COPY text format, with the unit separator (already the hash's separator) between columns: a
# row's line is then its key, hash and search text joined to the very string its hash was made from.
COPY_DELIMITER = KEY_SEPARATOR
COPY_NULL = "\\N"
_COPY_SPECIAL = ("\\", "\n", "\r", COPY_DELIMITER)


def _escaped(texts: list[str]) -> list[str] | None:
    """The COPY text form of a column's canonical texts, or None when no value needs escaping (the usual)."""
    together = "".join(texts)
    if not any(c in together for c in _COPY_SPECIAL):
        return None
    return [t.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace(COPY_DELIMITER, "\\x1f")
            for t in texts]


def copy_text(frame: pd.DataFrame, schema: Schema, *, version: int | None = None) -> bytes:
    """The batch as PostgreSQL COPY text (DELIMITER COPY_DELIMITER): per row the key, hash, [version,] search
    text and every field, with the same keys and hashes as `stored_rows_fast`. PostgreSQL parses each
    canonical text back to the field's type (shortest round-trip floats, ISO dates, true/false); a first
    load's binary COPY (publish/copy_binary.py) stores the same values."""
    values, texts, _ = _columns(frame, schema.field_names)
    keys, hashes, search, joined = _keys_hashes_search(schema, values, texts)
    head: list[Any] = [keys, hashes, *([itertools.repeat(str(version))] if version is not None else []), search]
    text = "\n".join(map(COPY_DELIMITER.join, zip(*head, joined, strict=False))) + "\n"
    # the usual batch needs no escaping: no backslash or carriage return, one line break and the expected
    # delimiters per row (four scans of the text instead of one per value)
    columns = len(head) + len(schema.field_names)
    if ("\\" in text or "\r" in text or text.count("\n") != len(keys)
            or text.count(COPY_DELIMITER) != len(keys) * (columns - 1)):
        texts = [_escaped(t) or t for t in texts]
        joined = list(map(COPY_DELIMITER.join, zip(*texts, strict=True)))
        head = [_escaped(keys) or keys, hashes, *head[2:-1], _escaped(search) or search]
        text = "\n".join(map(COPY_DELIMITER.join, zip(*head, joined, strict=False))) + "\n"
    return text.encode("utf-8").replace(b"\x00", COPY_NULL.encode())
