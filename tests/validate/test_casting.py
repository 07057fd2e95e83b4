"""Each type reads a cell exactly as frictionless does: same type errors, same values."""

from __future__ import annotations

from typing import Any

import pytest
from frictionless import Field
from hypothesis import given, settings
from hypothesis import strategies as st

from validate.casting import INVALID, column_reader
from validate.schema import compile_schema

FIELDS: list[dict[str, Any]] = [
    {"name": "f", "type": "integer"},
    {"name": "f", "type": "number"},
    {"name": "f", "type": "number", "groupChar": ",", "decimalChar": "."},
    {"name": "f", "type": "integer", "bareNumber": False},
    {"name": "f", "type": "boolean", "trueValues": ["có", "x"], "falseValues": ["không"]},
    {"name": "f", "type": "boolean"},
    {"name": "f", "type": "date"},
    {"name": "f", "type": "date", "format": "%d/%m/%Y"},
    {"name": "f", "type": "string", "format": "email"},
    {"name": "f", "type": "string", "format": "uri"},
    {"name": "f", "type": "geojson"},
]

TRICKY = [
    " 5",
    "+5",
    "1_000",
    "٣",
    "５",
    "5.0",
    "1e3",
    "-0",
    "00012",
    "1,000",
    "\u00a05",
    "NaN",
    "inf",
    "Infinity",
    "sNaN",
    ".5",
    "5.",
    "0x1",
    "1,234.5",
    "$12",
    "12%",
    "2020-1-5",
    " 2020-01-05",
    "2020-01-05 ",
    "20200105",
    "0999-01-01",
    "2020-02-30",
    "٢٠٢٠-01-01",
    "999-01-01",
    "2020-01-05\n",
    "05/06/2020",
    "5/6/2020",
    "có",
    " có",
    "Có",
    "x",
    "không",
    "true",
    "TRUE",
    "1",
    "0",
    "a@b.vn",
    "a@b",
    "x y@b.vn",
    "a@localhost",
    "nguyễn@b.vn",
    "a@bü.vn",
    "a.b@c.d.vn",
    '"a b"@c.vn',
    "a@@b.vn",
    "a@b.vn.",
    "a@-b.vn",
    "a..b@c.vn",
    "http://x.vn",
    "x.vn",
    "mailto:a@b",
    "http://",
    "http://x y",
    "https://dulich.dongnai.gov.vn/vi/đi",
    '{"type": "Point", "coordinates": [107.0, 11.0]}',
    '{"type": "Point"}',
    "[1, 2]",
    "POINT (1 2)",
    "",
]


def _same(desc: dict[str, Any], text: str) -> None:
    theirs, notes = Field.from_descriptor(desc).read_cell(text)
    their_error = bool(notes and "type" in notes)
    reader = column_reader(compile_schema({"fields": [desc]}).fields[0])
    ours = text if reader is None else reader(text)
    assert (ours is INVALID) == their_error, (desc, text, theirs, ours)
    if not their_error:
        assert type(ours) is type(theirs), (desc, text, theirs, ours)
        assert str(ours) == str(theirs) and repr(ours) == repr(theirs), (desc, text, theirs, ours)


@pytest.mark.parametrize("desc", FIELDS, ids=lambda d: f"{d['type']}-{d.get('format', '')}")
@pytest.mark.parametrize("text", [t for t in TRICKY if t])
def test_tricky_cells_read_like_frictionless(desc: dict[str, Any], text: str) -> None:
    _same(desc, text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('0123456789-+.,eE_ @aéđ.vnxy:/"') + ["٣", "\n"]), min_size=1))
def test_any_text_reads_like_frictionless(text: str) -> None:
    for desc in FIELDS:
        _same(desc, text)
