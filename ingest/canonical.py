"""Texts that a normaliser leaves exactly as they are, recognised by one regex over a whole column.

Most columns of a real file are already in canonical form (ISO dates, "10.9456", "0909123456"), so a column
whose every value matches its rule's pattern skips the normaliser altogether, and in a mixed column only the
values that do not match are normalised. Each pattern describes a subset of its normaliser's fixed points:
for a matching text the normaliser returns the text itself or None (not understood, kept as it is), so
skipping it changes nothing; tests/ingest/test_canonical.py checks that against the normalisers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.normalise.text import SEP

__all__ = ["PATTERNS", "all_canonical", "needing_work", "with_decimal_point", "phones_by_digits"]

_END = rf"(?![^{SEP}])"  # the end of a cell, alone or inside a SEP-joined column
PATTERNS: dict[str, str] = {
    "date": r"\d{4}-\d\d-\d\d",
    "integer": rf"(?:-(?!0{_END}))?\d+",
    # not "1.234": the Vietnamese style reads it as 1234
    "number": rf"(?:-(?!0{_END}))?(?:\d{{4,}}(?:\.\d+)?|\d{{1,3}}(?:\.(?:\d{{1,2}}|\d{{4,}}))?){_END}",
    "boolean": r"true|false",
    # 061 is Đồng Nai's area code before 2017; 01x 11-digit mobiles were renumbered
    "phone": rf"(?:0(?:[2-57-9]\d|6[02-9])\d{{7}}|02\d{{9}}){_END}",
    "enterprise": r"\d{10}(?:-\d{3})?",
    # degrees as format_degrees writes them: at most 3 integer digits, 7 decimals, no trailing zero
    "latitude": rf"(?:-(?!0(?:\.0*)?{_END}))?(?:0|[1-9]\d{{0,2}})(?:\.\d{{0,6}}[1-9])?",
}
PATTERNS["longitude"] = PATTERNS["latitude"]

# ASCII: "\\d" would also match other scripts' digits ("２０２０"), which the normalisers do rewrite
_ONE = {rule: re.compile(p, re.ASCII) for rule, p in PATTERNS.items()}
_COLUMN = {rule: re.compile(rf"(?:{p})(?:{SEP}(?:{p}))*", re.ASCII) for rule, p in PATTERNS.items()}


def all_canonical(rule: str, texts: Iterable[str | None]) -> bool:
    """True when every text (None skipped) is canonical for `rule`: one C-level regex pass."""
    pattern = _COLUMN.get(rule)
    if pattern is None:
        return False
    joined = SEP.join(filter(None, texts))
    return not joined or pattern.fullmatch(joined) is not None


def needing_work(rule: str, distinct: set[str]) -> set[str]:
    """The values of `distinct` that the normaliser of `rule` may change."""
    pattern = _ONE.get(rule)
    if pattern is None:
        return distinct
    return distinct.difference(filter(pattern.fullmatch, distinct))


_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]+")


def with_decimal_point(rule: str, text: str) -> str | None:
    """Degrees typed with a decimal comma, as Excel in a Vietnamese locale writes them ("10,9456"): when the
    text with a point is canonical, that is what the coordinate normaliser gives, known without calling it."""
    if rule not in ("latitude", "longitude") or not _COMMA_DECIMAL.fullmatch(text):
        return None
    point = text.replace(",", ".")
    return point if _ONE[rule].fullmatch(point) else None


def phones_by_digits(texts: list[str]) -> dict[str, str]:
    """{text: digits} for the phones written with spaces, dots and brackets only ("0251 3822 123", "(0251)
    3822.123") whose digits are a canonical number: what normalise_phone gives them, found with a few C-level
    passes over the column instead of a call per value."""
    joined = "\n".join(texts)  # the text step leaves no line break inside a cell
    if joined.count("\n") != len(texts) - 1:
        return {}
    digits = joined.encode("utf-8", "surrogatepass").translate(None, b" .()").decode("utf-8", "surrogatepass")
    parts = digits.split("\n")
    canonical = set(filter(_ONE["phone"].fullmatch, parts))
    return {t: d for t, d in zip(texts, parts, strict=True) if d in canonical and d != t}
