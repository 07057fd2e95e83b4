"""The fast column path gives, cell for cell, what the plain normalisers give one cell at a time.

ingest.cells skips the normaliser for texts its rule's pattern calls canonical, runs it once per distinct
value and finds dirty text with whole-column searches. These tests hold that to the per-cell reference:
the normalisers themselves, applied cell by cell.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.canonical import (
    _ONE,
    _PLAIN_DEGREES,
    PATTERNS,
    PLAIN_DEGREES_RE2,
    RE2_PATTERNS,
    all_canonical,
    degrees_by_text,
    phones_by_digits,
    re2_fullmatches,
    with_decimal_point,
)
from ingest.cells import _RULE_NAMES, Change, ChangeLog, _rule_function, normalise_column
from ingest.normalise.numbers import number_style, reading_style
from ingest.normalise.phones import normalise_phone
from ingest.normalise.text import normalise_text

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "accommodation.json").read_text("utf-8"))
SPECS = {f["name"]: f for f in SCHEMA["fields"]}
LOOSE = {  # wider than each pattern; hypothesis draws from these and keeps what the pattern accepts
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "integer": r"-?[0-9]{1,8}",
    "number": r"-?[0-9]{1,6}(\.[0-9]{1,6})?",
    "boolean": r"true|false",
    "phone": r"0[0-9]{9,10}",
    "enterprise": r"[0-9]{10}(-[0-9]{3})?",
    "latitude": r"-?[0-9]{1,3}(\.[0-9]{1,8})?",
    "longitude": r"-?[0-9]{1,3}(\.[0-9]{1,8})?",
}
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@pytest.mark.parametrize("rule", sorted(PATTERNS))
@FAST
@given(data=st.data())
def test_a_text_called_canonical_is_left_as_it_is_by_its_normaliser(rule, data):
    text = data.draw(st.from_regex(LOOSE[rule], fullmatch=True).filter(_ONE[rule].fullmatch))
    for style in ("vi", "en"):
        assert _rule_function(rule, {}, style)(text) in (text, None)


# near misses of every pattern: signs, zeros, points, commas, other scripts' digits, separators, line breaks
NEAR = st.text(alphabet="0123456789-.,+ e\x00\n\u0663\uff12truefals", max_size=16)


@pytest.mark.parametrize("rule", sorted(PATTERNS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_the_re2_patterns_call_canonical_the_texts_the_python_patterns_do(rule, data):
    # needing_work tests a column's many distinct texts with Arrow's RE2 kernels (RE2_PATTERNS): same verdicts
    texts = data.draw(st.lists(st.one_of(st.from_regex(LOOSE[rule], fullmatch=True), NEAR, st.sampled_from(
        ["-0", "-0.0", "-0.", "-00", "-05", "0", "-", "true", "false", "2020-01-01", "0909123456", "02513822123"])),
        min_size=1, max_size=60))
    assert re2_fullmatches(RE2_PATTERNS[rule], texts) == [bool(_ONE[rule].fullmatch(t)) for t in texts]
    if rule == "latitude":  # and the plain degrees degrees_by_text reads itself
        assert re2_fullmatches(PLAIN_DEGREES_RE2, texts) == [bool(_PLAIN_DEGREES.fullmatch(t)) for t in texts]


@FAST
@given(text=st.from_regex(r"-?[0-9]{1,4},[0-9]{1,8}", fullmatch=True))
def test_degrees_with_a_decimal_comma_are_read_as_the_normaliser_reads_them(text):
    point = with_decimal_point("latitude", text)
    assert point is None or point == _rule_function("latitude", {}, "vi")(text)


@pytest.mark.parametrize("rule", ["latitude", "longitude"])
@FAST
@given(texts=st.lists(st.from_regex(r"-?[0-9]{1,4}[.,][0-9]{0,9}|-?0[.,]0{1,8}", fullmatch=True), max_size=8))
def test_degrees_written_plainly_are_read_as_the_normaliser_reads_them(rule, texts):
    found = degrees_by_text(texts)
    for text in texts:
        expected = _rule_function(rule, {}, "vi")(text)
        if text in found:
            assert found[text] == expected
        elif expected not in (None, text):  # left for the normaliser: only forms it does not cover
            assert not re.fullmatch(r"-?(?:0|[1-9][0-9]{0,2})[.,][0-9]{1,7}", text)


@FAST
@given(texts=st.lists(st.from_regex(r"\+?[0-9 .()\-]{1,16}", fullmatch=True), max_size=8))
def test_phones_written_with_spaces_dots_and_brackets_are_read_as_the_normaliser_reads_them(texts):
    for text, digits in phones_by_digits(texts).items():
        assert digits == normalise_phone(text)


@pytest.mark.parametrize("text", ["(061) 3822 123", "+84 909 123 456", "0162 123 4567", "84909123456", "(0651) 3822.123"])
def test_phones_the_renumbering_changed_are_read_as_the_normaliser_reads_them(text):
    assert phones_by_digits([text]) == {text: normalise_phone(text)}


@pytest.mark.parametrize(
    "rule, texts, expected",
    [
        ("date", ["2020-11-19", None, "1999-01-01"], True),
        ("date", ["2020-11-19", "19/11/2020"], False),
        ("date", ["२०२०-११-१९"], False),  # other scripts' digits are rewritten by the normaliser
        ("number", ["1.5", "1234.567", "-3"], True),
        ("number", ["1.234"], False),  # Vietnamese style reads it as 1234
        ("integer", ["-0"], False),
        ("phone", ["0909123456", "02513822123"], True),
        ("phone", ["0613822123"], False),  # the old Đồng Nai area code
        ("latitude", ["10.9456", "107", "-0.5"], True),
        ("latitude", ["10.94560"], False),
        ("commune", ["26041"], False),  # communes are looked up, never assumed canonical
        ("date", [None, None], True),
    ],
)
def test_a_column_is_canonical_only_when_every_value_is(rule, texts, expected):
    assert all_canonical(rule, texts) is expected


def _reference(rule: str, spec: dict, cells: list[str | None], rows: list[int]) -> tuple[list, list[Change]]:
    """The plain path: text normaliser, then the field's normaliser, cell by cell."""
    texts = [None if c is None else normalise_text(c) for c in cells]
    style = number_style(texts) if rule in ("number", "integer") else "vi"
    function = _rule_function(rule, spec, style)
    values, changes = [], []
    for row, cell, text in zip(rows, cells, texts, strict=True):
        value, by = text, "text"
        result = function(text) if function and text is not None else None
        if isinstance(result, tuple):
            result, by = result
        elif result is not None:
            by = f"number-{reading_style(text, style)}" if rule in ("number", "integer") else _RULE_NAMES.get(rule, rule)
        if result is not None:
            value = result
        values.append(value)
        if cell is not None and value != cell and not (value is None and not cell.strip()):
            changes.append(Change(row, "f", cell, value, by if value != text else "text"))
    return values, changes


COLUMNS = {  # field, rule, values an office writes (canonical, messy, wrong) for the column strategy
    "date": ("notified_on", "date", ["2020-11-19", "19/11/2020", "5/3/01", "31/02/2020", "44154", " 2020-11-19 "]),
    "integer": ("rooms", "integer", ["12", "1.200", "1,200", "12.0", "-0", "+7", "nhiều", "007"]),
    "number": ("area", "number", ["1.5", "1.234", "1,5", "1.234,5", "1,234.5", "-0", "12"]),
    "phone": ("phone", "phone", ["0909123456", "0251 3822 123", "(061) 3822 123", "+84 909 123 456", "gọi sau",
                                 "0909123456 / 0251 3822 123", "02513822123"]),
    "enterprise": ("enterprise_code", "enterprise", ["3600123456", "3600 123 456", "123456789", "MST 1"]),
    "latitude": ("lat", "latitude", ["10.9456", "10,9456", "10°56'12\"N", "10.94560", "1210000", "-0"]),
    "commune": ("commune_code", "commune", ["26041", "Phường Trấn Biên", "P. Tân Phong", "Xã Không Có", "25198"]),
    "enum": ("type", "enum", ["khach_san", "Khách sạn", "KHÁCH SẠN", "homestay", "khách sạn mini"]),
    "text": ("name", "text", ["Đình", "  Đình  Tân  ", "Ho\u0300a", "a\u00a0b", "", "\u200b"]),
}


@pytest.mark.parametrize("kind", sorted(COLUMNS))
@FAST
@given(data=st.data())
def test_a_column_is_normalised_as_each_of_its_cells_would_be(kind, data):
    field, rule, words = COLUMNS[kind]
    spec = SPECS.get(field, {"name": field})
    cells = data.draw(st.lists(st.one_of(st.sampled_from(words), st.none(), st.text(max_size=6)), max_size=30))
    rows = list(range(2, len(cells) + 2))
    log = ChangeLog(limit=10_000)
    values = normalise_column("f", rule, spec, list(cells), rows, frozenset(), log)
    want_values, want_changes = _reference(rule, spec, cells, rows)
    assert values == want_values
    assert log.kept == want_changes


def test_changes_past_the_limit_are_counted_not_kept():
    log = ChangeLog(limit=3)
    normalise_column("f", "date", {}, ["1/2/2003"] * 5, [2, 3, 4, 5, 6], frozenset(), log)
    assert [c.row for c in log.kept] == [2, 3, 4] and log.not_kept == 2


SHARED = ["Xã Tân Thành", "-", "N/A", "", "  ", "Đồng Nai", "Hòa Bình", "10,5", "1.234,5", "06/11/2023"]


@pytest.mark.parametrize("kind", sorted(COLUMNS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_column_normalised_through_its_distinct_values_is_the_column_normalised_cell_by_cell(kind, data):
    """The dictionary path (each distinct value once, results mapped back by index) gives the same values and
    the same change log, in the same order and under the same cap, as the cell path."""
    field, rule, words = COLUMNS[kind]
    spec = SPECS.get(field, {"name": field})
    word = st.sampled_from(words + SHARED)
    pool = data.draw(st.lists(st.one_of(word, word.map(lambda w: unicodedata.normalize("NFD", w)), st.none(),
                                        st.text(max_size=6)), min_size=1, max_size=8))
    cells = data.draw(st.lists(st.sampled_from(pool), max_size=80))  # few values, many repeats
    missing = data.draw(st.sampled_from([frozenset(), frozenset({"-", "N/A"})]))
    limit = data.draw(st.integers(0, 40))
    rows = list(range(2, len(cells) + 2))
    found = []
    for by_dictionary in (False, True):
        log = ChangeLog(limit)
        values = normalise_column(field, rule, spec, list(cells), rows, missing, log, texts_only=True,
                                  by_dictionary=by_dictionary)
        found.append((values, log.kept, log.not_kept))
    assert found[0] == found[1]


def test_the_number_style_of_a_column_is_voted_by_its_cells_not_by_its_distinct_values():
    cells = ["1.5"] * 40 + ["1,5"] * 30 + ["1.234"] * 30  # 40 English votes to 30 Vietnamese: "1.234" is 1.234
    rows = list(range(2, len(cells) + 2))
    for by_dictionary in (False, True):
        values = normalise_column("area", "number", {}, cells, rows, frozenset(), None, texts_only=True,
                                  by_dictionary=by_dictionary)
        assert values[-1] == "1.234" and values[40] == "1.5"
