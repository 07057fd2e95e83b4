"""Excel report sheets as the offices send them: title block, merged two-row header, spacer column,
numbering row, notes and signatures at the bottom, typed dates and numbers; and broken workbooks."""

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest

from core.errors import HeaderError, InputError
from ingest import read_table


def _report_workbook(path, *, extra_sheet_first=False):
    wb = openpyxl.Workbook()
    if extra_sheet_first:
        cover = wb.active
        cover.title = "Bìa"
        cover["A1"] = "BÁO CÁO NĂM 2025"
        ws = wb.create_sheet("Danh sách")
    else:
        ws = wb.active
        ws.title = "Danh sách"
    ws["A1"] = "UBND TỈNH ĐỒNG NAI"
    ws["A2"] = "DANH SÁCH DI TÍCH ĐÃ XẾP HẠNG"
    ws.merge_cells("A2:H2")
    # two-row header: A..C merged vertically, "Địa chỉ" over D:E, "Tọa độ" over G:H, F is a spacer
    for col, text in zip("ABC", ["STT", "Tên di tích", "Ngày QĐ"], strict=True):
        ws[f"{col}4"] = text
        ws.merge_cells(f"{col}4:{col}5")
    ws["D4"] = "Địa chỉ"
    ws.merge_cells("D4:E4")
    ws["D5"], ws["E5"] = "Số nhà", "Xã/Phường"
    ws["G4"] = "Tọa độ"
    ws.merge_cells("G4:H4")
    ws["G5"], ws["H5"] = "Vĩ độ", "Kinh độ"
    for col, n in zip("ABCDEGH", range(1, 8), strict=True):
        ws[f"{col}6"] = f"({n})"
    ws.append(["DT-01", "Đình Tân Lân", datetime(2020, 11, 19), "Số 1", "Phường Trấn Biên", None, 10.9456, 106.8281])
    ws.append(["DT-02", "Chùa Bửu Phong", 44154, "", "xã Hàng Gòn", None, "10°56'12\"N", "106°49'30\"E"])
    ws.append([None] * 8)
    ws.append(["Ghi chú: số liệu đến 31/12/2025"])
    ws.append(["Người lập biểu", None, None, None, "Thủ trưởng đơn vị"])
    ws.append(["Nguyễn Văn A", None, None, None, "Trần Thị B"])
    wb.save(path)
    return path


def test_xlsx_with_two_row_merged_header_maps_to_fields(tmp_path, site_schema):
    table = read_table(_report_workbook(tmp_path / "r.xlsx"), site_schema)
    assert table.format == "xlsx" and table.sheet == "Danh sách"
    assert table.headers == [
        "STT",
        "Tên di tích",
        "Ngày QĐ",
        "Địa chỉ Số nhà",
        "Địa chỉ Xã/Phường",
        "Tọa độ Vĩ độ",
        "Tọa độ Kinh độ",
    ]
    assert table.mapping == {
        "STT": "code",
        "Tên di tích": "name",
        "Ngày QĐ": "decision_date",
        "Địa chỉ Số nhà": "address",
        "Địa chỉ Xã/Phường": "commune_code",
        "Tọa độ Vĩ độ": "lat",
        "Tọa độ Kinh độ": "lon",
    }


def test_xlsx_title_rows_numbering_row_and_trailing_notes_are_dropped(tmp_path, site_schema):
    table = read_table(_report_workbook(tmp_path / "r.xlsx"), site_schema)
    (frame,) = list(table.batches())
    assert frame["code"].tolist() == ["DT-01", "DT-02"]
    assert frame["_row"].tolist() == [7, 8]  # the sheet's own row numbers
    assert table.rows_read == 2


def test_xlsx_dates_serials_numbers_and_dms_become_canonical_text(tmp_path, site_schema):
    (frame,) = list(read_table(_report_workbook(tmp_path / "r.xlsx"), site_schema).batches())
    assert frame["decision_date"].tolist() == ["2020-11-19", "2020-11-19"]
    assert frame["lat"].tolist() == ["10.9456", "10.9366667"]
    assert frame["lon"].tolist() == ["106.8281", "106.825"]
    assert frame["commune_code"].tolist() == ["26041", "26113"]
    assert frame["address"].tolist() == ["Số 1", None]
    assert all(isinstance(v, str) for v in frame["lat"])


def test_xlsx_sheet_with_the_header_is_chosen_or_named(tmp_path, site_schema):
    path = _report_workbook(tmp_path / "r.xlsx", extra_sheet_first=True)
    assert read_table(path, site_schema).sheet == "Danh sách"
    assert read_table(path, site_schema, sheet="Danh sách").sheet == "Danh sách"
    with pytest.raises(HeaderError) as e:
        read_table(path, site_schema, sheet="Bìa")
    assert e.value.context["sheet"] == "Bìa"
    with pytest.raises(InputError) as e:
        read_table(path, site_schema, sheet="Không có")
    assert e.value.code == "sheet-not-found"


def test_truncated_xlsx_is_refused_with_file_name(tmp_path, site_schema):
    good = _report_workbook(tmp_path / "r.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "broken-xlsx" and e.value.context["file"] == str(path)


def test_zip_bomb_xlsx_is_refused_with_file_name(tmp_path, site_schema):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b" " * (1 << 20)
            for _ in range(40):  # 40 MB of spaces, a few tens of KB compressed
                member.write(block)
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "zip-bomb" and e.value.context["file"] == str(path)


def test_password_protected_xlsx_is_refused_with_file_name(tmp_path, site_schema):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(_report_workbook(tmp_path / "r.xlsx").read_bytes())
    path = tmp_path / "locked.xlsx"
    with path.open("wb") as out:
        OOXMLFile(plain).encrypt("mat-khau", out)
    assert msoffcrypto is not None
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "encrypted-workbook" and e.value.context["file"] == str(path)


def test_text_file_named_xlsx_is_refused(tmp_path, site_schema):
    path = tmp_path / "fake.xlsx"
    path.write_text("Tên di tích\nĐình\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "broken-xlsx"


def test_big_sheet_streams_in_batches(tmp_path, site_schema):
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("S")
    ws.append(["Mã số", "Số phòng", "Diện tích"])
    for i in range(3000):
        ws.append([f"C{i}", i, i + 0.5])
    wb.save(tmp_path / "big.xlsx")
    frames = list(read_table(tmp_path / "big.xlsx", site_schema).batches(size=1000))
    assert [len(f) for f in frames] == [1000, 1000, 1000]
    assert frames[-1][["rooms", "area"]].iloc[-1].tolist() == ["2999", "2999.5"]
    assert frames[-1]["_row"].iloc[-1] == 3001
