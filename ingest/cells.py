"""One column of a batch through its normaliser, recording every cell that changed.

Readers give Python values: text from CSV/JSON, numbers, dates and booleans from spreadsheets and JSON.
A typed value is first written as canonical text (12.0 -> "12", a datetime at midnight -> "2020-11-19");
that is not a change, it is how the source shows the cell. Text then goes through the text normaliser
and the field's normaliser; a value the normaliser cannot understand stays as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ingest.normalise.booleans import parse_boolean
from ingest.normalise.communes import match_commune
from ingest.normalise.coordinates import format_degrees, parse_degrees
from ingest.normalise.dates import excel_serial_to_date, parse_date
from ingest.normalise.enterprise import normalise_enterprise_code
from ingest.normalise.enums import enum_index, normalise_enum
from ingest.normalise.numbers import format_number, number_style, parse_number, reading_style
from ingest.normalise.phones import normalise_phone
from ingest.normalise.text import normalise_text

__all__ = ["Change", "typed_text", "normalise_column"]


@dataclass
class Change:
    """One cell a normaliser changed."""

    row: int
    field: str
    original: str
    value: str | None
    rule: str


def typed_text(value: Any) -> str:
    """A non-text cell value as canonical text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _geojson(text: str) -> str | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else None


def _degrees(text: str) -> str | None:
    value = parse_degrees(text)
    if value is None:  # VN-2000 metres written with grouping: "1.210.000,5"
        plane = parse_number(text, "vi")
        return plane if plane is not None and abs(float(plane)) > 1000 else None
    if abs(value) > 1000:  # VN-2000 metres: keep the text, the row step converts the pair
        return text.replace(",", ".") if text.count(",") == 1 and "." not in text else None
    return format_degrees(value)


def _commune(text: str) -> tuple[str, str] | None:
    return match_commune(text)


def _rule_function(rule: str, spec: Mapping, style: str) -> Callable[[str], str | tuple[str, str] | None] | None:
    if rule == "date":
        return parse_date
    if rule in ("number", "integer"):
        return lambda t: parse_number(t, style, integer=rule == "integer")
    if rule == "boolean":
        return parse_boolean
    if rule == "phone":
        return normalise_phone
    if rule == "enterprise":
        return normalise_enterprise_code
    if rule in ("latitude", "longitude"):
        return _degrees
    if rule == "geojson":
        return _geojson
    if rule == "commune":
        return _commune
    if rule == "enum":
        index = enum_index(spec.get("constraints", {}).get("enum", []), spec.get("enumLabels"))
        return lambda t: normalise_enum(t, index)
    return None


_RULE_NAMES = {
    "number": "number",
    "integer": "number",
    "latitude": "coordinate",
    "longitude": "coordinate",
    "enterprise": "enterprise-code",
}


def normalise_column(
    field: str,
    rule: str,
    spec: Mapping,
    cells: Sequence[Any],
    rows: Sequence[int],
    missing_values: frozenset[str],
    record: Callable[[Change], None],
) -> list[str | None]:
    """Canonical text for each cell of one field in a batch; changes go to `record`."""
    originals: list[str | None] = []
    texts: list[str | None] = []
    typed: list[bool] = []
    for cell in cells:
        if cell is None:
            originals.append(None)
            texts.append(None)
            typed.append(False)
            continue
        is_text = isinstance(cell, str)
        original = cell if is_text else typed_text(cell)
        text = normalise_text(original) if is_text else original
        if text is not None and text in missing_values:
            text = None
        originals.append(original)
        texts.append(text)
        typed.append(not is_text)
    style = (
        number_style(t for t, ty in zip(texts, typed, strict=True) if not ty) if rule in ("number", "integer") else "vi"
    )
    function = _rule_function(rule, spec, style)
    out: list[str | None] = []
    memo: dict[str, Any] = {}
    for i, text in enumerate(texts):
        value, changed_by = text, "text"
        if text is not None and function is not None:
            cell = cells[i]
            if typed[i] and rule in ("number", "integer", "latitude", "longitude"):
                result = None  # already canonical; plane or swapped coordinates are fixed per row
            elif typed[i] and rule == "date" and isinstance(cell, (int, float)) and not isinstance(cell, bool):
                result = excel_serial_to_date(cell)
            else:
                if text not in memo:  # the same value repeats down a column (communes, types...)
                    memo[text] = function(text)
                result = memo[text]
            if isinstance(result, tuple):
                result, changed_by = result
            elif result is not None:
                changed_by = _RULE_NAMES.get(rule, rule)
            if result is not None:
                if rule in ("number", "integer"):
                    changed_by = f"number-{reading_style(text, style)}"
                value = result
        out.append(value)
        original = originals[i]
        if original is not None and value != original and not (value is None and not original.strip()):
            record(Change(rows[i], field, original, value, changed_by if value != text else "text"))
    return out
