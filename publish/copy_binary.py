"""A batch as PostgreSQL binary COPY data, built column by column (numpy and Arrow) instead of row by row.

In binary COPY each row is a field count (int16) followed, per field, by a length (int32, -1 for NULL) and the
value in the type's binary form (big-endian integers and floats, days or microseconds since 2000-01-01, UTF-8
text). The server stores those bytes without parsing text. Here every column is converted once, as an array:
a fixed-width column is one numpy record array, a text column one Arrow string array, and Arrow's
`binary_join_element_wise` lays the fields of all rows side by side in one buffer, the batch's COPY data.

The values are those a text COPY stores: each field's value is read from the canonical text the row's hash
is made of (publish.staging), so a record loaded either way is the same record. A value the binary form
cannot carry (text holding a NUL character, an integer outside its column's range, a decimal or a word in an
integer column, a date that is not ISO) raises a bilingual `ValidationFailed` naming the row and the field,
before anything of the batch is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.catalog import Schema
from core.errors import ValidationFailed
from core.text import FoldedColumns

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # the header: signature, flags (none), header extension (none)
TRAILER = b"\xff\xff"
NULL = "\x00"  # the canonical text of a missing value (publish.rows.canonical)

# binary kind of each schema type, as the dataset table's columns are typed (publish/tables.py); others: text
KINDS = {"integer": "int8", "number": "float8", "boolean": "bool", "date": "date", "datetime": "timestamp",
         "year": "int4"}
_WIDTHS = {"int8": 8, "int4": 4, "float8": 8, "bool": 1, "date": 4, "timestamp": 8}
_NUMPY = {"int8": ">i8", "int4": ">i4", "float8": ">f8", "bool": "u1", "date": ">i4", "timestamp": ">i8"}
_INT4 = (-(1 << 31), (1 << 31) - 1)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_EPOCH_DAYS = _EPOCH_ORDINAL - date(1970, 1, 1).toordinal()  # 2000-01-01 in Arrow's days since 1970
_EPOCH = datetime(2000, 1, 1)
_BOOLEANS = {"true": True, "false": False}


class Column:
    """One field of a batch: its canonical `texts` (NULL for missing; a list, or Arrow strings made a list
    when first asked for) and, as staging has them, its Python `values` (None for missing) with their one
    Python type `known` when the dtype said it; `series`, the pandas column they came from, when its dtype lets
    the column be converted without the Python values; `strings`, a text field's values as Arrow strings;
    `days`, a date field's values as Arrow date32 (then `values` may be None)."""

    __slots__ = ("name", "_texts", "values", "known", "series", "strings", "days")

    def __init__(self, name: str, texts: list[str] | pa.Array, values: list[Any] | None = None,
                 known: type | None = None, series: pd.Series | None = None, strings: pa.Array | None = None,
                 days: pa.Array | None = None) -> None:
        self.name, self._texts, self.values, self.known, self.series = name, texts, values, known, series
        self.strings, self.days = strings, days

    @property
    def texts(self) -> list[str]:
        if not isinstance(self._texts, list):
            self._texts = self._texts.to_pylist()
        return self._texts


class Refused(ValueError):
    """A value of `column` at batch position `index` the binary form cannot carry."""

    def __init__(self, column: str, index: int, value: Any, vi: str, en: str) -> None:
        super().__init__(en)
        self.column, self.index, self.value, self.vi, self.en = column, index, value, vi, en

    def error(self, row: int) -> ValidationFailed:
        shown = repr(str(self.value)[:60])
        return ValidationFailed(
            f"Dòng {row}, trường '{self.column}': giá trị {shown} {self.vi}; không có gì của lần nạp này được lưu.",
            f"Row {row}, field '{self.column}': the value {shown} {self.en}; nothing of this load was stored.",
            code="value-not-storable", row=row, field=self.column)


def _cells(kind: str, numbers: np.ndarray, missing: np.ndarray) -> pa.Array:
    """Length-prefixed fields of a fixed-width kind: 4-byte length + value, or the length -1 alone if missing."""
    width, n = _WIDTHS[kind], len(numbers)
    cells = np.empty(n, dtype=[("length", ">i4"), ("value", _NUMPY[kind])])
    cells["length"] = np.where(missing, -1, width)
    cells["value"] = numbers
    return _packed(cells.view(np.uint8).reshape(n, 4 + width), missing)


def _packed(raw: np.ndarray, missing: np.ndarray) -> pa.Array:
    """An Arrow binary array of the rows of `raw` (one row of bytes per field), cut to the length alone
    (4 bytes) where missing."""
    n, width = raw.shape
    if missing.any():
        keep = np.ones(raw.shape, dtype=bool)
        keep[missing, 4:] = False
        data = raw[keep]
    else:
        data = raw.reshape(-1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(missing, 4, width).astype(np.int32), out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _text(column: Column) -> tuple[pa.Array, pa.Array]:
    """(length prefixes, UTF-8 values) of a text field."""
    strings = column.strings
    if strings is None and column.known is str and column.series is not None:
        strings = _arrow_strings(column.series)
    if strings is None and column.known is str and column.values is not None:
        strings = pa.array(column.values, type=pa.string())
    elif strings is None:
        strings = pa.array([None if t == NULL else t for t in column.texts], type=pa.string())
    if column.name == "_key":  # a missing key part is NUL in the row's key (publish.rows): text COPY has always
        strings = pc.replace_substring(strings, NULL, "N")  # stored it as 'N' (staging), and reloads compare with that
    index = _first_nul(strings)
    if index is not None:  # PostgreSQL's text cannot hold it
        raise Refused(column.name, index, strings[index].as_py(), "chứa ký tự NUL (mã 0), cơ sở dữ liệu không lưu được",
                      "holds a NUL character (code 0), which the database cannot store")
    lengths = pc.fill_null(pc.binary_length(strings), -1).to_numpy().astype(">i4")
    prefixes = pa.Array.from_buffers(pa.binary(4), len(lengths), [None, pa.py_buffer(lengths.tobytes())])
    return prefixes.cast(pa.binary()), strings.cast(pa.binary()).fill_null(b"")


def _first_nul(strings: pa.Array) -> int | None:
    """The position of the first value holding a NUL character, if any: one scan of the values' bytes."""
    offsets, data = strings.buffers()[1:3]
    if data is None or not len(strings):
        return None
    wide = strings.type in (pa.large_string(), pa.large_binary())
    ends = np.frombuffer(offsets, dtype=np.int64 if wide else np.int32, count=len(strings) + 1,
                         offset=strings.offset * (8 if wide else 4))
    found = np.flatnonzero(np.frombuffer(data, dtype=np.uint8, count=int(ends[-1]))[int(ends[0]):] == 0)
    if not len(found):
        return None
    return int(np.searchsorted(ends, int(ends[0]) + int(found[0]), side="right")) - 1


def _arrow_strings(series: pd.Series) -> pa.Array | None:
    try:
        strings = pa.array(series.array)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    return strings if strings.type in (pa.string(), pa.large_string()) else None


def _typed(kind: str, column: Column) -> tuple[np.ndarray, np.ndarray] | None:
    """(numbers, missing) straight from a numeric pandas column, or None when its dtype is not one of those."""
    series = column.series
    if series is None or pd.api.types.is_bool_dtype(series.dtype):
        return None
    missing = series.isna().to_numpy(dtype=bool)
    if kind == "float8" and pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), missing
    if kind in ("int8", "int4") and pd.api.types.is_integer_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.int64, na_value=0)
        if kind == "int4" and len(numbers) and not (_INT4[0] <= numbers.min() and numbers.max() <= _INT4[1]):
            i = int(np.flatnonzero((numbers < _INT4[0]) | (numbers > _INT4[1]))[0])
            raise Refused(column.name, i, column.texts[i], "vượt quá giới hạn số nguyên của cơ sở dữ liệu",
                          "is beyond the database's integer range")
        return numbers, missing
    return None


def _integers(kind: str, column: Column, missing: np.ndarray) -> np.ndarray:
    if column.known is int and column.values is not None:
        numbers = [0 if v is None else v for v in column.values]
    else:
        numbers = []
        for i, t in enumerate(column.texts):
            if t != NULL and not _INTEGER.fullmatch(t):
                raise Refused(column.name, i, t, "không phải số nguyên", "is not a whole number")
            numbers.append(0 if t == NULL else int(t))
    low, high = (-(1 << 63), (1 << 63) - 1) if kind == "int8" else _INT4
    if numbers and not (low <= min(numbers) and max(numbers) <= high):
        i = next(i for i, v in enumerate(numbers) if not low <= v <= high)
        raise Refused(column.name, i, column.texts[i], "vượt quá giới hạn số nguyên của cơ sở dữ liệu",
                      "is beyond the database's integer range")
    return np.array(numbers, dtype=np.int64)


def _floats(column: Column) -> np.ndarray:
    if column.known in (float, int) and column.values is not None:
        return np.array(column.values, dtype=np.float64)  # None: NaN, a missing value
    numbers = []
    for i, t in enumerate(column.texts):
        try:
            numbers.append(np.nan if t == NULL else float(t.replace("_", "x")))  # PostgreSQL reads no '_'
        except ValueError:
            raise Refused(column.name, i, t, "không phải số", "is not a number") from None
    return np.array(numbers, dtype=np.float64)


def _moments(kind: str, column: Column) -> np.ndarray:
    """Days (date) or microseconds (timestamp) since 2000-01-01 of a date or date-time field."""
    values = column.values if column.values is not None else [None] * len(column.texts)
    out = np.zeros(len(column.texts), dtype=np.int64)
    for i, (v, t) in enumerate(zip(values, column.texts, strict=True)):
        if t == NULL:
            continue
        try:
            moment = v if isinstance(v, (date, datetime)) else (
                datetime.fromisoformat(t) if kind == "timestamp" else date.fromisoformat(t))
        except ValueError:
            raise Refused(column.name, i, t, "không phải ngày/giờ theo ISO 8601",
                          "is not an ISO 8601 date or time") from None
        if kind == "date":
            out[i] = (moment.date() if isinstance(moment, datetime) else moment).toordinal() - _EPOCH_ORDINAL
        else:
            if not isinstance(moment, datetime):
                moment = datetime.combine(moment, time())
            delta = moment.replace(tzinfo=None) - _EPOCH  # a time zone is ignored, as `timestamp` input does
            out[i] = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return out


def _fields(kind: str, column: Column) -> list[pa.Array]:
    """The length-prefixed fields of one column, as one or two Arrow binary arrays."""
    if kind == "text":
        return list(_text(column))
    if kind == "date" and column.days is not None:  # Arrow's days since 1970, made days since 2000
        missing = column.days.is_null().to_numpy(zero_copy_only=False)
        days = column.days.cast(pa.int32()).fill_null(0).to_numpy().astype(np.int64) - _EPOCH_DAYS
        return [_cells(kind, days, missing)]
    typed = _typed(kind, column)
    if typed is not None:
        return [_cells(kind, *typed)]
    missing = np.fromiter((t == NULL for t in column.texts), dtype=bool, count=len(column.texts))
    if kind in ("int8", "int4"):
        numbers = _integers(kind, column, missing)
    elif kind == "float8":
        numbers = _floats(column)
    elif kind == "bool":
        for i, t in enumerate(column.texts):
            if t != NULL and t not in _BOOLEANS:
                raise Refused(column.name, i, t, "không phải đúng/sai", "is not true or false")
        numbers = np.fromiter((t == "true" for t in column.texts), dtype=np.uint8, count=len(column.texts))
    else:
        numbers = _moments(kind, column)
    return [_cells(kind, numbers, missing)]


def constant(kind: str, value: int, count: int) -> pa.Array:
    """Length-prefixed fields holding the same integer in every row (a load's version)."""
    return _cells(kind, np.full(count, value, dtype=np.int64), np.zeros(count, dtype=bool))


def rows(columns: Sequence[tuple[str, Column | pa.Array]], count: int) -> bytes:
    """The binary COPY rows (no signature, no trailer) of a batch of `count` rows. Each of `columns` is
    (binary kind, values): a Column, converted here ('text' or one of KINDS' values), or an Arrow binary array
    of fields already length-prefixed (kind 'raw'). A value that cannot be carried: `Refused`."""
    if not count:
        return b""
    fields: list[list[pa.Array]] = [[]] * len(columns)
    # the schema's fields first, so that a value is refused under its own name rather than as part of the
    # key or search text made from it
    for i in sorted(range(len(columns)), key=lambda i: isinstance(columns[i][1], pa.Array) or columns[i][1].name[:1] == "_"):
        kind, column = columns[i]
        fields[i] = [column] if isinstance(column, pa.Array) else _fields(kind, column)
    parts = [pa.array([len(columns).to_bytes(2, "big")] * count, type=pa.binary()), *(p for f in fields for p in f)]
    joined = pc.binary_join_element_wise(*parts, b"")
    _, offsets, data = joined.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32, count=count + 1, offset=joined.offset * 4)
    out: bytes = data.slice(int(ends[0]), int(ends[-1] - ends[0])).to_pybytes()
    return out


def direct_batch(frame: pd.DataFrame, schema: Schema, *, version: int, rows_before: int = 0,
                 first_id: int | None = None, folds: FoldedColumns | None = None) -> bytes:
    """A first load's batch as binary COPY rows of ([_id,] _key, _hash, _from, _search, *fields): the same keys,
    hashes and search text as publish.staging.copy_text (the geometry is made by the database), built as Arrow
    arrays (publish/arrow_rows.py); with `first_id`, the rows' `_id` numbered from it. A value that cannot be
    carried: `ValidationFailed` naming its source row (the frame's `_row`, else `rows_before` + position).
    `folds`: the frame's text columns folded already (publish.arrow_rows.build)."""
    from publish.arrow_rows import build

    n = len(frame)
    try:
        built = build(frame, schema, folds)
        columns: list[tuple[str, Column | pa.Array]] = [
            ("text", Column("_key", built.keys, None, str, strings=built.keys)), ("raw", built.hashes),
            ("raw", constant("int4", version, n)), ("text", Column("_search", built.search, None, str, strings=built.search))]
        if first_id is not None:
            columns.insert(0, ("raw", _cells("int4", np.arange(first_id, first_id + n, dtype=np.int64),
                                             np.zeros(n, dtype=bool))))
        columns += [(KINDS.get(f.type, "text"), column) for f, column in zip(schema.fields, built.fields, strict=True)]
        return rows(columns, n)
    except Refused as refused:
        numbers = frame["_row"] if "_row" in frame.columns else None
        row = int(numbers.iloc[refused.index]) if numbers is not None else rows_before + refused.index + 1
        raise refused.error(row) from None
