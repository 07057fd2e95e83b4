"""Dates to ISO YYYY-MM-DD.

Vietnamese documents write day first (19/11/2020, 19-11-20, "ngày 19 tháng 11 năm 2020"); Excel cells
that lost their date format show the serial number (44154 = 2020-11-19, epoch 1899-12-30 because of
Lotus's 1900 leap-year bug). Month-first dates are never guessed: 11/19/2020 is not understood.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

__all__ = ["parse_date", "excel_serial_to_date"]

_EXCEL_EPOCH = date(1899, 12, 30)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})(?:\s+0?0:00(?::00)?)?")
_WORDS = re.compile(r"(?:ngày\s*)?(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|,)?\s*(\d{4})", re.IGNORECASE)
_SERIAL = re.compile(r"(\d{5})(?:\.0+)?")


def _make(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


def excel_serial_to_date(serial: float) -> str | None:
    """Excel's 1900 date system serial number to ISO; None outside 1927-2119 (not plausibly a date)."""
    if not 10_000 <= serial < 80_000:
        return None
    return (_EXCEL_EPOCH + timedelta(days=int(serial))).isoformat()


def parse_date(text: str) -> str | None:
    """'19/11/2020' -> '2020-11-19'; None when the text is not a day-first, ISO or Excel serial date."""
    text = text.strip()
    if m := _ISO.fullmatch(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _YMD.fullmatch(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.fullmatch(text):
        return _make(_year(m[3]), int(m[2]), int(m[1]))
    if m := _WORDS.fullmatch(text.rstrip(".")):
        return _make(int(m[3]), int(m[2]), int(m[1]))
    if m := _SERIAL.fullmatch(text):
        return excel_serial_to_date(int(m[1]))
    return None
