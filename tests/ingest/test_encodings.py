"""Encoding detection: fixtures are known Vietnamese sentences encoded into each encoding."""

import unicodedata

import pytest

from core.errors import EncodingError, InputError
from ingest.encodings import detect_encoding, is_vietnamese_syllable
from ingest.legacy_codecs import encode_cp1258, encode_tcvn3, encode_vni

SENTENCES = [
    "Di tích lịch sử văn hoá cấp quốc gia Đình Tân Lân, phường Trấn Biên, tỉnh Đồng Nai",
    "Người lập biểu: Nguyễn Thị Hường; Thủ trưởng đơn vị ký tên, đóng dấu",
    "Khu du lịch sinh thái Bửu Long, hồ Trị An, rừng Mã Đà, Vườn quốc gia Cát Tiên",
    "Nhà cổ Trần Ngọc Du, chùa Ông, mộ Trịnh Hoài Đức, căn cứ Chiến khu Đ",
]
ALL_LETTERS = "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵđ"


@pytest.mark.parametrize("sentence", SENTENCES)
@pytest.mark.parametrize("encoder, codec", [(encode_tcvn3, "tcvn3"), (encode_vni, "vni"), (encode_cp1258, "cp1258")])
def test_legacy_encodings_are_detected_and_round_trip(sentence, encoder, codec):
    data = encoder(sentence)
    assert detect_encoding(data, file="x.csv") == codec
    assert unicodedata.normalize("NFC", data.decode(codec)) == sentence


@pytest.mark.parametrize("encoder, codec", [(encode_tcvn3, "tcvn3"), (encode_vni, "vni"), (encode_cp1258, "cp1258")])
def test_every_vietnamese_letter_round_trips(encoder, codec):
    for text in (ALL_LETTERS, ALL_LETTERS.upper() if codec != "tcvn3" else "ĂÂÊÔƠƯĐ"):
        assert unicodedata.normalize("NFC", encoder(text).decode(codec)) == text


def test_known_legacy_byte_strings_decode():
    assert b"Vi\xd6t Nam \xa7\xe5ng Nai".decode("tcvn3") == "Việt Nam Đồng Nai"  # "ViÖt Nam §ång Nai"
    assert unicodedata.normalize("NFC", "Vieät Nam Ñoàng Nai".encode("cp1252").decode("vni")) == "Việt Nam Đồng Nai"


@pytest.mark.parametrize(
    "data, codec",
    [
        ("Đồng Nai".encode(), "utf-8"),
        ("Đồng Nai".encode("utf-8-sig"), "utf-8-sig"),
        ("Đồng Nai".encode("utf-16"), "utf-16"),
        ("Dong Nai, Bien Hoa".encode("utf-16-le"), "utf-16-le"),
        (b"plain ascii, 1, 2", "utf-8"),
    ],
)
def test_unicode_encodings_are_detected(data, codec):
    assert detect_encoding(data, file="x.csv") == codec


def test_binary_data_is_not_text():
    with pytest.raises(InputError) as e:
        detect_encoding(bytes(range(256)), file="x.csv")
    assert e.value.code == "binary-file"


def test_non_vietnamese_legacy_bytes_are_not_guessed():
    with pytest.raises(EncodingError):
        detect_encoding("東京都の寺院と神社".encode("shift_jis"), file="x.csv")


@pytest.mark.parametrize(
    "word, ok",
    [("người", True), ("Nguyễn", True), ("ngöôøi", False), ("§ång", False), ("hoà", True), ("xyz", False)],
)
def test_vietnamese_syllable_check(word, ok):
    assert is_vietnamese_syllable(word) is ok


# TCVN 5712:1993's combining tone bytes, after a base letter: how capitals with tones are typed in TCVN3 files
TCVN3_TONE_BYTES = {"\u0300": 0xB0, "\u0309": 0xB1, "\u0303": 0xB2, "\u0301": 0xB3, "\u0323": 0xB4}


def _combining_tcvn3(letter: str) -> bytes:
    """`letter` as its base (with its shape: â, ơ, ư, ă...) in TCVN3, then the tone as a combining byte."""
    decomposed = unicodedata.normalize("NFD", letter)
    tones = [c for c in decomposed if c in TCVN3_TONE_BYTES]
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TCVN3_TONE_BYTES))
    return (base.encode("ascii") if base.isascii() else encode_tcvn3(base)) + bytes(TCVN3_TONE_BYTES[t] for t in tones)


def _iconv(data: bytes) -> str:
    import shutil
    import subprocess

    if not shutil.which("iconv"):
        pytest.skip("glibc iconv is not installed")
    done = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=data, capture_output=True, check=True)
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8"))


def test_tcvn3_combining_tone_bytes_decode_as_iconv_reads_them():
    import io

    toned = [c for c in ALL_LETTERS + ALL_LETTERS.upper() if any(m in unicodedata.normalize("NFD", c)
                                                                for m in TCVN3_TONE_BYTES)]
    assert len(toned) == 2 * 12 * 5  # 12 vowels (a ă â e ê i o ô ơ u ư y) x 5 tones, small and capital
    for letter in toned:
        data = _combining_tcvn3(letter)
        assert data.decode("tcvn3") == _iconv(data) == letter, (letter, data)
    word = b"\xa6\xb3NG D\xa4\xb4NG"  # capitals in a word, as iconv reads them
    assert word.decode("tcvn3") == _iconv(word) == "ỨNG DỘNG"
    assert b"25\xb0C".decode("tcvn3") == "25°C"  # no vowel before it: the sign stays (iconv: a lone mark)
    # the precomposed small letters TCVN3 has agree with iconv too
    for letter in ALL_LETTERS:
        assert encode_tcvn3(letter).decode("tcvn3") == _iconv(encode_tcvn3(letter)) == letter
    # read through a text stream in small chunks: a vowel and its tone byte may be split between reads
    text = b"\xa6\xb3ng \xa2\xb0 " * 5000
    assert io.TextIOWrapper(io.BytesIO(text), encoding="tcvn3").read() == "Ứng Ầ " * 5000
    assert detect_encoding(b"Tr\xad\xaang \xa6\xb3NG D\xa4\xb4NG Vi\xd6t Nam", file="x.csv") == "tcvn3"
