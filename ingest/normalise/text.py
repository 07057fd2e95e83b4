"""Text cells: NFC, trimmed, inner whitespace collapsed.

Spreadsheets carry non-breaking spaces, zero-width spaces and line breaks typed with Alt+Enter; legacy
encodings and Windows-1258 produce decomposed letters (base + combining tone mark). All become one NFC
string with single spaces, so that "Hoà  Bình" typed twice compares equal.

`normalise_texts` does the same to a whole column. Most cells are clean already, so it looks for dirt in
the column joined into one string, with a few C-level passes (byte searches and one NFC check), and only
the cells found get `normalise_text`: a million clean cells cost no Python call each.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text", "normalise_texts", "normalise_texts_flagged", "SEP"]

SEP = "\x00"  # joins a column's cells for whole-column regexes (ingest.canonical); never in clean text
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
_SPACES = re.compile(r"\s+")
# Every character normalise_text removes or turns into a space, apart from the space itself: the invisible
# ones and every str.isspace() character (tests/ingest/normalise/test_text.py checks the list). None of
# them is printable, so str.isprintable() finds the cells that hold one.
DIRT = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\xad\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
_DIRT = DIRT
# UTF-8 bytes that start a dirt character (0xE1 leads most Vietnamese letters too, so U+1680, the only dirt
# led by it, is caught by its second byte 0x9A instead): a column without any of them holds no dirt.
_SUSPECT = ({c.encode()[0] for c in _DIRT} - {0xE1}) | {0x9A}
_NOT_SUSPECT = bytes(b for b in range(256) if b not in _SUSPECT)
_DIRT_UTF8 = tuple(c.encode() for c in sorted(_DIRT))


def normalise_text(value: str) -> str | None:
    """'  Đình  Tân Lân\\u00a0' -> 'Đình Tân Lân'; blank -> None."""
    text = unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def _has_dirt(data: bytes) -> bool:
    suspect = data.translate(None, _NOT_SUSPECT)
    if not suspect:
        return False
    if len(suspect) < 64:  # a few suspects (a "–", a "°"): look for the dirt itself
        return any(d in data for d in _DIRT_UTF8)
    return True


def normalise_texts(values: list[str]) -> list[str | None]:
    """normalise_text of every value of a column (all str), cell for cell the same result.

    Returns `values` itself when no cell changes."""
    return normalise_texts_flagged(values)[0]


def normalise_texts_flagged(values: list[str]) -> tuple[list[str | None], bool]:
    """normalise_texts, and whether any cell changed other than an empty one becoming None."""
    # Joined with single spaces, a doubled space, or a space at a cell's start or end, shows as "  " (or a
    # space at either end of the whole); empty cells are left out of the join.
    joined = " ".join(filter(None, values))
    data = joined.encode("utf-8", "surrogatepass")
    dirty: list[int] = []
    if _has_dirt(data):
        dirty += [i for i, v in enumerate(values) if not v.isprintable()]
    if b"  " in data or data[:1] == b" " or data[-1:] == b" ":
        dirty += [i for i, v in enumerate(values) if v[:1] == " " or v[-1:] == " " or "  " in v]
    if not data.isascii() and not unicodedata.is_normalized("NFC", joined):
        dirty += [i for i, v in enumerate(values) if not unicodedata.is_normalized("NFC", v)]
    empty = "" in values
    if not dirty and not empty:
        return values, False  # type: ignore[return-value]  # list is invariant: these texts stand for list[str | None]
    out: list[str | None] = [v or None for v in values] if empty else list(values)
    changed = False
    for i in dirty:
        out[i] = text = normalise_text(values[i])
        changed = changed or text != values[i]
    return out, changed
