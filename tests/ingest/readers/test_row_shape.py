"""Blank, short and long rows reach the validator as frictionless sees them: a blank row between data rows is a
`blank-row`, a short row's absent cells are `missing-cell`, a long row's cells beyond the header `extra-cell`,
all on the source's own row numbers. Spacer rows around a table (under a title, before the notes) are not."""

from __future__ import annotations

import openpyxl
import pandas
import pytest

from ingest import read_table
from validate import Validator

SCHEMA = {
    "name": "test-venues",
    "primaryKey": ["code"],
    "fields": [
        {"name": "code", "type": "string", "titles": {"vi": "Mã", "en": "Code"}},
        {"name": "name", "type": "string", "titles": {"vi": "Tên", "en": "Name"}},
        {"name": "rooms", "type": "integer", "titles": {"vi": "Số phòng", "en": "Rooms"}},
        {"name": "phone", "type": "string", "titles": {"vi": "Điện thoại", "en": "Phone"}},
    ],
}


def _errors(path, schema=SCHEMA) -> list[tuple[str, int, str | None]]:
    table = read_table(path, schema)
    validator = Validator(schema)
    for frame in table.batches(size=3):  # shapes found across batch boundaries too
        validator.check(frame)
    report = validator.finish().to_dict()
    return [(e["type"], e["rowNumber"], e.get("fieldName") or None) for e in report["tasks"][0]["errors"]]


def test_csv_blank_short_and_long_rows_are_reported_on_their_rows(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text(
        "code,name,rooms,phone\n"
        "A1,Khách sạn Sen,12,0909123456\n"
        ",,,\n"  # row 3: blank
        "A2,Nhà nghỉ Hoa\n"  # row 4: short
        "\n"  # row 5: an empty line is a blank row too
        "A3,Nhà nghỉ Mai,7,0909123457,thừa\n"  # row 6: long
        "A4,Khách sạn Lan,30,0909123458,\n"  # a trailing delimiter holds nothing: no extra cell
        ",,,\n\n",  # blank rows after the last data row: nothing
        encoding="utf-8",
    )
    assert _errors(path) == [
        ("blank-row", 3, None), ("primary-key", 3, None),
        ("missing-cell", 4, "rooms"), ("missing-cell", 4, "phone"),
        ("blank-row", 5, None), ("primary-key", 5, None),
        ("extra-cell", 6, None),
    ]


def test_csv_rows_keep_their_values_and_shape_columns(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text("code,name,rooms,phone\nA1,Sen\nA2,Hoa,3,0909123456,x,y\n", encoding="utf-8")
    (frame,) = read_table(path, SCHEMA).batches()
    assert frame["_missing"].tolist() == [2, 0]
    assert frame["_extra"].tolist() == [None, ["x", "y"]]
    assert frame["name"].tolist() == ["Sen", "Hoa"] and frame["_row"].tolist() == [2, 3]


def test_csv_of_well_formed_rows_has_no_shape_columns(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text("code,name,rooms,phone\nA1,Sen,1,\nA2,Hoa,3,0909123456\n", encoding="utf-8")
    (frame,) = read_table(path, SCHEMA).batches()
    assert list(frame.columns) == ["code", "name", "rooms", "phone", "_row"]


def test_csv_title_block_and_spacer_rows_are_not_blank_rows(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text(
        "DANH SÁCH CƠ SỞ,,,\n,,,\nMã,Tên,Số phòng,Điện thoại\n,,,\nA1,Sen,1,0909123456\nA2,Hoa,2,0909123457\n"
        ",,,\nNgười lập biểu,,,\n",
        encoding="utf-8",
    )
    assert _errors(path) == []


def test_csv_columns_in_another_order_name_the_absent_fields(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text("Tên,Mã,Số phòng,Điện thoại\nSen,A1,4,0909123456\nHoa,A2\n", encoding="utf-8")
    assert _errors(path) == [("missing-cell", 3, "rooms"), ("missing-cell", 3, "phone")]


@pytest.mark.parametrize("trailing_blank_cells", [True, False])
def test_xlsx_blank_row_between_data_rows_is_reported_spacers_are_not(tmp_path, trailing_blank_cells):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH CƠ SỞ LƯU TRÚ"])
    ws.append([])
    ws.append(["Mã", "Tên", "Số phòng", "Điện thoại"])
    ws.append([])  # row 4: spacer under the header
    ws.append(["A1", "Sen", 12, "0909123456"])
    ws.append(["A2", "Hoa", None, None] if trailing_blank_cells else ["A2", "Hoa"])  # empty cells are not "short"
    ws.append([])  # row 7: blank, inside the table
    ws.append(["A3", "Mai", 3, "0909123457"])
    ws.append([])
    ws.append(["Ghi chú: số liệu tháng 6"])
    path = tmp_path / "venues.xlsx"
    wb.save(path)
    assert _errors(path) == [("blank-row", 7, None), ("primary-key", 7, None)]


def test_csv_row_numbers_and_shapes_hold_in_a_long_file(tmp_path):
    """Long stretches of plain rows are read in bulk; the odd rows among them keep their numbers and shapes."""
    lines, blank, short, long, sparse = ["code,name,rooms,phone"], [], [], [], []
    for number in range(2, 40_002):
        if number % 9_001 == 0:
            lines.append("")
            blank.append(number)
        elif number % 7_919 == 0:
            lines.append(f"A{number},Sen")
            short.append(number)
        elif number % 10_007 == 0:
            lines.append(f"A{number},Sen,1,0909123456,thừa")
            long.append(number)
        elif number % 6_007 == 0:
            lines.append(f"A{number},  ,,")  # one cell filled: still a data row
            sparse.append(number)
        else:
            lines.append(f"A{number},Sen,{number % 50},0909123456")
    path = tmp_path / "venues.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frames = list(read_table(path, SCHEMA).batches(size=15_000))
    frame = pandas.concat(frames, ignore_index=True)
    assert [len(f) for f in frames] == [15_000, 15_000, 10_000]
    assert frame["_row"].tolist() == list(range(2, 40_002))
    by_row = frame.set_index("_row")
    assert by_row.loc[blank, "code"].isna().all()
    assert by_row.loc[short, "_missing"].tolist() == [2] * len(short)
    assert by_row.loc[long, "_extra"].tolist() == [["thừa"]] * len(long)
    assert by_row.loc[sparse, "name"].isna().all() and by_row.loc[sparse, "code"].tolist() == [f"A{n}" for n in sparse]
    assert by_row.loc[40_001, "rooms"] == str(40_001 % 50)
