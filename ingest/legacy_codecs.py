"""Codecs for the Vietnamese font encodings TCVN3 (ABC) and VNI-Windows, which Python lacks.

Government spreadsheets typed before Unicode used font tricks: TCVN3 (TCVN 5712:1993, fonts ".VnTime")
maps single bytes to precomposed lowercase letters ("ViÖt Nam"); VNI-Windows ("VNI-Times") writes a base
letter followed by a byte for the mark(s) ("Vieät Nam"), on top of Windows-1252. Both are decoded with a
byte -> text table (VNI bytes for marks become Unicode combining marks), then NFC composes the letters.
TCVN 5712:1993 also has five combining tone bytes, 0xB0-0xB4 (grave, hook, tilde, acute, dot below): typed
after a base vowel they add its tone, which is how capitals with tones are written ("Ư" 0xA6 + 0xB3 = "Ứ");
glibc's iconv (TCVN5712-1) reads them so, and so do we, composing the pair to one NFC letter. Elsewhere (a
"25°" with no vowel before it) the byte keeps its Windows-1252 sign.
Importing this module registers the codecs "tcvn3" and "vni" so `open(path, encoding="tcvn3")` works.
The encoders exist for tests and for writing fixtures; they cover Vietnamese letters and ASCII.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

__all__ = ["TCVN3_TABLE", "VNI_TABLE", "encode_cp1258", "encode_tcvn3", "encode_vni", "register"]

_TCVN3_HIGH = {
    0xA1: "Ă",
    0xA2: "Â",
    0xA3: "Ê",
    0xA4: "Ô",
    0xA5: "Ơ",
    0xA6: "Ư",
    0xA7: "Đ",
    0xA8: "ă",
    0xA9: "â",
    0xAA: "ê",
    0xAB: "ô",
    0xAC: "ơ",
    0xAD: "ư",
    0xAE: "đ",
    0xB5: "à",
    0xB6: "ả",
    0xB7: "ã",
    0xB8: "á",
    0xB9: "ạ",
    0xBB: "ằ",
    0xBC: "ẳ",
    0xBD: "ẵ",
    0xBE: "ắ",
    0xC6: "ặ",
    0xC7: "ầ",
    0xC8: "ẩ",
    0xC9: "ẫ",
    0xCA: "ấ",
    0xCB: "ậ",
    0xCC: "è",
    0xCE: "ẻ",
    0xCF: "ẽ",
    0xD0: "é",
    0xD1: "ẹ",
    0xD2: "ề",
    0xD3: "ể",
    0xD4: "ễ",
    0xD5: "ế",
    0xD6: "ệ",
    0xD7: "ì",
    0xD8: "ỉ",
    0xDC: "ĩ",
    0xDD: "í",
    0xDE: "ị",
    0xDF: "ò",
    0xE1: "ỏ",
    0xE2: "õ",
    0xE3: "ó",
    0xE4: "ọ",
    0xE5: "ồ",
    0xE6: "ổ",
    0xE7: "ỗ",
    0xE8: "ố",
    0xE9: "ộ",
    0xEA: "ờ",
    0xEB: "ở",
    0xEC: "ỡ",
    0xED: "ớ",
    0xEE: "ợ",
    0xEF: "ù",
    0xF1: "ủ",
    0xF2: "ũ",
    0xF3: "ú",
    0xF4: "ụ",
    0xF5: "ừ",
    0xF6: "ử",
    0xF7: "ữ",
    0xF8: "ứ",
    0xF9: "ự",
    0xFA: "ỳ",
    0xFB: "ỷ",
    0xFC: "ỹ",
    0xFD: "ý",
    0xFE: "ỵ",
}

# VNI: combining sequences for the mark bytes (lowercase set 0xE0-0xFC, uppercase set 0xC0-0xDC).
_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"
_VNI_MARKS = {
    "\u00f9": _ACUTE,
    "\u00f8": _GRAVE,
    "\u00fb": _HOOK,
    "\u00f5": _TILDE,
    "\u00ef": _DOT,
    "\u00e2": _CIRC,
    "\u00e1": _CIRC + _ACUTE,
    "\u00e0": _CIRC + _GRAVE,
    "\u00e5": _CIRC + _HOOK,
    "\u00e3": _CIRC + _TILDE,
    "\u00e4": _CIRC + _DOT,
    "\u00ea": _BREVE,
    "\u00e9": _BREVE + _ACUTE,
    "\u00e8": _BREVE + _GRAVE,
    "\u00fa": _BREVE + _HOOK,
    "\u00fc": _BREVE + _TILDE,
    "\u00eb": _BREVE + _DOT,
}
_VNI_MARKS.update({k.upper(): v for k, v in list(_VNI_MARKS.items())})
_VNI_MARKS["\u00cf"] = _DOT  # 'ï'.upper() is 'Ï' (0xCF): covered, kept explicit for readers
_VNI_LETTERS = {
    "\u00f4": "ơ",
    "\u00f6": "ư",
    "\u00f1": "đ",
    "\u00ec": "ì",
    "\u00ed": "í",
    "\u00e6": "ỉ",
    "\u00f3": "ĩ",
    "\u00f2": "ị",
    "\u00d4": "Ơ",
    "\u00d6": "Ư",
    "\u00d1": "Đ",
    "\u00cc": "Ì",
    "\u00cd": "Í",
    "\u00c6": "Ỉ",
    "\u00d3": "Ĩ",
    "\u00d2": "Ị",
}


def _base_table() -> list[str]:
    table = []
    for b in range(256):
        try:
            table.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            table.append(chr(b))
    return table


def _tcvn3_table() -> dict[int, str]:
    table = _base_table()
    for b, ch in _TCVN3_HIGH.items():
        table[b] = ch
    return dict(enumerate(table))


def _vni_table() -> dict[int, str]:
    table = _base_table()
    for b in range(0xC0, 0x100):
        ch = table[b]
        table[b] = _VNI_LETTERS.get(ch) or _VNI_MARKS.get(ch) or ch
    return dict(enumerate(table))


TCVN3_TABLE = _tcvn3_table()
VNI_TABLE = _vni_table()
# Letters by the TCVN3 table; punctuation and symbols the table keeps from Windows-1252 ("–", "“", "…") by
# their byte there, so that a sentence with a dash can be written too.
_TCVN3_ENCODE = {
    ch: bytes([b])
    for b, ch in TCVN3_TABLE.items()
    if b >= 0x80 and b not in _TCVN3_HIGH and unicodedata.category(ch)[0] in "PS"
}
_TCVN3_ENCODE.update({ch: bytes([b]) for b, ch in _TCVN3_HIGH.items()})


def encode_tcvn3(text: str) -> bytes:
    """Vietnamese text to TCVN3 bytes. Uppercase letters with tones have no TCVN3 code: they are lowered
    (TCVN3 writes capitals by switching to a capital font)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_ENCODE:
            out += _TCVN3_ENCODE[ch]
        elif ord(ch) < 0x80:
            out.append(ord(ch))
        elif ch.lower() in _TCVN3_ENCODE:
            out += _TCVN3_ENCODE[ch.lower()]
        else:
            raise UnicodeEncodeError("tcvn3", text, 0, len(text), f"no TCVN3 code for {ch!r}")
    return bytes(out)


def _vni_encode_map() -> dict[str, bytes]:
    enc = {}
    for b in range(256):
        ch = VNI_TABLE[b]
        if ch in _VNI_LETTERS.values():
            enc[ch] = bytes([b])
    marks = {}
    for b in range(0xC0, 0x100):
        seq = VNI_TABLE[b]
        if all(unicodedata.combining(c) for c in seq):
            upper = b < 0xE0
            marks[(seq, upper)] = bytes([b])
    letters = {"a", "e", "i", "o", "u", "y", "ơ", "ư", "A", "E", "I", "O", "U", "Y", "Ơ", "Ư"}
    for base in letters:
        upper = base.isupper()
        for (seq, up), code in marks.items():
            if up != upper:
                continue
            composed = unicodedata.normalize("NFC", base + seq)
            if len(composed) == 1 and composed not in enc:
                base_bytes = enc.get(base, base.encode("ascii") if base.isascii() else None)
                if base_bytes is not None:
                    enc[composed] = base_bytes + code
    return enc


_VNI_ENCODE = _vni_encode_map()


def encode_vni(text: str) -> bytes:
    """Vietnamese text to VNI-Windows bytes (base letter + mark byte)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch in _VNI_ENCODE:
            out += _VNI_ENCODE[ch]
        elif ord(ch) < 0x80:
            out.append(ord(ch))
        else:
            raise UnicodeEncodeError("vni", text, 0, len(text), f"no VNI code for {ch!r}")
    return bytes(out)


# TCVN3's combining tone bytes, as the table decodes them on their own (Windows-1252 signs), and the mark each
# adds to the vowel before it
_TCVN3_TONE_BYTES = {0xB0: _GRAVE, 0xB1: _HOOK, 0xB2: _TILDE, 0xB3: _ACUTE, 0xB4: _DOT}
_TCVN3_TONE_SIGNS = {TCVN3_TABLE[b]: mark for b, mark in _TCVN3_TONE_BYTES.items()}
_TONE_BASES = "aeiouyăâêôơư"
_TONE_BASES += _TONE_BASES.upper()
_TCVN3_COMBINED = re.compile(f"([{_TONE_BASES}])([{''.join(_TCVN3_TONE_SIGNS)}])")


def _tcvn3_compose(text: str) -> str:
    """A vowel followed by a combining tone byte's sign, as one NFC letter ("Ư³" -> "Ứ")."""
    if not any(sign in text for sign in _TCVN3_TONE_SIGNS):
        return text
    return _TCVN3_COMBINED.sub(lambda m: unicodedata.normalize("NFC", m[1] + _TCVN3_TONE_SIGNS[m[2]]), text)


def _codec(name: str, table: dict[int, str]) -> codecs.CodecInfo:
    encoder = encode_tcvn3 if name == "tcvn3" else encode_vni
    compose = _tcvn3_compose if name == "tcvn3" else None

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return encoder(text), len(text)

    def decode(data: Buffer, errors: str = "strict") -> tuple[str, int]:
        text, consumed = codecs.charmap_decode(data, errors, table)
        return (compose(text) if compose else text), consumed

    class IncrementalDecoder(codecs.IncrementalDecoder):
        """TCVN3: a vowel ending a chunk waits for the next chunk, which may start with its tone byte."""

        def __init__(self, errors: str = "strict") -> None:
            super().__init__(errors)
            self.pending = b""

        def decode(self, data: Buffer, final: bool = False) -> str:
            if compose is None:
                return codecs.charmap_decode(data, self.errors, table)[0]
            whole, self.pending = self.pending + bytes(data), b""
            if not final and whole and table[whole[-1]] in _TONE_BASES:
                whole, self.pending = whole[:-1], whole[-1:]
            return compose(codecs.charmap_decode(whole, self.errors, table)[0])

        def reset(self) -> None:
            self.pending = b""

        def getstate(self) -> tuple[bytes, int]:
            return self.pending, 0

        def setstate(self, state: tuple[bytes, int]) -> None:
            self.pending = state[0]

    class IncrementalEncoder(codecs.IncrementalEncoder):
        def encode(self, text: str, final: bool = False) -> bytes:
            return encoder(text)

    class StreamReader(codecs.StreamReader):
        def decode(self, data: bytes, errors: str = "strict") -> tuple[str, int]:
            text, consumed = codecs.charmap_decode(data, errors, table)
            return (compose(text) if compose else text), consumed

    class StreamWriter(codecs.StreamWriter):
        def encode(self, text: str, errors: str = "strict") -> tuple[bytes, int]:
            return encoder(text), len(text)

    return codecs.CodecInfo(
        encode,
        decode,
        name=name,
        incrementalencoder=IncrementalEncoder,
        incrementaldecoder=IncrementalDecoder,
        streamreader=StreamReader,
        streamwriter=StreamWriter,
    )


_ALIASES = {
    "tcvn3": "tcvn3",
    "tcvn": "tcvn3",
    "abc": "tcvn3",
    "vn3": "tcvn3",
    "tcvn5712": "tcvn3",
    "vni": "vni",
    "vni_windows": "vni",
    "vniwindows": "vni",
    "vni_win": "vni",
}


def _search(name: str) -> codecs.CodecInfo | None:
    key = _ALIASES.get(name.lower().replace("-", "_"))
    if key == "tcvn3":
        return _codec("tcvn3", TCVN3_TABLE)
    if key == "vni":
        return _codec("vni", VNI_TABLE)
    return None


_registered = False


def register() -> None:
    """Make 'tcvn3' and 'vni' known to Python's codec registry (idempotent)."""
    global _registered
    if not _registered:
        codecs.register(_search)
        _registered = True


register()


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text to Windows-1258 as Windows writes it: letters with a shape (â, ơ, ư, ă, đ) are
    precomposed, tone marks follow as combining characters ("Việt" = "Vi" + "ê" + U+0323 + "t")."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
        out += (base + "".join(c for c in nfd if c in _TONES)).encode("cp1258")
    return bytes(out)


_TONES = frozenset(_GRAVE + _ACUTE + _TILDE + _HOOK + _DOT)
