"""Vietnamese phone numbers to one canonical form: digits only, national format with leading 0.

"0251 3822 123" -> "02513822123", "+84 909 123 456" -> "0909123456". Numbers written before the 2017-2018
renumbering are brought up to date: Đồng Nai's old area code 061 became 0251, Bình Phước's 0651 became
0271, and 11-digit mobiles (0162...) became 10 digits (032...). Excel drops the leading 0 of a number
typed as a number ("909123456"): it is put back, but only for a bare number (digits alone: a number written
with dashes or spaces was typed as text, so no 0 was lost) that then reads as a Vietnamese number (a mobile
03/05/07/08/09, a landline 02). "99-1234567" is not "0991234567": it is left for validation to report.
Several numbers in one cell are joined with "; ".
"""

from __future__ import annotations

import re

__all__ = ["normalise_phone", "phone_from_plain"]

_OLD_AREA = {"061": "0251", "0651": "0271"}
_OLD_MOBILE = {
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_SPLIT = re.compile(r"\s*(?:[;,/]|\s-\s|\s–\s|\bhoặc\b|\bvà\b)\s*")
_LABEL = re.compile(r"^(?:đt|dt|tel|fax|sđt|sdt|di động|dđ|dd|cđ|mobile|hotline|phone)\s*[:.]?\s*", re.IGNORECASE)


_PHONE_CHARS = re.compile(r"[\d\s.\-()+]+")
_NON_DIGIT = re.compile(r"\D")
_PLAIN = str.maketrans("", "", " .()+")  # a single number written with these only cannot be split


_MOBILE = ("03", "05", "07", "08", "09")


def _from_digits(digits: str, plus84: bool, bare: bool) -> str | None:
    restored = False
    if plus84 or (digits.startswith("84") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    if not digits.startswith("0") and len(digits) in (9, 10):
        if not bare:
            return None
        digits, restored = "0" + digits, True
    if len(digits) == 10 and digits[:3] in _OLD_AREA:  # (061) 3822 123
        digits = _OLD_AREA[digits[:3]] + digits[3:]
    elif len(digits) == 11 and digits[:4] in _OLD_AREA:
        digits = _OLD_AREA[digits[:4]] + digits[4:]
    elif len(digits) == 11 and digits[:4] in _OLD_MOBILE:
        digits = _OLD_MOBILE[digits[:4]] + digits[4:]
    if not digits.startswith("0") or not 10 <= len(digits) <= 11:
        return None
    if len(digits) == 11 and not digits.startswith("02"):
        return None
    if restored and not (digits.startswith("02") if len(digits) == 11 else digits.startswith(_MOBILE)):
        return None  # the 0 put back must give a real number, else it was a guess
    return digits


def _one(text: str) -> str | None:
    text = _LABEL.sub("", text.strip())
    if not _PHONE_CHARS.fullmatch(text) or not text.strip():
        return None
    return _from_digits(_NON_DIGIT.sub("", text), text.lstrip().startswith("+84"), text.isdigit())


def phone_from_plain(text: str, plain: str) -> str | None:
    """normalise_phone of `text` whose `plain` form (without spaces, dots, brackets and '+') is ASCII digits."""
    return _from_digits(plain, text.lstrip().startswith("+84"), plain == text.strip())


def normalise_phone(text: str) -> str | None:
    """Canonical phone number(s); None when any part is not a Vietnamese phone number."""
    plain = text.translate(_PLAIN)
    if plain.isdigit() and plain.isascii():  # the usual single number: no split, no label, no regex
        return phone_from_plain(text, plain)
    parts = [p for p in _SPLIT.split(text.strip()) if p.strip()]
    if not parts:
        return None
    out = [_one(p) for p in parts]
    if any(o is None for o in out):
        return None
    return "; ".join(dict.fromkeys(out))  # type: ignore[arg-type]  # no None left: checked just above
