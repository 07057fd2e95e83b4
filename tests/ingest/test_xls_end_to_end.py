"""Excel 97-2003 (.xls) report sheets store the same rows as the canonical samples.

Old office PCs still save .xls (BIFF8). The sheets here are the .xlsx report sheets of the other tests (a
title block, a two-row merged header, a numbering row, notes and signatures, Vietnamese text) saved again
as .xls, the way Excel's "Save as Excel 97-2003" does: same cells, same merges, dates with a date format.
In .xls every number is a float (a commune code typed as a number is 26734.0) and a date is a serial number
counted from the workbook's own epoch (1900, or 1904 for workbooks made on a Mac): ingesting must still
store exactly what the .xlsx stores.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from ingest import read_table
from publish import pipeline
from tests.conftest import drop_schema
from tests.ingest.readers.test_xlsx_reader import _report_workbook
from tests.ingest.test_formats_end_to_end import _backend, _differences, _fresh_hub, stored
from tests.ingest.variants import write_variant

xlwt = pytest.importorskip("xlwt")

_COMMUNE_CODE = re.compile(r"[1-9]\d{4}")


def save_as_xls(source: Path, target: Path, *, dates_1904: bool = False) -> Path:
    """An .xlsx workbook saved again as .xls. A commune code kept as text in the .xlsx becomes a number
    cell, as when an office types it into Excel."""
    import openpyxl

    book = xlwt.Workbook(encoding="utf-8")
    book.dates_1904 = dates_1904
    day = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for ws in openpyxl.load_workbook(source).worksheets:
        out = book.add_sheet(ws.title)
        covered: set[tuple[int, int]] = set()
        for span in ws.merged_cells.ranges:
            anchor = ws.cell(span.min_row, span.min_col).value
            out.write_merge(span.min_row - 1, span.max_row - 1, span.min_col - 1, span.max_col - 1, anchor)
            covered |= {(r, c) for r in range(span.min_row, span.max_row + 1)
                        for c in range(span.min_col, span.max_col + 1)}
        for cell in (c for row in ws.iter_rows() for c in row):
            value = cell.value
            if value is None or (cell.row, cell.column) in covered:
                continue
            if isinstance(value, str) and _COMMUNE_CODE.fullmatch(value):
                value = int(value)
            if isinstance(value, date):
                out.write(cell.row - 1, cell.column - 1, value, day)
            else:
                out.write(cell.row - 1, cell.column - 1, value)
    book.save(str(target))
    return target


@pytest.mark.parametrize("dates_1904", [False, True], ids=["1900-dates", "1904-dates"])
def test_legacy_xls_report_sheet_stores_the_rows_of_the_canonical_sample(dates_1904, sample_hub, tmp_path):
    fresh, schema = _fresh_hub(_backend(sample_hub), tmp_path)
    try:
        for dataset in fresh.catalog.load_order():  # in load order, so that foreign keys resolve
            if dataset.source is None:  # a report's statistics dataset: no sample
                continue
            xlsx = write_variant(fresh.catalog, dataset, "xlsx", tmp_path)
            xls = save_as_xls(xlsx, tmp_path / f"{dataset.id}.xls", dates_1904=dates_1904)
            outcome = pipeline.run(fresh.store, dataset.id, xls, user="tests")
            errors = outcome.report["tasks"][0]["errors"][:3]
            assert (outcome.status, outcome.rows_rejected) == ("committed", 0), f"{dataset.id}: {errors}"
            assert _differences(stored(fresh, dataset.id), stored(sample_hub, dataset.id)) == [], dataset.id
    finally:
        fresh.store.dispose()
        drop_schema(schema)


@pytest.mark.parametrize("dates_1904", [False, True], ids=["1900-dates", "1904-dates"])
def test_xls_report_sheet_reads_like_the_same_xlsx(dates_1904, tmp_path, site_schema):
    xlsx = _report_workbook(tmp_path / "r.xlsx")
    from_xlsx = read_table(xlsx, site_schema)
    from_xls = read_table(save_as_xls(xlsx, tmp_path / "r.xls", dates_1904=dates_1904), site_schema)
    assert (from_xls.format, from_xls.sheet) == ("xls", "Danh sách")
    assert from_xls.headers == from_xlsx.headers and from_xls.mapping == from_xlsx.mapping
    (want,) = list(from_xlsx.batches())
    (got,) = list(from_xls.batches())
    assert got.to_dict("records") == want.to_dict("records")
    assert got["decision_date"].tolist() == ["2020-11-19", "2020-11-19"]  # a date cell, and a bare serial


def test_xls_number_cells_holding_codes_are_not_read_as_decimals(tmp_path, site_schema):
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Danh sách")
    for col, (title, value) in enumerate([("Mã số", "DT-01"), ("Tên di tích", "Đình Tân Lân"),
                                          ("Xã/Phường", 26041), ("Số phòng", 12.0), ("Diện tích", 1250.5)]):
        ws.write(0, col, title)
        ws.write(1, col, value)
    book.save(str(tmp_path / "codes.xls"))
    (frame,) = list(read_table(tmp_path / "codes.xls", site_schema).batches())
    assert frame.iloc[0][["commune_code", "rooms", "area"]].tolist() == ["26041", "12", "1250.5"]
