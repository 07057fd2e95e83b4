"""A batch's stored keys, hashes and search text built as Arrow arrays, for a first load's binary COPY.

The columnar twin of publish.staging's lists (value for value, hash for hash: tests/publish/test_arrow_rows.py).
There every field's canonical text becomes a Python string, each row's texts are joined, encoded and hashed,
and the key, hash and search columns go back to Arrow for the COPY: about two thirds of the batch's Python
time. Here a text field's canonical texts are its Arrow strings (NUL where missing) and an integer field's are
Arrow's decimal cast (the same digits as `str`), a date field's are Arrow's date32 cast (ISO, as `isoformat`); Arrow joins each row's texts into one UTF-8 buffer and Python
only hashes slices of it. Other fields (numbers, dates, mixed) take staging's path, their texts made Arrow.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.catalog import Schema
from core.text import FoldedColumns, search_fold_arrow, search_fold_joined
from publish.copy_binary import KINDS, NULL, Column
from publish.rows import KEY_SEPARATOR
from publish.staging import _column, _float_text, _md5

__all__ = ["Built", "build"]

_TEXT = pa.large_string()
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HASH_CELL = np.frombuffer((32).to_bytes(4, "big"), dtype=np.uint8)  # a hash's length prefix: 32 characters


class Built:
    """`keys` and `search` (Arrow strings), `hashes` (binary COPY fields, length-prefixed) and one Column per
    schema field, for publish.copy_binary.rows."""

    __slots__ = ("keys", "hashes", "search", "fields")

    def __init__(self, keys: pa.Array, hashes: pa.Array, search: pa.Array, fields: list[Column]) -> None:
        self.keys, self.hashes, self.search, self.fields = keys, hashes, search, fields


def _field(frame: pd.DataFrame, name: str, kind: str, searched: bool) -> tuple[Column, pa.Array, pa.Array | None]:
    """(the field's Column, its canonical texts, its search text part or None: made from the Column's values)
    as Arrow strings without nulls. `searched`: the field is part of the search text."""
    n = len(frame)
    if name not in frame.columns:
        return Column(name, [NULL] * n, [None] * n, type(None)), _constant(NULL, n), _constant("", n)
    series = frame[name]
    dtype = series.dtype
    if kind == "text" and isinstance(dtype, pd.StringDtype):
        strings = pa.array(series.array)
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        strings = strings.cast(_TEXT)
        canon = pc.fill_null(strings, NULL)
        return Column(name, canon, None, str, series, strings), canon, pc.fill_null(strings, "")
    if kind in ("int8", "int4") and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        decimal = pa.array(series.array if isinstance(dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()
                           ).cast(pa.int64()).cast(_TEXT)
        canon = pc.fill_null(decimal, NULL)
        return Column(name, canon, None, int, series), canon, pc.fill_null(decimal, "")
    if kind == "float8" and not searched and pd.api.types.is_float_dtype(dtype):
        canon = _float_texts(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return Column(name, canon, None, float, series), canon, None
    if kind == "date" and pd.api.types.is_object_dtype(dtype):
        days = _dates(series)
        if days is not None:
            texts = days.cast(_TEXT)
            canon = pc.fill_null(texts, NULL)
            return Column(name, canon, None, date, days=days), canon, pc.fill_null(texts, "") if searched else None
    values, texts, known = _column(series)
    return Column(name, texts, values, known, series), pa.array(texts, _TEXT), None


def _dates(series: pd.Series) -> pa.Array | None:
    """The column as Arrow date32 when it holds only `date`s and Nones (the validator's dates), else None. A
    datetime is a date to Arrow, which would drop its time (its canonical text keeps it): such a column, or
    any other value, goes the general way."""
    objects = series.to_numpy(dtype=object)
    if not set(map(type, objects)) <= {date, type(None)}:
        return None
    try:
        days = pa.array(objects, type=pa.date32())
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return days


def _float_texts(numbers: np.ndarray) -> pa.Array:
    """The canonical texts of floats (publish.rows.canonical: shortest round-trip `repr`, integers without
    '.0', NUL for missing). Arrow's cast gives the same shortest digits (both are exact shortest-round-trip
    algorithms breaking ties to even: tests/publish/test_arrow_rows.py checks them on random doubles), but
    formats some magnitudes as 1e-05 or 1.2e+15 where Python writes 0.00001... or 1200000000000000.0: it is
    used only where Python writes plain decimals (1e-4 <= |x| < 1e16) and Arrow wrote no exponent; other
    values, integers and missing ones are written by Python."""
    with np.errstate(invalid="ignore"):
        size = np.abs(numbers)
        plain = (size >= 1e-4) & (size < 1e16) & (numbers != np.floor(numbers))
    texts = pa.array(numbers).cast(_TEXT)
    plain &= ~pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    other = np.flatnonzero(~plain)
    if len(other):
        fixed = pa.array([_float_text(v) for v in numbers[other].tolist()], _TEXT)
        texts = pc.replace_with_mask(texts, pa.array(~plain), fixed)
    return texts


def _constant(text: str, n: int) -> pa.Array:
    return pa.array([text], _TEXT).take(pa.array(np.zeros(n, dtype=np.int32)))


def _joined(parts: list[pa.Array], separator: str) -> pa.Array:
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, pa.scalar(separator, _TEXT))


def _hashes(rows: pa.Array) -> pa.Array:
    """The MD5 of each row's UTF-8 text as binary COPY fields: 32 lower-case hex digits behind their length."""
    n = len(rows)
    _, offsets, data = rows.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=n + 1, offset=rows.offset * 8).tolist()
    view = memoryview(data)
    md5 = _md5
    digests = np.frombuffer(b"".join([md5(view[a:b]).digest() for a, b in zip(ends, ends[1:], strict=False)]), dtype=np.uint8)
    digests = digests.reshape(n, 16)
    cells = np.empty((n, 36), dtype=np.uint8)
    cells[:, :4] = _HASH_CELL
    cells[:, 4::2] = _HEX[digests >> 4]
    cells[:, 5::2] = _HEX[digests & 15]
    return pa.Array.from_buffers(pa.binary(36), n, [None, pa.py_buffer(cells)]).cast(pa.binary())


def build(frame: pd.DataFrame, schema: Schema, folds: FoldedColumns | None = None) -> Built:
    """The batch's keys, hashes, search text and fields, as publish.staging.stored_rows_fast makes them.
    `folds`: the batch's text columns folded by an earlier stage (the quality check), the search text made of
    them (core.text.search_fold_joined) rather than folded again."""
    fields: list[Column] = []
    texts: list[pa.Array] = []
    search_fields = set(schema.search_fields)
    parts: dict[str, pa.Array | None] = {}
    for f in schema.fields:
        column, text, part = _field(frame, f.name, KINDS.get(f.type, "text"), f.name in search_fields)
        fields.append(column)
        texts.append(text)
        parts[f.name] = part
    index = {name: i for i, name in enumerate(schema.field_names)}
    keys = _joined([texts[index[name]] for name in schema.primary_key], KEY_SEPARATOR)
    hashes = _hashes(_joined(texts, KEY_SEPARATOR))
    # a None is left out of the search text; as "" it only adds a space, which folding collapses
    searched = [part if part is not None else pa.array(
        [v if isinstance(v, str) else ("" if v is None else str(v)) for v in fields[index[name]].values or []], _TEXT)
        for name, part in ((name, parts[name]) for name in schema.search_fields if name in parts)]
    if searched and folds is not None:
        names = [name for name in schema.search_fields if name in parts]
        search = search_fold_joined([folds.get(name, part) for name, part in zip(names, searched, strict=True)])
    elif searched:
        search = search_fold_arrow(_joined(searched, " "))
    else:
        search = _constant("", len(frame))
    return Built(keys, hashes, search, fields)

