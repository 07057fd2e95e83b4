"""XLSX, XLS, JSON and GeoJSON rows handed over as Arrow blocks give the very batches the row path gives: headers,
mapping, values and dtypes, row numbers, row shapes, blank rows, the change log, and the same error on the same
row, on report sheets with merged headers, empty cells, typed numbers and dates, Vietnamese text and notes."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time

import openpyxl
import pytest

from core.errors import InputError
from ingest import read_table
from ingest.readers import blocks

COMMUNES = ["Phường Trấn Biên", "xã Hàng Gòn", "Phường  Tân Phong", "Xã Phước Thiền", "phường long bình", "26734",
            "Hoà Bình", "Hòa Bình"]
RANKS = ["Quốc gia", "Cấp tỉnh", "quoc_gia", "cap tinh", "Cấp  tỉnh", "Khác"]
NAMES = ["Đình Tân Lân", "Chùa Bửu Phong", "Đền  thờ Nguyễn Hữu Cảnh", " Văn miếu Trấn Biên ", "Nhà\u00a0cổ",
         "Chu\u0300a Đại Giác", "Miếu\tBà"]


def _cells(rng: random.Random, i: int, fmt: str) -> list:
    """One data row: code, name, date, area, rooms, open, phone, enterprise, address, commune, rank, lat, lon."""
    typed = fmt != "text"
    day = rng.choice([datetime(2020, 11, 19), datetime(2021, 1, 2, 10, 30), date(2019, 5, 1), 44154, 44154.5,
                      "19/11/2020", "2020-11-19", "1/2/2021", "", None, " "]) if typed else rng.choice(["19/11/2020", ""])
    if fmt == "json" and isinstance(day, (date, datetime)):
        day = day.isoformat()
    area = rng.choice([12.5, 1200, 0.1, "1.200,5", "12,5", "1,200.5", None, "-", "abc"])
    rooms = rng.choice([12, 3.0, "1.200", "12", None, "mười", 2**40])
    is_open = rng.choice([True, False, "Có", "không", "x", None, 1])
    phone = rng.choice([912345678, "0251 3822 123", "(0251) 3.822.123", "+84 912 345 678", None, ""])
    lat = rng.choice([10.9456, "10,9456", "10°56'12\"N", 10, None, 1200000.5])
    lon = rng.choice([106.8281, "106,8281", "106°49'30\"E", None])
    row = [f"DT-{i:04d}", rng.choice(NAMES), day, area, rooms, is_open, phone, rng.choice(["3600123456", 3600123456,
           "3600 123 456", None]), f"Số {i % 7},  đường 30/4", rng.choice(COMMUNES), rng.choice(RANKS), lat, lon]
    if fmt == "xls":  # xlwt writes no datetime.date, no huge ints as ints
        row = [datetime(c.year, c.month, c.day) if type(c) is date else c for c in row]
    return row


HEADER_TOP = ["STT", "Tên di tích", "Ngày QĐ", "Diện tích", "Số phòng", "Mở cửa", "Điện thoại", "Mã số thuế",
              "Địa chỉ", None, "Xếp hạng", "Tọa độ", None]
HEADER_SUB = [None, None, None, None, None, None, None, None, "Số nhà", "Xã/Phường", None, "Vĩ độ", "Kinh độ"]


def _rows(seed: int, n: int, fmt: str) -> list[list]:
    """Data rows with the awkward ones a department's sheet holds: blank rows, sparse rows, a row longer than
    the header, a row of whitespace, a row of column notes in the middle."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.02:
            rows.append([None] * 13)
        elif roll < 0.04:
            rows.append([f"DT-{i:04d}", None, None, None, None, None, None, None, None, None, "Cấp tỉnh", None, None])
        elif roll < 0.05 and fmt in ("xlsx", "xls"):  # a note beside the row, in a column with no header
            rows.append(_cells(rng, i, fmt) + [None, "ghi chú thêm"])
        elif roll < 0.06:
            rows.append([" ", "", None, " ", "\u3000", None, None, None, None, None, None, None, None])
        else:
            rows.append(_cells(rng, i, fmt))
    return rows


def _workbook(path, seed: int, n: int) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws["A1"] = "UBND TỈNH ĐỒNG NAI"
    ws["A2"] = "DANH SÁCH DI TÍCH ĐÃ XẾP HẠNG"
    ws.merge_cells("A2:M2")
    ws.append([])
    ws.append(HEADER_TOP)
    ws.append(HEADER_SUB)
    ws.merge_cells("I4:J4")
    ws.merge_cells("L4:M4")
    ws.append([f"({k})" for k in range(1, 14)])
    for row in _rows(seed, n, "xlsx"):
        ws.append(row)
    ws.append([None] * 13)
    ws.append(["Ghi chú: số liệu đến 31/12/2025"])
    ws.append(["Người lập biểu", None, None, None, "Thủ trưởng đơn vị"])
    ws.append(["DT-9999", "Sau ghi chú", "x", "y", "z", "w"])  # after the notes: never read
    wb.save(path)


def _xls(path, seed: int, n: int) -> None:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Danh sách")
    day = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    clock = xlwt.easyxf(num_format_str="hh:mm")
    ws.write(0, 0, "UBND TỈNH ĐỒNG NAI")
    ws.write_merge(1, 1, 0, 12, "DANH SÁCH DI TÍCH ĐÃ XẾP HẠNG")
    for c, text in enumerate(HEADER_TOP):
        if c in (8, 11):
            ws.write_merge(3, 3, c, c + 1, text)
        elif text is not None and c not in (9, 12):
            ws.write(3, c, text)
    for c, text in enumerate(HEADER_SUB):
        if text:
            ws.write(4, c, text)
    rows = [[f"({k})" for k in range(1, 14)], *_rows(seed, n, "xls"), [None] * 13, ["Ghi chú: số liệu tạm"],
            ["Người lập biểu", None, None, None, "Thủ trưởng đơn vị"]]
    for r, row in enumerate(rows, start=5):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                ws.write(r, c, value, day)
            elif isinstance(value, time):
                ws.write(r, c, value, clock)
            elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**31:
                ws.write(r, c, float(value))
            else:
                ws.write(r, c, value)
    ws.write(r + 1, 0, time(10, 30), clock)
    book.save(str(path))


KEYS = ["code", "Tên di tích", "Ngày QĐ", "area", "Số phòng", "is_open", "SĐT", "Mã số thuế", "Địa chỉ", "Xã/Phường",
        "Xếp hạng", "Vĩ độ", "Kinh độ"]


def _json(path, seed: int, n: int, bad_at: int | None = None) -> None:
    records = []
    for row in _rows(seed, n, "json"):
        record = {k: v for k, v in zip(KEYS, row, strict=True) if v is not None or random.Random(len(records)).random() < .5}
        if len(records) % 97 == 5:
            record["Mã số thuế"] = {"mst": "3600123456", "ghi chú": "Có  hai"}
        if len(records) % 89 == 7:
            record["Tên di tích"] = ["Đình", 1.50]
        records.append(record)
    if bad_at is not None:
        records.insert(bad_at, ["not", "an", "object"])
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def _geojson(path, seed: int, n: int) -> None:
    features = []
    for k, row in enumerate(_rows(seed, n, "json")):
        lat, lon = row[11], row[12]
        props = {key: v for key, v in zip(KEYS[:11], row[:11], strict=True) if v is not None}
        geometry = ({"type": "Point", "coordinates": [lon, lat]} if isinstance(lat, (int, float)) and
                    isinstance(lon, (int, float)) else None if k % 3 else
                    {"type": "MultiPoint", "coordinates": [[106.8, 10.9]]})
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")


def _outcome(path, schema, monkeypatch, hand_over: bool, size: int):
    """Everything the pipeline sees of a file, with or without the hand-over as blocks."""
    with monkeypatch.context() as m:
        m.setattr(blocks, "HAND_OVER", hand_over)
        try:
            table = read_table(path, schema)
            records = table._raw.records
            frames = [(list(f.columns), [(str(f[c].dtype), f[c].tolist()) for c in f.columns])
                      for f in table.batches(size=size)]
        except InputError as e:
            return ("error", type(e).__name__, e.code, str(e), e.context), False
    changes = [(c.row, c.field, c.original, c.value, c.rule) for c in table.changes]
    used = records.rows_in_blocks if records is not None else 0
    return (table.headers, table.mapping, table.sheet, frames, changes, table.rows_read, table.changes_total), used


def _same(path, schema, monkeypatch, size: int):
    """Asserts both paths give the same; returns the outcome and how many rows came in blocks."""
    old, _ = _outcome(path, schema, monkeypatch, hand_over=False, size=size)
    new, used = _outcome(path, schema, monkeypatch, hand_over=True, size=size)
    assert new == old
    return old, used


@pytest.mark.parametrize("seed,size", [(1, 50_000), (2, 97), (3, 7)])
def test_xlsx_blocks_give_the_row_path_batches(tmp_path, site_schema, monkeypatch, seed, size):
    path = tmp_path / "report.xlsx"
    _workbook(path, seed, 700)
    outcome, used = _same(path, site_schema, monkeypatch, size)
    assert used > 300 and outcome[0][8] == "Địa chỉ Số nhà" and outcome[5] > 650  # merged header, notes dropped
    assert all("DT-9999" not in values[0][1] for _, values in outcome[3])


@pytest.mark.parametrize("seed,size", [(4, 50_000), (5, 64)])
def test_xls_blocks_give_the_row_path_batches(tmp_path, site_schema, monkeypatch, seed, size):
    path = tmp_path / "report.xls"
    _xls(path, seed, 600)
    outcome, used = _same(path, site_schema, monkeypatch, size)
    assert used > 300 and outcome[0][8] == "Địa chỉ Số nhà" and outcome[4]  # changes logged


@pytest.mark.parametrize("seed,size", [(6, 50_000), (7, 101), (8, 5)])
def test_json_blocks_give_the_row_path_batches(tmp_path, site_schema, monkeypatch, seed, size):
    path = tmp_path / "records.json"
    _json(path, seed, 800)
    outcome, used = _same(path, site_schema, monkeypatch, size)
    assert used > 400 and outcome[5] == 800


def test_a_bad_json_record_late_in_the_file_is_the_same_error(tmp_path, site_schema, monkeypatch):
    path = tmp_path / "records.json"
    _json(path, 9, 3000, bad_at=2500)
    outcome, _ = _same(path, site_schema, monkeypatch, 1000)
    assert outcome[0] == "error" and outcome[4]["row"] == 2502


@pytest.mark.parametrize("seed,size", [(10, 50_000), (11, 33)])
def test_geojson_blocks_give_the_row_path_batches(tmp_path, site_schema, monkeypatch, seed, size):
    path = tmp_path / "sites.geojson"
    _geojson(path, seed, 500)
    outcome, used = _same(path, site_schema, monkeypatch, size)
    assert used > 250 and outcome[5] == 500
