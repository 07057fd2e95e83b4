"""How values look on the web site: numbers, dates, enum labels, yes/no, in the page's language.

Jinja filters are registered by `install(app)`; views call the same functions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, gettext, lazy_gettext, to_user_timezone

from core.catalog import Field
from hub.web.i18n import current_lang, pick
from publish.labels import Names, text_for

__all__ = ["cell", "format_label", "frequency", "install", "load_status", "number", "percent", "when"]

FREQUENCIES = {
    "continual": lazy_gettext("Continuously"),
    "daily": lazy_gettext("Daily"),
    "weekly": lazy_gettext("Weekly"),
    "monthly": lazy_gettext("Monthly"),
    "quarterly": lazy_gettext("Quarterly"),
    "biannual": lazy_gettext("Twice a year"),
    "annual": lazy_gettext("Yearly"),
    "irregular": lazy_gettext("Irregularly"),
}

LOAD_STATUSES = {
    "committed": lazy_gettext("Passed validation"),
    "unchanged": lazy_gettext("Passed validation (no change)"),
    "rejected": lazy_gettext("Latest file refused by validation: the previous version is still served"),
    "failed": lazy_gettext("Latest load failed: the previous version is still served"),
    "pending": lazy_gettext("A new file is awaiting review"),
    "discarded": lazy_gettext("Passed validation"),
}

FORMAT_LABELS = {"csv": "CSV", "geojson": "GeoJSON", "xlsx": "Excel (XLSX)", "zip": "Data Package (ZIP)",
                 "json": "JSON"}


def number(value: Any) -> str:
    if value is None:
        return "—"
    return format_decimal(value)


def percent(score: float | None) -> str:
    """Quality scores may be stored as 0–1 or 0–100; shown as a percentage."""
    if score is None:
        return "—"
    value = score * 100 if score <= 1 else score
    return format_decimal(round(value, 1)) + " %"


def _as_datetime(value: Any) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def when(value: Any) -> str:
    """A timestamp (stored naive UTC) shown in Vietnam's time zone."""
    moment = _as_datetime(value)
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return day(moment)
    return format_datetime(moment, "dd/MM/yyyy HH:mm" if current_lang() == "vi" else "d MMM yyyy HH:mm")


def day(value: Any) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = to_user_timezone(moment).date()  # stored naive UTC; the day in Vietnam
    return format_date(moment, "dd/MM/yyyy" if current_lang() == "vi" else "d MMM yyyy")


def frequency(slug: str | None) -> str:
    if not slug:
        return "—"
    label = FREQUENCIES.get(slug)
    return str(label) if label else slug


def load_status(status: str | None) -> str:
    if not status:
        return gettext("Not loaded yet")
    label = LOAD_STATUSES.get(status)
    return str(label) if label else status


def format_label(fmt: str) -> str:
    return FORMAT_LABELS.get(fmt, fmt.upper())


def cell(value: Any, f: Field, names: Names | None = None) -> str:
    """A record value for people: enum labels instead of slugs, the referenced record's name instead of its code
    (`names`, see publish.labels), Có/Không, dd/mm/yyyy dates."""
    if value is None or value == "":
        return ""
    label = text_for(value, f, current_lang(), names)
    if label is not None:
        return label
    if f.type == "boolean" or isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if f.type == "date":
        return day(value) or str(value)
    return str(value)


def install(app: Flask) -> None:
    app.jinja_env.filters.update(number=number, percent=percent, when=when, day=day, frequency=frequency,
                                 load_status=load_status, format_label=format_label, pick=pick)
