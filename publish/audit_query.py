"""What of a request's query string goes into the audit log: personal values keyed-hashed, never as sent.

A CCCD number used as a filter (`?holder_id_number=0742...`) would otherwise sit in hub_audit for years and
show in /api/v1/admin/audit. Stored instead, for
- a parameter naming a personal field of any dataset (`holder_id_number`, `holder_phone__in`, ...),
- free text (`q`, CKAN `filters`, `fq`, `sql`...) asked of a dataset that holds personal fields,
is `~h:` and the first 16 hex digits of HMAC-SHA256(HUB_AUDIT_KEY, value): an auditor who knows a value can
compute its token with the key and find the requests that asked for it; the log alone gives nothing back.
Elsewhere runs of 9 or more digits (ID, tax and phone numbers) are hashed the same way, so a number slipped
into a free-text search of an open dataset is not kept either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from core.catalog import Catalog, Dataset

__all__ = ["personal_names", "redact_query", "token"]

FREE_TEXT = frozenset({"q", "filters", "fq", "sql", "query", "search"})
_LONG_NUMBER = re.compile(r"\d[\d .-]{7,}\d")


def token(key: bytes, value: str) -> str:
    return "~h:" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# the last catalogue's answer, with the datasets it was computed from (kept, so that none is a new one at an old
# address): every audited request asks, and the catalogue changes only when a dataset is added or replaced
_last_names: tuple[tuple[Dataset, ...], frozenset[str]] = ((), frozenset())


def personal_names(catalog: Catalog) -> frozenset[str]:
    """Names of fields personal in any dataset of the catalogue."""
    global _last_names
    datasets, names = _last_names
    current = catalog.datasets.values()
    if len(datasets) == len(current) and all(a is b for a, b in zip(datasets, current, strict=True)) and datasets:
        return names
    names = frozenset(f.name for ds in current for f in ds.schema.fields if f.personal)
    _last_names = (tuple(current), names)
    return names


def _numbers(key: bytes, text: str) -> str:
    def hashed(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return token(key, digits) if len(digits) >= 9 else match.group()

    return _LONG_NUMBER.sub(hashed, text)


def _field(name: str) -> str:
    """`holder_phone__in` -> holder_phone; `filters[holder_id_number]` -> holder_id_number."""
    name = name.partition("__")[0]
    if "[" in name and name.endswith("]"):
        name = name[name.index("[") + 1:-1]
    return name


def _json_value(key: bytes, text: str, personal: Iterable[str]) -> str | None:
    """CKAN `filters` ({"field": value}): personal fields' values hashed; None if not a JSON object."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    names = set(personal)
    out = {k: (token(key, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) if k in names else v)
           for k, v in parsed.items()}
    return _numbers(key, json.dumps(out, ensure_ascii=False, separators=(",", ":")))


def _holds_personal(dataset: Dataset | None) -> bool:
    return dataset is not None and any(f.personal for f in dataset.schema.fields)


def redact_query(query: str, key: bytes, personal: frozenset[str], dataset: Dataset | None = None) -> str | None:
    """The decoded query string as the audit log keeps it (None when empty)."""
    if not query:
        return None
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if value and _field(name) in personal:
            value = token(key, value)
        elif value and name in FREE_TEXT and _holds_personal(dataset):
            value = (_json_value(key, value, personal) if name == "filters" else None) or token(key, value)
        elif name == "filters" and value:
            value = _json_value(key, value, personal) or _numbers(key, value)
        else:
            value = _numbers(key, value)
        parts.append(f"{_numbers(key, name)}={value}")
    return "&".join(parts) or None
