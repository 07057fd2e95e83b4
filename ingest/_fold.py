"""Folding keys for matching Vietnamese text typed in many ways.

Headers and place names arrive with or without diacritics, in any case, with underscores or odd spacing
("Tên cơ sở", "TEN CO SO", "ten_co_so"). Folding removes all of that. 'đ' is not a base letter plus a mark
in Unicode, so NFD leaves it alone: it is mapped to 'd' by hand.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "fold_words", "TONE_MARKS"]

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case, no diacritics, letters and digits only: 'Tên cơ sở' -> 'tencoso'."""
    return _NON_ALNUM.sub("", _strip_marks(text).lower())


def fold_words(text: str) -> str:
    """Like fold but keeps word breaks as single spaces: 'P. Tân  Phong' -> 'p tan phong'."""
    return _NON_ALNUM.sub(" ", _strip_marks(text).lower()).strip()
