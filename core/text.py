"""Text folding for search and matching.

Vietnamese text is compared on a folded key: NFC, lower case, no diacritics, and 'đ' as 'd' (no Unicode
decomposition turns 'đ' into 'd', and SQLite's FTS5 does not either, so we fold it ourselves). Both the
indexed text and the query go through the same `fold`.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str | None) -> str:
    """'Di tích Đình An Hòa' -> 'di tich dinh an hoa'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped.casefold()).strip()


def fold_words(text: str | None) -> list[str]:
    """Folded words without punctuation, for tokenised search."""
    return [w for w in _NON_WORD.sub(" ", fold(text)).split() if w]
