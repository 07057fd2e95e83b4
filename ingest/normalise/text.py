"""Text cells: NFC, trimmed, inner whitespace collapsed.

Spreadsheets carry non-breaking spaces, zero-width spaces and line breaks typed with Alt+Enter; legacy
encodings and Windows-1258 produce decomposed letters (base + combining tone mark). All become one NFC
string with single spaces, so that "Hoà  Bình" typed twice compares equal.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_text"]

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")


def normalise_text(value: str) -> str | None:
    """'  Đình  Tân Lân\\u00a0' -> 'Đình Tân Lân'; blank -> None."""
    text = unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    text = _SPACES.sub(" ", text).strip()
    return text or None
