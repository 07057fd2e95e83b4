"""Enterprise (tax) codes: 10 digits, or 13 for a branch written "0123456789-001".

Excel stores codes typed as numbers and drops the leading zero (Hà Nội codes start with 01): a 9- or 12-
digit number gets it back. Only a bare number: a code written with a dash or spaces ("99-1234567") was typed
as text, so Excel kept every digit and a missing one is the office's mistake to report, not ours to guess.
Spaces, dots and odd dashes are removed.
"""

from __future__ import annotations

import re

__all__ = ["normalise_enterprise_code"]

_CODE_CHARS = re.compile(r"[\d\s.\-–_/]+")
_DIGIT_GROUPS = re.compile(r"\d+")


def normalise_enterprise_code(text: str) -> str | None:
    """'0123456789 - 001' -> '0123456789-001'; None when it is not 10 or 13 digits."""
    text = text.strip().removesuffix(".0")
    if not _CODE_CHARS.fullmatch(text):
        return None
    groups = _DIGIT_GROUPS.findall(text)
    digits = "".join(groups)
    if len(groups) == 2 and len(groups[1]) == 3 and len(groups[0]) == 10:
        digits = groups[0] + groups[1]
    elif len(digits) in (9, 12) and text.isdigit():
        digits = "0" + digits
    if len(digits) == 10:
        return digits
    if len(digits) == 13:
        return f"{digits[:10]}-{digits[10:]}"
    return None
