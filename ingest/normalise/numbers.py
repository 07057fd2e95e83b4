"""Numbers to canonical text: '.' decimal point, no thousands separator.

Vietnamese writes 1.234,5 and English 1,234.5. "1.234" alone is ambiguous, so the style is decided per
column from all values of a batch (`number_style`): unambiguous values vote, ties go to Vietnamese (the
sources are Vietnamese offices). For integer fields a lone 3-digit group is a thousands separator in
either style.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["number_style", "number_style_of_counts", "parse_number", "format_number", "reading_style"]

_VI = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_EN = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_GROUPED_INT = re.compile(r"-?\d{1,3}(?:[.,]\d{3})+")
_SPACED = re.compile(r"(?<=\d)[ \u00a0\u202f'](?=\d{3}\b)")
_BARE_FRACTION = re.compile(r"(-?)[.,](\d+)")
_UNITS = re.compile(r"\s*(?:vnđ|vnd|đồng|đ)\.?$", re.IGNORECASE)


def _clean(text: str) -> str:
    text = _UNITS.sub("", text.strip())
    text = _SPACED.sub("", text)
    return text.lstrip("+") if text.startswith("+") else text


def number_style(values: Iterable[str | None]) -> str:
    """'vi' or 'en' from the values that only one style can read; 'vi' when nothing decides."""
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return number_style_of_counts(counts)


def number_style_of_counts(counts: Mapping[str, int]) -> str:
    """number_style of a column given as {value: how many times it occurs} (each value read once)."""
    vi = en = 0
    for value, count in counts.items():
        if not value:
            continue
        text = _clean(value)
        in_vi, in_en = bool(_VI.fullmatch(text)), bool(_EN.fullmatch(text))
        if in_vi and not in_en:
            vi += count
        elif in_en and not in_vi:
            en += count
    return "en" if en > vi else "vi"


def reading_style(text: str, style: str = "vi") -> str:
    """Which style `parse_number` reads this text in: 'vi' or 'en'."""
    text = _clean(text)
    in_vi, in_en = bool(_VI.fullmatch(text)), bool(_EN.fullmatch(text))
    return "vi" if in_vi and (style == "vi" or not in_en) else "en"


def _strip_zero_fraction(text: str) -> str:
    if "." in text:
        whole, frac = text.split(".", 1)
        if set(frac) <= {"0"}:
            return whole
    return text


def parse_number(text: str, style: str = "vi", *, integer: bool = False) -> str | None:
    """'1.234,5' -> '1234.5'; '1,234.5' -> '1234.5'; `style` only decides values both styles can read."""
    text = _clean(text)
    if integer and _GROUPED_INT.fullmatch(text) and len({c for c in text if c in ".,"}) == 1:
        return text.replace(".", "").replace(",", "")
    in_vi, in_en = bool(_VI.fullmatch(text)), bool(_EN.fullmatch(text))
    if in_vi and (style == "vi" or not in_en):
        out = text.replace(".", "").replace(",", ".")
    elif in_en:
        out = text.replace(",", "")
    elif m := _BARE_FRACTION.fullmatch(text):  # ".5" / ",5"
        out = f"{m[1]}0.{m[2]}"
    else:
        return None
    if integer:
        out = _strip_zero_fraction(out)
    if out in ("-0",):
        out = "0"
    return out


def format_number(value: float | int) -> str:
    """A number typed in a spreadsheet or JSON as canonical text: 12.0 -> '12', 1e-7 -> '0.0000001'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(float(value))
    if "e" in text or "E" in text:
        from decimal import Decimal

        text = format(Decimal(text), "f")
    return text
