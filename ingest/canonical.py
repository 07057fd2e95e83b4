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
from itertools import compress, repeat
from operator import and_, ne, not_

import pyarrow
import pyarrow.compute as pc

from ingest.normalise.phones import phone_from_plain
from ingest.normalise.text import SEP

__all__ = ["PATTERNS", "all_canonical", "needing_work", "with_decimal_point", "degrees_by_text", "phones_by_digits"]

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
# The same tests of one text in RE2, run by Arrow over many texts at once (no Python call per text). RE2 has no
# lookahead: a pattern's "but not -0" is a second pattern whose matches are taken out. [0-9] as re.ASCII's \d.
RE2_PATTERNS: dict[str, tuple[str, str | None]] = {
    "date": (r"^[0-9]{4}-[0-9][0-9]-[0-9][0-9]$", None),
    "integer": (r"^-?[0-9]+$", r"^-0$"),
    "number": (r"^-?(?:[0-9]{4,}(?:\.[0-9]+)?|[0-9]{1,3}(?:\.(?:[0-9]{1,2}|[0-9]{4,}))?)$", r"^-0$"),
    "boolean": (r"^(?:true|false)$", None),
    "phone": (r"^(?:0(?:[2-57-9][0-9]|6[02-9])[0-9]{7}|02[0-9]{9})$", None),
    "enterprise": (r"^[0-9]{10}(?:-[0-9]{3})?$", None),
    "latitude": (r"^-?(?:0|[1-9][0-9]{0,2})(?:\.[0-9]{0,6}[1-9])?$", r"^-0(?:\.0*)?$"),
}
RE2_PATTERNS["longitude"] = RE2_PATTERNS["latitude"]
_RE2_FROM = 256  # distinct texts from which one Arrow pass beats a regex call per text


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
    values = list(distinct)
    return set(compress(values, map(not_, _fullmatches(pattern, RE2_PATTERNS[rule], values))))


def _fullmatches(pattern: re.Pattern[str], re2: tuple[str, str | None], texts: list[str]) -> list[bool]:
    """Whether `pattern` matches each text whole: from _RE2_FROM texts by Arrow's RE2 kernels with `re2` (the
    same test), else (or for a text Arrow cannot hold, a lone surrogate) by one call per text."""
    if len(texts) >= _RE2_FROM:
        found = re2_fullmatches(re2, texts)
        if found is not None:
            return found
    return list(map(bool, map(pattern.fullmatch, texts)))


def re2_fullmatches(re2: tuple[str, str | None], texts: list[str]) -> list[bool] | None:
    """Whether each text matches the first RE2 pattern of `re2` and not the second; None when Arrow cannot hold
    a text (a lone surrogate)."""
    try:
        array = pyarrow.array(texts, type=pyarrow.string())
    except (pyarrow.ArrowException, UnicodeError):
        return None
    pattern, but_not = re2
    found = pc.match_substring_regex(array, pattern)
    if but_not is not None:
        found = pc.and_(found, pc.invert(pc.match_substring_regex(array, but_not)))
    matches: list[bool] = found.to_pylist()
    return matches


_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]+")


def with_decimal_point(rule: str, text: str) -> str | None:
    """Degrees typed with a decimal comma, as Excel in a Vietnamese locale writes them ("10,9456"): when the
    text with a point is canonical, that is what the coordinate normaliser gives, known without calling it."""
    if rule not in ("latitude", "longitude") or not _COMMA_DECIMAL.fullmatch(text):
        return None
    point = text.replace(",", ".")
    return point if _ONE[rule].fullmatch(point) else None


# decimal degrees with at most 7 decimals and no leading zero: format_degrees(float(text)) is the text
# itself without trailing zeros (the double is far closer to the text than half of the 7th decimal)
_PLAIN_DEGREES = re.compile(r"-?(?:0|[1-9][0-9]{0,2})\.[0-9]{1,7}")
PLAIN_DEGREES_RE2 = (r"^-?(?:0|[1-9][0-9]{0,2})\.[0-9]{1,7}$", None)


def degrees_by_text(texts: list[str]) -> dict[str, str]:
    """{text: degrees} for the texts written as plain decimal degrees with a point or a decimal comma and at
    most seven decimals ("10,9456", "10.945600"), that the coordinate normaliser changes: what it gives
    them, found with C-level passes over the column (no call per value)."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return {}
    pointed = joined.replace(",", ".").split("\n")
    picked = list(compress(zip(texts, pointed, strict=True), _fullmatches(_PLAIN_DEGREES, PLAIN_DEGREES_RE2, pointed)))
    if not picked:
        return {}
    originals, found = zip(*picked, strict=True)
    values = list(map(str.rstrip, map(str.rstrip, found, repeat("0")), repeat(".")))
    if "-0" in values:  # -0.000 is 0
        values = ["0" if v == "-0" else v for v in values]
    return dict(compress(zip(originals, values, strict=True), map(ne, originals, values)))


def phones_by_digits(texts: list[str]) -> dict[str, str]:
    """{text: what normalise_phone gives it} for the texts that are a single number written with digits,
    spaces, dots, brackets and '+' only ("0251 3822 123", "(061) 3822.123", "+84 909 123 456") and that it
    changes: their digits are found with a few C-level passes over the column, and a canonical number is
    taken as it is instead of a call per value."""
    joined = "\n".join(texts)  # the text step leaves no line break inside a cell
    if joined.count("\n") != len(texts) - 1:
        return {}
    digits = joined.encode("utf-8", "surrogatepass").translate(None, b" .()+").decode("utf-8", "surrogatepass")
    parts = digits.split("\n")
    canonical = _fullmatches(_ONE["phone"], RE2_PATTERNS["phone"], parts)
    # a canonical number is what it says ("+84 ..." gives digits "84...", never canonical)
    out = dict(compress(zip(texts, parts, strict=True), map(and_, canonical, map(ne, texts, parts))))
    for text, plain in compress(zip(texts, parts, strict=True), map(not_, canonical)):
        if plain.isdigit() and plain.isascii() and (value := phone_from_plain(text, plain)) not in (None, text):
            out[text] = value
    return out
