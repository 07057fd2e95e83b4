"""Excel 97-2003 .xls workbooks through xlrd (maintained, .xls only).

xlrd loads a sheet whole, but .xls sheets hold at most 65,536 rows, so memory stays bounded. Dates are
stored as serial numbers with a date format: xlrd tells which cells are dates and we convert them with the
workbook's own epoch (1900, or 1904 for workbooks saved on a Mac); a time of day alone becomes a `time`.
BIFF stores every number as a float, so a whole number comes back as an int, as openpyxl gives it for .xlsx:
a commune code typed as a number is 26734, not 26734.0. Merged cells keep their value in the top-left cell
only, as in openpyxl, and the shared report-sheet logic spreads merged header parents.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

from core.errors import InputError
from ingest.headers import HeaderMatcher
from ingest.readers._table import RawTable, Row, Shape, data_rows
from ingest.readers.blocks import hand_over
from ingest.readers.xlsx import open_sheet_rows

__all__ = ["read_xls"]

_EXACT = 2**53  # floats beyond this are not exact whole numbers: keep them as floats


def read_xls(path: Path, matcher: HeaderMatcher, *, sheet: str | None = None) -> RawTable:
    import xlrd

    file = os.fspath(path)
    try:
        book = xlrd.open_workbook(file, on_demand=True)
    except Exception as e:  # xlrd raises XLRDError, CompDocError, struct.error... for damaged files
        raise InputError(
            "Tệp Excel 97-2003 (.xls) bị hỏng hoặc được đặt mật khẩu",
            "The Excel 97-2003 (.xls) workbook is damaged or password-protected",
            code="broken-xls",
            file=file,
            detail=str(e),
        ) from None

    def cell_value(cell: Any) -> object:
        if cell.ctype == xlrd.XL_CELL_NUMBER:
            value = cell.value
            return int(value) if value.is_integer() and abs(value) < _EXACT else value
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                parts = xlrd.xldate_as_tuple(cell.value, book.datemode)
            except xlrd.xldate.XLDateError:  # before 1900-03-01, where Excel's calendar is wrong
                return cell.value
            return time(*parts[3:]) if parts[0] == 0 else datetime(*parts)
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        if cell.ctype == xlrd.XL_CELL_ERROR:
            return xlrd.error_text_from_code.get(cell.value, "#ERR")
        return cell.value

    def rows_of(name: str) -> Iterator[Row]:
        ws = book.sheet_by_name(name)
        for r in range(ws.nrows):
            yield r + 1, [cell_value(c) for c in ws.row(r)]

    # xlrd holds the chosen sheet whole anyway (at most 65,536 rows): take its rows now and let the file go,
    # rather than keep it open until the rows are iterated
    shapes: dict[int, Shape] = {}
    try:
        name, head, rest, (index, depth, headers, alts) = open_sheet_rows(
            path, book.sheet_names(), rows_of, matcher, sheet, file
        )
        rows = list(data_rows(head, rest, index + depth, len(headers), shapes=shapes))
    finally:
        book.release_resources()
    alternatives = {h: a for h, a in zip(headers, alts, strict=True) if a}
    stream, records = hand_over(iter(rows), len(headers))
    return RawTable(headers=headers, rows=stream, sheet=name, alternatives=alternatives, shapes=shapes,
                    records=records)
