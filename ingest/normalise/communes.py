"""Commune and ward names to today's official 5-digit codes.

Since 1/7/2025 communes and wards (95 in Đồng Nai after the merger with Bình Phước) are the only local
level. Offices write "P. Tân Phong", "Phường Tân Phong", "xã Hàng Gòn", a bare "Hàng Gòn", a code, names
without diacritics, or the names of units abolished in 2025. Today's names win; old names go through the
2025 crosswalk, and an old name whose units went to different new communes (same name in two former
districts, or a unit split in two) is ambiguous: it is not guessed, validation reports it.

Names are compared on a key that ignores case and where the tone mark sits ("Hòa" = "Hoà") but keeps
which tone it is ("Lộc Thạnh" and "Lộc Thành" are two communes); a key without tones is tried last.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ingest._fold import TONE_MARKS, fold_words

__all__ = ["CommuneIndex", "load_communes", "match_commune", "tone_key"]

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
_KINDS = (
    ("thi tran ", "thi tran"),
    ("phuong ", "phuong"),
    ("xa ", "xa"),
    ("tt ", "thi tran"),
    ("p ", "phuong"),
    ("x ", "xa"),
)
_PREFIX = re.compile(
    r"^\s*(?:thị\s*trấn|thi\s*tran|phường|phuong|xã|xa|t\.\s*t\.?|tt\.?|p\.|x\.|p\s|x\s)\s*", re.IGNORECASE
)


_CODE = re.compile(r"\d{4,5}(?:\.0)?")


def tone_key(text: str) -> str:
    """'Biên Hoà' and 'biên hòa' -> 'bien hoa2'; keeps the tone of each syllable, not its position."""
    out = []
    for word in unicodedata.normalize("NFC", text).lower().split():
        nfd = unicodedata.normalize("NFD", word)
        tone = "".join(str("\u0300\u0301\u0303\u0309\u0323".index(ch) + 1) for ch in nfd if ch in TONE_MARKS)
        out.append(fold_words(word).replace(" ", "") + tone)
    return " ".join(w for w in out if w)


def _split_kind(text: str) -> tuple[str | None, str]:
    folded = fold_words(text) + " "
    for prefix, kind in _KINDS:
        if folded.startswith(prefix):
            return kind, _PREFIX.sub("", text, count=1)
    return None, text


@dataclass
class CommuneIndex:
    codes: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)  # code -> folded kind
    current: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # tone key -> codes
    current_bare: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    old: dict[tuple[str | None, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    old_bare: dict[tuple[str | None, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    old_codes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


@lru_cache(maxsize=1)
def load_communes(reference: Path = REFERENCE) -> CommuneIndex:
    """The index of today's units and of the 2025 crosswalk, from ingest/reference/."""
    index = CommuneIndex()
    with (reference / "dong-nai-wards-2026.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["code"]
            index.codes.add(code)
            index.kinds[code] = fold_words(row["unit_type"])
            index.current[tone_key(row["name"])].add(code)
            index.current_bare[fold_words(row["name"])].add(code)
    with (reference / "dong-nai-crosswalk-2025.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kind, name = _split_kind(row["old_name"])
            for key in (kind, None):
                index.old[(key, tone_key(name))].add(row["new_code"])
                index.old_bare[(key, fold_words(name))].add(row["new_code"])
            index.old_codes[row["old_code"]].add(row["new_code"])
    return index


def _one(found: set[str] | None) -> str | None:
    return next(iter(found)) if found and len(found) == 1 else None


def match_commune(text: str, index: CommuneIndex | None = None) -> tuple[str, str] | None:
    """(code, rule) for a commune written any usual way; rule 'commune-name' for today's units,
    'commune-crosswalk' for a unit abolished in 2025. None when unknown or ambiguous."""
    index = index or load_communes()
    text = unicodedata.normalize("NFC", text).strip()
    if _CODE.fullmatch(text):
        code = text.removesuffix(".0").zfill(5)
        if code in index.codes:
            return code, "commune-code"
        new = _one(index.old_codes.get(code))
        return (new, "commune-crosswalk") if new else None
    kind, name = _split_kind(text.split(",")[0])
    key, bare = tone_key(name), fold_words(name)
    if not key:
        return None
    current = _one(index.current.get(key))
    if current and (kind is None or index.kinds[current] == kind):
        return current, "commune-name"
    old = _one(index.old.get((kind, key)))
    if old:
        return old, "commune-crosswalk"
    if current and not index.old.get((kind, key)):
        return current, "commune-name"
    if key == bare:  # written without diacritics: compare without tones
        current = _one(index.current_bare.get(bare))
        if current and (kind is None or index.kinds[current] == kind):
            return current, "commune-name"
        old = _one(index.old_bare.get((kind, bare)))
        if old:
            return old, "commune-crosswalk"
    return None
