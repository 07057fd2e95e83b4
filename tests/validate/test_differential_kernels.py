"""Whole files through the Arrow path (Arrow's CSV reader, the column kernels) report what frictionless
reports: every type and constraint the kernels decide, on rows of full width (the files Arrow reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.validate.differential import assert_same, compare
from tests.validate.generate import write_csv

WIDE: dict[str, Any] = {
    "name": "wide",
    "missingValues": ["", "NA"],
    "fields": [
        {"name": "code", "type": "string", "constraints": {"required": True, "unique": True,
                                                           "pattern": r"(?:LT-\d{4,7})"}},
        {"name": "kind", "type": "string", "constraints": {"pattern": r"H01|H02", "enum": ["H01", "H02", "H01x"]}},
        {"name": "name", "type": "string", "constraints": {"minLength": 2, "maxLength": 6}},
        {"name": "word", "type": "string", "constraints": {"pattern": r"\w+\s?\d*"}},
        {"name": "rooms", "type": "integer", "constraints": {"minimum": 1, "maximum": 500, "enum": [1, 2, 10, 500]}},
        {"name": "floor", "type": "integer", "constraints": {"minimum": -2}},
        {"name": "lat", "type": "number", "constraints": {"minimum": 10.5797, "maximum": 12.3}},
        {"name": "price", "type": "number", "constraints": {"maximum": 100.5, "enum": [0, 10, 20.5, 100]}},
        {"name": "open", "type": "boolean", "trueValues": ["có", "x"], "falseValues": ["không"]},
        {"name": "since", "type": "date", "constraints": {"minimum": "2000-01-01"}},
        {"name": "email", "type": "string", "format": "email", "constraints": {"maxLength": 20}},
        {"name": "web", "type": "string", "format": "uri"},
    ],
    "primaryKey": ["code"],
}

POOLS: dict[str, list[str]] = {
    "code": ["LT-0001", "LT-0002", "LT-1234567", "LT-00001234", "LT-٣٣٣٣", "lt-0001", "LT-0001\n", "NA"],
    "kind": ["H01", "H02", "H01x", "xH02", "H03", "H01\n", "NA"],
    "name": ["Đình", "A", "Văn miếu xưa", "ab", "  ", "đi"],
    "word": ["abc", "ab 12", "đình", "a٣", "_", "a b", "ab\v1", "-"],
    "rooms": ["1", "10", "+2", " 500", "007", "0", "501", "1.0", "1_0", "٣", "99999999999999999999", "x"],
    "floor": ["-2", "-3", "0", "-0", "12", "1e3", ""],
    "lat": ["10.5797", "12.3", "12.30", "12.300000000000001", "10.57969", ".5", "1e1", "NaN", "11,5", "11"],
    "price": ["0", "10", "10.0", "20.50", "100", "100.5", "inf", "-.0", "abc"],
    "open": ["có", "x", "không", "Có", "true", " x", ""],
    "since": ["2000-01-01", "1999-12-31", "2020-1-5", "2021-02-29", "2024-02-29", "20200105", " 2020-01-01"],
    "email": ["a@b.vn", "a@localhost", "x y@b.vn", "nguyễn@b.vn", "a..b@c.vn", '"a b"@c.vn', "a@@b.vn",
              "averyveryverylongname@b.vn", "a@b", "a@bü.vn"],
    "web": ["https://x.vn", "http://u:p@x.vn/a", "http://u@x.vn", "x.vn", "mailto:a@b", "https://đi.vn",
            "1http://x", "a:b", "http://x y", ""],
}
_names = [f["name"] for f in WIDE["fields"]]
_text = st.text(alphabet=st.sampled_from(list("0123456789-+.,eE_ @aAbxđĐLT:/") + ["٣", "\n"]), max_size=8)
_row = st.tuples(*[st.one_of(st.sampled_from(POOLS[n]), _text) for n in _names]).map(list)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=40), batch_size=st.integers(1, 50))
def test_full_width_rows_match_frictionless(tmp_path: Path, rows: list[list[str]], batch_size: int) -> None:
    first = ["LT-0009", "H01", "Đình", "abc", "1", "0", "11.5", "10", "có", "2020-01-01", "a@b.vn", "https://x.vn"]
    path = write_csv(tmp_path / "wide.csv", _names, [first, *rows])
    theirs, ours = compare(path, WIDE, batch_size=batch_size)
    assert_same(theirs, ours)
