"""The Arrow kernels (validate/arrow_casts.py, arrow_patterns.py, constraints.py) read cells and check
constraints exactly as frictionless does, on whole columns of tricky and random texts."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pyarrow as pa
import pytest
from frictionless import Field
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.validate.test_casting import FIELDS, TRICKY
from validate.arrow_casts import ArrowCaster
from validate.arrow_patterns import pattern_failures, re2_pattern
from validate.casting import column_reader
from validate.constraints import constraint_failures
from validate.schema import compile_schema

PATTERNS = [
    r"(?:LT-\d{4,7})",
    r"H01|H02",  # unwrapped: "^H01|H02$" accepts "H01xyz"
    r"\d{3}",  # \d takes any Unicode digit in Python, ASCII only in RE2
    r"\w+\s?\w*",
    r"[^\D]x?",
    r"a{,3}",  # {,3} is {0,3} in Python, a literal in RE2
    r"[[:alpha:]]+",  # a set of characters in Python, a POSIX class in RE2
    r".*x",
    r"(a|b)*c",
    r"\bab\B.*",
    r"(a)\1",  # a backreference: RE2 has none

    r"\Aab\Z",
    r"[đĐ]\S+",
    r"a$\n?",
]

CONSTRAINED: list[dict[str, Any]] = [
    {"name": "f", "type": "string", "constraints": {"required": True, "minLength": 2, "maxLength": 4,
                                                     "enum": ["ab", "abc", "đi", "1", "a@b.vn"]}},
    {"name": "f", "type": "string", "format": "email", "constraints": {"maxLength": 8, "enum": ["a@b.vn", "x"]}},
    {"name": "f", "type": "integer", "constraints": {"minimum": 0, "maximum": 1000, "enum": [1, 5, "7", 12, 1000]}},
    {"name": "f", "type": "integer", "constraints": {"exclusiveMinimum": -5, "exclusiveMaximum": 2**70}},
    {"name": "f", "type": "number", "constraints": {"minimum": 0.5, "exclusiveMaximum": 1000.5}},
    {"name": "f", "type": "number", "constraints": {"maximum": "0.3", "enum": [0, 5, 0.1, "1e3"]}},
    {"name": "f", "type": "date", "constraints": {"minimum": "2000-01-01", "enum": ["2020-01-05", "2024-02-29"]}},
    {"name": "f", "type": "boolean", "constraints": {"enum": [True]}},
] + [{"name": "f", "type": "string", "constraints": {"pattern": p}} for p in PATTERNS]

ALPHABET = list("0123456789-+.,eE_ @aAbxéđĐ.vnHLT:/\"") + ["٣", "５", "\n", "\v", "\x1c", "\u00a0"]
_text = st.text(alphabet=st.sampled_from(ALPHABET), max_size=12)
_cells = st.lists(st.one_of(st.sampled_from(TRICKY + ["H01x", "LT-00012", "aab", "ab", "xab"]), _text), max_size=30)

def _frictionless(desc: dict[str, Any], text: str) -> tuple[Any, set[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, notes = Field.from_descriptor(desc).read_cell(text)
    return value, set(notes or ())

def _check_column(desc: dict[str, Any], texts: list[str]) -> None:
    if desc["type"] == "number" and desc.get("constraints"):  # frictionless itself fails on a signalling NaN
        texts = [t for t in texts if "sNaN" not in t]
    field = compile_schema({"fields": [desc]}).fields[0]
    caster = ArrowCaster(field, column_reader(field))
    column = caster.cast(pa.array(texts, type=pa.large_string()), None)
    one_by_one = [column.value_at(i) for i in range(len(texts))]  # before the whole column is made
    failures = constraint_failures(column)
    for i, text in enumerate(texts):
        theirs, notes = _frictionless(desc, text)
        ours = {"type"} if column.type_error[i] else {name for name, mask in failures if mask[i]}
        assert ours == notes, (desc, text, ours, notes)
        assert bool(column.missing[i]) == (text == ""), (desc, text)
        if not notes & {"type"} and text:
            value = column.values[i]
            assert type(value) is type(theirs) and repr(value) == repr(theirs), (desc, text, value, theirs)
            assert repr(one_by_one[i]) == repr(value), (desc, text, one_by_one[i], value)

@pytest.mark.parametrize("desc", FIELDS + CONSTRAINED, ids=lambda d: f"{d['type']}-{d.get('format', '')}")
def test_tricky_columns_read_like_frictionless(desc: dict[str, Any]) -> None:
    _check_column(desc, TRICKY)

@settings(max_examples=150, deadline=None)
@given(texts=_cells)
def test_any_column_reads_like_frictionless(texts: list[str]) -> None:
    for desc in FIELDS + CONSTRAINED:
        _check_column(desc, texts)

@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_text, min_size=1, max_size=20), pattern=st.sampled_from(PATTERNS))
def test_patterns_decide_as_python_re(texts: list[str], pattern: str) -> None:
    expected = [re.compile(f"^{pattern}$").match(t) is None for t in texts]
    found = pattern_failures(pa.array(texts, type=pa.large_string()), pattern)
    if found is not None:
        assert found.tolist() == expected, (pattern, texts)

def test_patterns_re2_cannot_read_the_same_way_go_to_python() -> None:
    assert re2_pattern(r"(a)\1") is None  # backreference
    assert re2_pattern(r"(?i)ab") is None  # flags
    assert re2_pattern(r"a{1001}") is None  # RE2 refuses the repeat
    assert re2_pattern(r"(?:LT-\d{4,7})") is not None
