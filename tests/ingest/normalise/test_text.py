import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.normalise.text import clean_texts, normalise_text, normalise_texts


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


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("aĐđ ể\u0301\u0323\u00a0\t\u200b-") + ["e\u0302", "  "]),
                         max_size=6).map("".join), min_size=1, max_size=12))
def test_texts_clean_texts_passes_are_the_texts_normalise_texts_gives_back(texts):
    """clean_texts (an Arrow column handed over without a Python string per cell) never says yes to a column
    normalise_texts would change."""
    if clean_texts(pa.array(texts, pa.string())):
        assert normalise_texts(list(texts)) == texts
    if clean_texts(pa.array(texts, pa.large_string()).slice(1)):
        assert normalise_texts(list(texts[1:])) == texts[1:]
