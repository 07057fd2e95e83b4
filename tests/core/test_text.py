"""Text folding: each meaning has one function, and every fast path gives exactly what its reference gives.

Search folding (`search_fold`) decides what a search finds; its batch fast path (`search_fold_batch`) builds the
stored search text of every load and the duplicate keys of the quality checks, so a disagreement would make a
record unfindable by a query that finds it in the reference, or split duplicates. Matching keys (`match_key`)
recognise headers and names."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import (
    match_key,
    match_words,
    search_fold,
    search_fold_arrow,
    search_fold_batch,
    search_fold_joined,
    search_words,
)

ROOT = Path(__file__).resolve().parents[2]
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐĂÂÊÔƠƯ"
# spaces of every kind, letters that fold to several ('ß', 'ﬁ'), marks that are Mn and ones that are not
# (U+16FF0: Mc with a combining class), a NUL and a lone surrogate (both send the batch to its fallback)
ODD = " \t\n\u00a0\u3000\u2028\x1c\u200b,.-'0123456789İßǅﬁΣςά\u0301\u0323\u0345\U00016ff0\U00016ff1\U0001d165\x00\ud800"


def test_the_two_meanings_differ() -> None:
    assert search_fold("Di tích  Đình An Hòa") == "di tich dinh an hoa"
    assert search_words("Đình (An Hòa), Biên-Hòa") == ["dinh", "an", "hoa", "bien", "hoa"]
    assert match_key("Tên cơ sở") == match_key("TEN CO SO") == match_key("ten_co_so") == "tencoso"
    assert match_words("P. Tân  Phong") == "p tan phong"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list(VIETNAMESE + ODD)), max_size=40), max_size=20))
def test_batch_fast_path_equals_search_fold_on_vietnamese(texts: list[str]) -> None:
    assert search_fold_batch(texts) == [search_fold(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=20))
def test_batch_fast_path_equals_search_fold_on_any_text(texts: list[str]) -> None:
    assert search_fold_batch(texts) == [search_fold(t) for t in texts]


def test_batch_fast_path_equals_search_fold_across_unicode() -> None:
    """Every seventh code point, alone and beside another."""
    letters = [chr(i) for i in range(0, 0x30000, 7) if not 0xD800 <= i < 0xE000]
    for start in range(0, len(letters), 500):
        texts = letters[start:start + 500]
        texts += [a + b for a, b in zip(texts, reversed(texts), strict=True)]
        assert search_fold_batch(texts) == [search_fold(t) for t in texts]


# Arrow holds no lone surrogate: the Arrow path is tested without one
ARROW_ODD = ODD.replace("\ud800", "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.text(alphabet=st.sampled_from(list(VIETNAMESE + ARROW_ODD)), max_size=40), max_size=20),
       st.integers(0, 3))
def test_arrow_fast_path_equals_search_fold_on_vietnamese(texts: list[str | None], skip: int) -> None:
    """Nulls fold as "", and an array that is a slice of another (an offset into its buffers) too."""
    array = pa.array(["x"] * skip + texts, pa.string()).slice(skip)
    assert search_fold_arrow(array).to_pylist() == [search_fold(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30), max_size=20))
def test_arrow_fast_path_equals_search_fold_on_any_text(texts: list[str]) -> None:
    assert search_fold_arrow(pa.array(texts, pa.large_string())).to_pylist() == [search_fold(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.none() | st.text(alphabet=st.sampled_from(list(VIETNAMESE + ARROW_ODD + " \t\u00a0")),
                                         max_size=12), min_size=5, max_size=5), min_size=1, max_size=3))
def test_texts_folded_apart_then_joined_equal_the_folding_of_the_joined_texts(columns: list[list[str | None]]) -> None:
    """A load's search text made of its fields' foldings (folded once for the quality check) is the folding of
    the fields' texts joined by spaces, the empty and missing ones included."""
    folded = search_fold_joined([search_fold_arrow(pa.array(c, pa.large_string())) for c in columns])
    joined = [" ".join(t or "" for t in row) for row in zip(*columns, strict=True)]
    assert folded.to_pylist() == [search_fold(t) for t in joined]


def test_arrow_fast_path_equals_search_fold_across_unicode() -> None:
    letters = [chr(i) for i in range(0, 0x30000, 7) if not 0xD800 <= i < 0xE000]
    for start in range(0, len(letters), 500):
        texts = letters[start:start + 500]
        texts += [a + b for a, b in zip(texts, reversed(texts), strict=True)]
        assert search_fold_arrow(pa.array(texts)).to_pylist() == [search_fold(t) for t in texts]


def test_one_definition_per_meaning() -> None:
    """No module outside core/text.py defines a folding function of its own."""
    defining = re.compile(r"^\s*def (\w*_)?fold(_\w+)?\(|^\s*def (search_fold|search_words|match_key|match_words)\b",
                          re.M)
    found = sorted(str(path.relative_to(ROOT)) for floor in ("core", "ingest", "validate", "publish", "hub")
                   for path in (ROOT / floor).rglob("*.py") if defining.search(path.read_text(encoding="utf-8")))
    assert found == ["core/text.py"]
