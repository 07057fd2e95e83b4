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
