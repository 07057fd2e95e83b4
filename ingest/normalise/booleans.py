"""Yes/no cells to "true"/"false": có/không, x (ticked), yes/no, đúng/sai, 1/0.

Words with diacritics are compared exactly ("cỏ", grass, is not "có"); words typed without them
("co", "khong", "dung") are accepted too.
"""

from __future__ import annotations

__all__ = ["parse_boolean"]

_TRUE = {
    "có",
    "đúng",
    "rồi",
    "đã",
    "co",
    "dung",
    "x",
    "yes",
    "y",
    "true",
    "t",
    "1",
    "ok",
    "v",
    "\u2713",
    "\u2714",
    "\u2611",
}
_FALSE = {
    "không",
    "sai",
    "chưa",
    "khong",
    "k",
    "ko",
    "no",
    "n",
    "false",
    "f",
    "0",
    "chua",
    "\u2717",
    "\u2610",
}


def parse_boolean(text: str) -> str | None:
    """'Có' -> 'true', 'không' -> 'false'; None when the word is not a yes or a no."""
    word = " ".join(text.lower().split()).rstrip(".")
    if word in _TRUE:
        return "true"
    if word in _FALSE:
        return "false"
    return None
