"""Turning a validated, typed batch (a pandas DataFrame) into the tuples we store.

Each stored row gets its key (the primary key as one text), a hash of its values (so an unchanged record is
recognised and never written twice) and its folded search text. All three are computed here, once, from the
typed values, so every loader and backend agrees on them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pandas as pd

from core.catalog import Schema
from core.text import search_fold

KEY_SEPARATOR = "\x1f"


def canonical(value: Any) -> str:
    """The text a typed value is hashed and keyed by; stable across loads and backends."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "\x00"
        return repr(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def python_values(frame: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """Column lists of plain Python values (None for missing), whatever pandas dtype they came in."""
    out: list[list[Any]] = []
    for name in columns:
        if name not in frame.columns:
            out.append([None] * len(frame))
            continue
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = [None if pd.isna(v) else v.date() for v in series]
        else:
            values = [None if _missing(v) else _plain(v) for v in series.astype(object)]
        out.append(values)
    return out


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


def stored_rows(frame: pd.DataFrame, schema: Schema) -> Iterator[tuple[Any, ...]]:
    """(key, hash, search, *field values) per row, field values in schema order."""
    names = schema.field_names
    columns = python_values(frame, names)
    index = {n: i for i, n in enumerate(names)}
    pk = [index[n] for n in schema.primary_key]
    search = [index[n] for n in schema.search_fields if n in index]
    for values in zip(*columns, strict=True):
        texts = [canonical(v) for v in values]
        key = KEY_SEPARATOR.join(texts[i] for i in pk)
        digest = hashlib.md5(KEY_SEPARATOR.join(texts).encode("utf-8"), usedforsecurity=False).hexdigest()
        words = search_fold(" ".join(str(values[i]) for i in search if values[i] is not None))
        yield (key, digest, words, *values)


def rejected_records(frame: pd.DataFrame, schema: Schema) -> Iterator[tuple[int, str, str]]:
    """(row number, source data as JSON, errors as JSON) for each invalid row."""
    names = [n for n in schema.field_names if n in frame.columns]
    extra = [c for c in frame.columns if not c.startswith("_") and c not in names]
    for record in frame.to_dict("records"):
        data = {n: _json_safe(record.get(n)) for n in [*names, *extra]}
        errors = record.get("_errors") or []
        if not isinstance(errors, list):
            errors = [errors]
        yield int(record.get("_row") or 0), json.dumps(data, ensure_ascii=False), json.dumps(errors, ensure_ascii=False, default=str)


def _json_safe(value: Any) -> Any:
    if _missing(value):
        return None
    value = _plain(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
