"""Commune and ward names to today's official 5-digit codes.

Since 1/7/2025 communes and wards (95 in Đồng Nai after the merger with Bình Phước) are the only local
level. Offices write "P. Tân Phong", "Phường Tân Phong", "xã Hàng Gòn", a bare "Hàng Gòn", a code, names
without diacritics, or the names of units abolished in 2025. Today's names win (files are written with
them now), but where a former unit elsewhere had the same name the change log says so (SHARED_NAME: "Xã
Tân Tiến" is today's Tân Tiến, and an old file may have meant the other one); old names go through the
2025 crosswalk, and an old name whose units went to different new communes (same name in two former
districts, or a unit split in two) is ambiguous: it is not guessed, the cell is left as written so that
validation reports it, and `unresolved_old_units` tells the change log why ("tên cũ trùng ở nhiều nơi").
A code decides where a name cannot: "25207 - Xã Tân Thành" is the Tân Thành whose old code is 25207.

Names are compared on a key that ignores case and where the tone mark sits ("Hòa" = "Hoà") but keeps
which tone it is ("Lộc Thạnh" and "Lộc Thành" are two communes); a key without tones is tried last.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from core.text import TONE_MARKS, match_words

__all__ = [
    "AMBIGUOUS_OLD_NAME",
    "SHARED_NAME",
    "SPLIT_OLD_UNIT",
    "CommuneIndex",
    "load_communes",
    "match_commune",
    "tone_key",
    "unresolved_old_units",
]

#: Change-log rule of a match on today's name that a former unit elsewhere (now in another commune) also had.
SHARED_NAME = "commune-name-shared-with-old-unit"
#: Change-log rules of cells left unrepaired: an old name shared by former units now in different
#: communes, and a former unit split between several new ones.
AMBIGUOUS_OLD_NAME = "commune-ambiguous-old-name"
SPLIT_OLD_UNIT = "commune-split-old-unit"

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
_CODE_WITH_NAME = re.compile(r"^\s*\(?(\d{5})\)?\s*[-–:.]?\s*(\D.*?)\s*$|^\s*(\D.*?)\s*[-–:(]\s*(\d{5})\s*\)?\s*$")


def tone_key(text: str) -> str:
    """'Biên Hoà' and 'biên hòa' -> 'bien hoa2'; keeps the tone of each syllable, not its position."""
    out = []
    for word in unicodedata.normalize("NFC", text).lower().split():
        nfd = unicodedata.normalize("NFD", word)
        tone = "".join(str("\u0300\u0301\u0303\u0309\u0323".index(ch) + 1) for ch in nfd if ch in TONE_MARKS)
        out.append(match_words(word).replace(" ", "") + tone)
    return " ".join(w for w in out if w)


def _split_kind(text: str) -> tuple[str | None, str]:
    folded = match_words(text) + " "
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
    old_units: dict[tuple[str | None, str], set[str]] = field(default_factory=lambda: defaultdict(set))  # old codes


@lru_cache(maxsize=1)
def load_communes(reference: Path = REFERENCE) -> CommuneIndex:
    """The index of today's units and of the 2025 crosswalk, from ingest/reference/."""
    index = CommuneIndex()
    with (reference / "dong-nai-wards-2026.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["code"]
            index.codes.add(code)
            index.kinds[code] = match_words(row["unit_type"])
            index.current[tone_key(row["name"])].add(code)
            index.current_bare[match_words(row["name"])].add(code)
    with (reference / "dong-nai-crosswalk-2025.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kind, name = _split_kind(row["old_name"])
            for key in (kind, None):
                index.old[(key, tone_key(name))].add(row["new_code"])
                index.old_bare[(key, match_words(name))].add(row["new_code"])
                index.old_units[(key, tone_key(name))].add(row["old_code"])
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
        return _by_code(text.removesuffix(".0").zfill(5), index)
    if m := _CODE_WITH_NAME.match(text):  # "25207 - Xã Tân Thành": the code decides, unless the name contradicts it
        code, name = (m[1], m[2]) if m[1] else (m[4], m[3])
        by_code, could_be = _by_code(code, index), _candidates(name, index)
        return by_code if by_code and (not could_be or by_code[0] in could_be) else None
    return _by_name(text, index)


def _by_code(code: str, index: CommuneIndex) -> tuple[str, str] | None:
    if code in index.codes:
        return code, "commune-code"
    new = _one(index.old_codes.get(code))
    return (new, "commune-crosswalk") if new else None


def _candidates(text: str, index: CommuneIndex) -> set[str]:
    """Every unit a name could mean, today's or (through the crosswalk) a former one's."""
    kind, name = _split_kind(text.split(",")[0])
    key, bare = tone_key(name), match_words(name)
    found = index.current.get(key, set()) | index.old.get((kind, key), set())
    return found or index.current_bare.get(bare, set()) | index.old_bare.get((kind, bare), set())


def _today(code: str, old: set[str] | None) -> str:
    """The rule of a match on today's name: SHARED_NAME when a former unit elsewhere, now in another commune,
    had that name too, so that the change log shows where an old file may have meant that one."""
    return SHARED_NAME if old and old - {code} else "commune-name"


def _by_name(text: str, index: CommuneIndex) -> tuple[str, str] | None:
    kind, name = _split_kind(text.split(",")[0])
    key, bare = tone_key(name), match_words(name)
    if not key:
        return None
    current = _one(index.current.get(key))
    if current and (kind is None or index.kinds[current] == kind):
        return current, _today(current, index.old.get((kind, key)))
    old = _one(index.old.get((kind, key)))
    if old:
        return old, "commune-crosswalk"
    if current and not index.old.get((kind, key)):
        return current, "commune-name"
    if key == bare:  # written without diacritics: compare without tones
        current = _one(index.current_bare.get(bare))
        if current and (kind is None or index.kinds[current] == kind):
            return current, _today(current, index.old_bare.get((kind, bare)))
        old = _one(index.old_bare.get((kind, bare)))
        if old:
            return old, "commune-crosswalk"
    return None


def unresolved_old_units(texts: Iterable[str | None], index: CommuneIndex | None = None) -> dict[str, str]:
    """{text: rule} for those of `texts` that `match_commune` leaves as they are because they name or code
    former units now in different communes: AMBIGUOUS_OLD_NAME when several former units had that name
    (in different districts or provinces), SPLIT_OLD_UNIT when one former unit was split."""
    index = index or load_communes()
    out: dict[str, str] = {}
    for raw in texts:
        if not raw or raw in out or match_commune(raw, index) is not None:
            continue
        text = unicodedata.normalize("NFC", raw).strip()
        if _CODE.fullmatch(text):
            if len(index.old_codes.get(text.removesuffix(".0").zfill(5), ())) > 1:
                out[raw] = SPLIT_OLD_UNIT
            continue
        kind, name = _split_kind(text.split(",")[0])
        key = tone_key(name)
        if len(index.old.get((kind, key), ())) > 1:
            out[raw] = AMBIGUOUS_OLD_NAME if len(index.old_units.get((kind, key), ())) > 1 else SPLIT_OLD_UNIT
    return out
