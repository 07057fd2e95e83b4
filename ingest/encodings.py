"""Find the text encoding of a source file.

Files from district offices come as UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"),
Windows-1258 (tone marks as separate combining characters) or the pre-Unicode font encodings TCVN3 and
VNI-Windows. Valid UTF-8 with non-ASCII bytes is never an accident, so it wins at once; otherwise each
legacy decoding of a sample is scored by how many of its words are valid Vietnamese syllables.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from core.errors import EncodingError, InputError
from core.text import TONE_MARKS
from ingest import legacy_codecs

__all__ = ["detect_encoding", "check_encoding", "is_vietnamese_syllable", "LEGACY_CANDIDATES"]

LEGACY_CANDIDATES = ("cp1258", "tcvn3", "vni")
legacy_codecs.register()

_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?"
_NUCLEUS = "(?:[aăâeêioôơuưy]{1,3})"
_CODA = "(?:ch|ng|nh|c|m|n|p|t)?"
_SYLLABLE = re.compile(_ONSET + _NUCLEUS + _CODA)
_WORD = re.compile(r"[^\W\d_]+")
_VI_LETTERS = set("abcdeghiklmnopqrstuvxyăâđêôơư")


def is_vietnamese_syllable(word: str) -> bool:
    """'người' yes, 'ngöôøi' no; at most one tone mark, Vietnamese letters, onset + vowels + coda."""
    nfd = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in nfd if ch in TONE_MARKS)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in nfd if ch not in TONE_MARKS))
    return set(bare) <= _VI_LETTERS and bool(_SYLLABLE.fullmatch(bare))


def _score(text: str) -> float:
    text = unicodedata.normalize("NFC", text)
    good = bad = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        if is_vietnamese_syllable(word):
            good += 1
        else:
            bad += 1
    stray = sum(1 for ch in text if unicodedata.combining(ch))
    odd = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\r\n\t")
    return good - 2 * bad - 2 * stray - 3 * odd


def _bom(sample: bytes) -> str | None:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(sample: bytes) -> str | None:
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 8:
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13))
    return controls > max(2, len(sample) // 100)


def check_encoding(name: str, *, file: str) -> str:
    """The codec's canonical name, or EncodingError for a name Python does not know."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise EncodingError(
            f"Không biết bảng mã '{name}'",
            f"Unknown encoding '{name}'",
            file=file,
        ) from None


def detect_encoding(sample: bytes, *, file: str) -> str:
    """The codec for a file starting with `sample` (up to a few hundred KB)."""
    if bom := _bom(sample):
        return bom
    if utf16 := _utf16_without_bom(sample):
        return utf16
    if _looks_binary(sample):
        raise InputError(
            "Tệp không phải văn bản (dữ liệu nhị phân)",
            "The file is not text (binary data)",
            code="binary-file",
            file=file,
        )
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 3 and e.reason == "unexpected end of data":
            return "utf-8"  # a multi-byte letter cut by the sample's end
    best, best_score = None, float("-inf")
    for name in LEGACY_CANDIDATES:
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if score > best_score:
            best, best_score = name, score
    if best is None or best_score <= 0:
        raise EncodingError(
            "Không nhận ra bảng mã của tệp (UTF-8, UTF-16, Windows-1258, TCVN3, VNI); hãy chỉ rõ bảng mã",
            "Cannot tell the file's encoding (UTF-8, UTF-16, Windows-1258, TCVN3, VNI); give the encoding",
            file=file,
        )
    return best
