import pytest

from ingest.normalise.text import normalise_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Đình  Tân Lân ", "Đình Tân Lân"),
        ("Ho\u0300a Bi\u0300nh", "Hòa Bình"),  # decomposed (cp1258, VNI) -> NFC
        ("Chùa\u00a0Bửu\tPhong\n", "Chùa Bửu Phong"),
        ("Văn\u200bMiếu", "VănMiếu"),
        ("dòng 1\r\ndòng 2", "dòng 1 dòng 2"),
        ("", None),
        ("   ", None),
        ("\ufeff", None),
    ],
)
def test_text_is_trimmed_collapsed_and_nfc(raw, expected):
    assert normalise_text(raw) == expected
