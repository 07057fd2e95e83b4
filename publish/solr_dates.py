"""Solr's date maths, as CKAN clients and harvesters write it in `fq`: `NOW`, `NOW-1DAY`, `NOW/DAY`,
`NOW-7DAYS/DAY+1HOUR`, `2025-01-01T00:00:00Z+1MONTH` (Solr reference guide, "Working with Dates").

An expression is an anchor (`NOW`, or an ISO 8601 instant in UTC) followed by any number of `+N UNIT`,
`-N UNIT` (add or subtract) and `/UNIT` (round down to the start of the unit), applied left to right.
Months and years keep the day of the month, or the month's last day when it has fewer (Jan 31 + 1 MONTH =
Feb 28 or 29). The result is a naive UTC datetime, as the package dates are kept (publish.metadata.ckan_time).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta
from typing import Any

__all__ = ["DateMathError", "is_date_math", "resolve"]

UNITS = {
    "YEAR": "year", "YEARS": "year", "MONTH": "month", "MONTHS": "month", "DAY": "day", "DAYS": "day",
    "DATE": "day", "HOUR": "hour", "HOURS": "hour", "MINUTE": "minute", "MINUTES": "minute",
    "SECOND": "second", "SECONDS": "second", "MILLI": "milli", "MILLIS": "milli", "MILLISECOND": "milli",
    "MILLISECONDS": "milli",
}
_ANCHOR = re.compile(r"NOW|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z")
_STEP = re.compile(r"([+-])(\d+)([A-Z]+)|/([A-Z]+)")


class DateMathError(ValueError):
    """Text that starts like a date expression but is not one."""


def is_date_math(text: str) -> bool:
    """Whether `text` asks for date maths (as opposed to a plain date, kept as text for comparison)."""
    text = text.strip().upper()
    return text.startswith("NOW") or bool(re.match(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z[+-/]", text))


def _add_months(value: datetime, months: int) -> datetime:
    month0 = value.month - 1 + months
    year, month = value.year + month0 // 12, month0 % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def _add(value: datetime, amount: int, unit: str) -> datetime:
    if unit == "year":
        return _add_months(value, 12 * amount)
    if unit == "month":
        return _add_months(value, amount)
    if unit == "milli":
        return value + timedelta(milliseconds=amount)
    return value + timedelta(**{f"{unit}s": amount})


def _round(value: datetime, unit: str) -> datetime:
    if unit == "milli":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    parts = ("year", "month", "day", "hour", "minute", "second")
    kept = parts[:parts.index(unit) + 1]
    zero: dict[str, Any] = {"month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0}
    return value.replace(microsecond=0, **{p: zero[p] for p in parts if p not in kept})


def resolve(text: str, now: datetime) -> datetime:
    """The instant `text` names, with `now` (naive UTC) for NOW. DateMathError when it is not date maths."""
    expression = text.strip().upper()
    anchor = _ANCHOR.match(expression)
    if anchor is None:
        raise DateMathError(f"Can't parse date: {text}")
    if anchor.group(0) == "NOW":
        value = now
    else:
        stamp = anchor.group(0).rstrip("Z")
        if "." in stamp:
            head, fraction = stamp.split(".")
            stamp = f"{head}.{fraction[:6]:0<6}"
        value = datetime.fromisoformat(stamp)
    position = anchor.end()
    while position < len(expression):
        step = _STEP.match(expression, position)
        if step is None:
            raise DateMathError(f"Can't parse date math: {text}")
        sign, amount, unit, round_unit = step.groups()
        name = UNITS.get(unit or round_unit or "")
        if name is None:
            raise DateMathError(f"Unknown date math unit «{unit or round_unit}»: {text}")
        try:
            value = _round(value, name) if round_unit else _add(value, int(amount) * (-1 if sign == "-" else 1), name)
        except (OverflowError, ValueError):
            raise DateMathError(f"Date out of range: {text}") from None
        position = step.end()
    return value
