"""CSV read by Arrow gives the very batches the row reader gives: values, row numbers, row shapes, blank rows,
the change log, and the same error on the same row for a file the row reader refuses."""

from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from ingest import read_table
from ingest.legacy_codecs import encode_tcvn3
from ingest.readers import csv as csv_reader
from ingest.readers import csv_arrow

SCHEMA = {
    "name": "test-rooms",
    "missingValues": ["", "-"],
    "fields": [
        {"name": "code", "type": "string", "titles": {"vi": "Mã", "en": "Code"}},
        {"name": "name", "type": "string", "titles": {"vi": "Tên", "en": "Name"}},
        {"name": "kind", "type": "string", "titles": {"vi": "Loại", "en": "Kind"},
         "constraints": {"enum": ["khach_san", "nha_nghi"]},
         "enumLabels": {"khach_san": {"vi": "Khách sạn"}, "nha_nghi": {"vi": "Nhà nghỉ"}}},
        {"name": "rooms", "type": "integer", "titles": {"vi": "Số phòng", "en": "Rooms"}},
        {"name": "opened", "type": "date", "titles": {"vi": "Ngày mở", "en": "Opened"}},
        {"name": "phone", "type": "string", "titles": {"vi": "Điện thoại", "en": "Phone"}},
    ],
}
HEADER = ["Mã", "Tên", "Loại", "Số phòng", "Ngày mở", "Điện thoại"]
VALUES = ["LT-1", "Khách sạn Sen Hồng", "Khách sạn", "Nhà nghỉ", "1.200", "12", "19/11/2020", "2020-11-19",
          "0251 3822 123", "", " ", "-", "Đình  Tân Lân ", "a,b", "a;b", "a|b", "a\tb", 'Đình "Tân"', "dòng 1\ndòng 2",
          "x\r\ny", "\n", "cuối\n", "\ufeffBOM", "Hoà\u00a0Bình", "\u3000", "Ghi chú"]
ODD = ["", " ", ",,,,,", ";;;;;", '"ab"c,d,"e""f",g h,1,2', 'a"b,c,d,e,f,g', 'x,"y"z,1,2,3,4', "Ghi chú: số liệu tạm",
       "Người lập biểu,,Thủ trưởng"]


def _outcome(path, monkeypatch, arrow: bool, size: int):
    """Everything the pipeline sees of a file, read with or without Arrow."""
    with monkeypatch.context() as m:
        if not arrow:
            m.setattr(csv_reader, "ARROW_WIDTH", 10**9)
        try:
            table = read_table(path, SCHEMA)
            used = hasattr(table._raw.records, "block")
            frames = [(list(f.columns), [(str(f[c].dtype), f[c].tolist()) for c in f.columns])
                      for f in table.batches(size=size)]
        except InputError as e:
            return ("error", type(e).__name__, e.code, str(e), e.context), False
    changes = [(c.row, c.field, c.original, c.value, c.rule) for c in table.changes]
    return (table.headers, table.mapping, table.encoding, frames, changes, table.rows_read), used


def _same(path, monkeypatch, size: int = 50_000) -> bool:
    """Asserts both readers give the same; returns whether Arrow was used."""
    old, _ = _outcome(path, monkeypatch, arrow=False, size=size)
    new, used = _outcome(path, monkeypatch, arrow=True, size=size)
    assert new == old
    return used


def _cell(value: str, delimiter: str) -> str:
    if value and not any(c in value for c in f'"\r\n{delimiter}') and value[0] != '"':
        return value
    return '"' + value.replace('"', '""') + '"'


def _text(rows, delimiter: str, ends: list[str]) -> str:
    lines = [delimiter.join(_cell(v, delimiter) for v in HEADER)]
    lines += [r if isinstance(r, str) else delimiter.join(_cell(v, delimiter) for v in r) for r in rows]
    return "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))


def _register(n: int, first: int = 0) -> list[list[str]]:
    return [[f"LT-{i}", f"Khách sạn Sen {i}", "Khách sạn" if i % 3 else "Nhà nghỉ", f"{i % 50}", "19/11/2020",
             f"0251 3822 {i % 1000:03d}"] for i in range(first, first + n)]


rows_strategy = st.lists(
    st.one_of(
        st.lists(st.sampled_from(VALUES), min_size=6, max_size=6),  # a row of the header's width
        st.lists(st.sampled_from(VALUES), min_size=6, max_size=6),
        st.lists(st.sampled_from(VALUES), min_size=6, max_size=6),
        st.lists(st.sampled_from(VALUES), min_size=0, max_size=9),  # short, long, blank
        st.sampled_from(ODD),  # empty lines, odd quoting, notes
    ),
    min_size=0,
    max_size=80,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lead=st.integers(20, 40),
    rows=rows_strategy,
    repeat=st.integers(1, 6),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3),
    chunk=st.sampled_from([64, 256, 4096]),
    size=st.sampled_from([7, 100, 50_000]),
)
def test_arrow_and_row_reader_give_the_same_batches(tmp_path, monkeypatch, lead, rows, repeat, delimiter, ends, chunk,
                                                     size):
    monkeypatch.setattr(csv_arrow, "CHUNK", chunk)  # many pieces: cuts inside quoted fields, rows across pieces
    path = tmp_path / "rooms.csv"  # the first 30 records are read for the header: what follows is read in pieces
    path.write_text(_text(_register(lead) + rows * repeat, delimiter, ends), encoding="utf-8", newline="")
    _same(path, monkeypatch, size)


def test_a_register_is_read_by_arrow(tmp_path, monkeypatch):
    path = tmp_path / "rooms.csv"
    path.write_text(_text(_register(3000), ",", ["\n"]), encoding="utf-8")
    assert _same(path, monkeypatch, size=1000)


def test_blank_and_ragged_rows_deep_in_a_file_keep_their_shape(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_arrow, "CHUNK", 4096)
    rows: list = _register(500) + ["", ["LT-x", "Ngắn"], ",,,,,"] + _register(500, 500)
    rows += [["LT-y", "Dài", "Nhà nghỉ", "1", "1/1/2020", "0909", "thừa"]] + _register(500, 1000)
    path = tmp_path / "rooms.csv"
    path.write_text(_text(rows, ",", ["\r\n"]), encoding="utf-8")
    assert _same(path, monkeypatch, size=333)


def test_a_quoted_line_break_across_pieces_is_one_row(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_arrow, "CHUNK", 100)
    rows = [[f"LT-{i}", "Dòng 1\nDòng 2\n" * 5, "Khách sạn", "1", "1/1/2020", "0909\n"] for i in range(200)]
    path = tmp_path / "rooms.csv"
    path.write_text(_text(rows, ",", ["\n"]), encoding="utf-8")
    assert _same(path, monkeypatch, size=64)


def test_legacy_encoding_is_read_by_arrow_after_decoding(tmp_path, monkeypatch):
    path = tmp_path / "rooms.csv"
    path.write_bytes(encode_tcvn3(_text(_register(2000), ";", ["\r\n"])))
    assert _same(path, monkeypatch, size=700)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_marks(tmp_path, monkeypatch, encoding):
    path = tmp_path / "rooms.csv"
    path.write_bytes(_text(_register(500), ",", ["\n"]).encode(encoding))
    assert _same(path, monkeypatch)


def test_a_byte_that_does_not_decode_late_in_the_file_names_its_row(tmp_path, monkeypatch):
    path = tmp_path / "rooms.csv"
    path.write_bytes(_text(_register(5000), ",", ["\n"]).encode() + encode_tcvn3("Người,a,b,c,d,e\n"))
    old, _ = _outcome(path, monkeypatch, arrow=False, size=1000)
    assert old[0] == "error" and old[4]["row"] == 5002
    assert _same(path, monkeypatch, size=1000) is False  # the error: no table to tell


def test_a_line_too_long_late_in_the_file_names_its_row(tmp_path, monkeypatch):
    path = tmp_path / "rooms.csv"
    text = _text(_register(100), ",", ["\n"]) + "x" * (csv_reader.MAX_LINE + 10) + ",a,b,c,d,e\n"
    path.write_text(text, encoding="utf-8")
    old, _ = _outcome(path, monkeypatch, arrow=False, size=1000)
    assert old[0] == "error" and old[2] == "line-too-long" and old[4]["row"] == 102
    _same(path, monkeypatch)


@pytest.fixture
def csv_limit_below_line_limit():
    """Python's csv field limit is one value for the whole process, and importing frictionless' CSV parser raises it
    from 131,072 to 20 million, past MAX_LINE: pin it so the field limit is met before the line limit."""
    before = csv.field_size_limit(131_072)
    yield
    csv.field_size_limit(before)


def test_a_field_beyond_the_csv_limit_is_the_same_csv_error(tmp_path, monkeypatch, csv_limit_below_line_limit):
    path = tmp_path / "rooms.csv"
    rows: list = _register(100) + [["LT-z", "x" * (csv.field_size_limit() + 1), "a", "1", "2", "3"]] + _register(9)
    path.write_text(_text(rows, ",", ["\n"]), encoding="utf-8")
    old, _ = _outcome(path, monkeypatch, arrow=False, size=1000)
    assert old[0] == "error" and old[2] == "csv-error"
    _same(path, monkeypatch)


def test_lines_ended_by_carriage_returns_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_reader, "MAX_LINE", 200)  # no line feed in 4 x MAX_LINE bytes: the row reader reads on
    path = tmp_path / "rooms.csv"
    path.write_text(_text(_register(2000), ",", ["\r"]), encoding="utf-8", newline="")
    assert _same(path, monkeypatch, size=900)


def _empty_line_by_searches(piece: bytes) -> bool:
    """The former test, by byte searches: a line break right after another, or one first."""
    return piece[:1] in (b"\n", b"\r") or any(e in piece for e in (b"\n\n", b"\r\r", b"\n\r"))


def _longest_line_by_searches(piece: bytes) -> int:
    lines = piece.split(b"\n")
    return max(len(line) + (1 if k < len(lines) - 1 else 0) for k, line in enumerate(lines))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"\xe1\xbb\x87", b",", b'"', b"\r", b"\n", b"\r\n"]), max_size=40))
def test_one_scan_finds_empty_lines_and_the_longest_line_as_byte_searches_do(parts: list[bytes]) -> None:
    """csv_arrow._lines scans a piece's line feeds once: an empty line (LF LF, CR CR, LF CR, or a break first)
    and the longest line (bytes between line feeds, its feed counted) as the searches over the piece found
    them, whatever the line ends (LF, CRLF, CR alone, mixed)."""
    piece = b"".join(parts)
    empty, longest = csv_arrow._lines(piece)
    assert empty == _empty_line_by_searches(piece)
    assert longest == _longest_line_by_searches(piece)
