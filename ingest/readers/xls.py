"""Excel 97-2003 .xls workbooks through xlrd (maintained, .xls only).

xlrd loads a sheet whole, but .xls sheets hold at most 65,536 rows, so memory stays bounded. Dates are
stored as serial numbers with a date format: xlrd tells which cells are dates and we convert them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from hub.errors import InputError
from ingest.headers import HeaderMatcher
from ingest.readers._table import RawTable, Row, data_rows
from ingest.readers.xlsx import open_sheet_rows

__all__ = ["read_xls"]


def read_xls(path: Path, matcher: HeaderMatcher, *, sheet: str | None = None) -> RawTable:
    import xlrd

    file = os.fspath(path)
    try:
        book = xlrd.open_workbook(os.fspath(path), on_demand=True)
    except Exception as e:  # xlrd raises XLRDError, CompDocError, struct.error... for damaged files
        raise InputError(
            "Tệp Excel 97-2003 (.xls) bị hỏng hoặc được đặt mật khẩu",
            "The Excel 97-2003 (.xls) workbook is damaged or password-protected",
            code="broken-xls",
            file=file,
            detail=str(e),
        ) from None

    def cell_value(cell) -> object:
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return datetime(*xlrd.xldate_as_tuple(cell.value, book.datemode))
            except xlrd.xldate.XLDateError:
                return cell.value
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

    name, head, rest, (index, depth, headers, alts) = open_sheet_rows(
        path, book.sheet_names(), rows_of, matcher, sheet, file
    )

    def rows() -> Iterator[Row]:
        try:
            yield from data_rows(head, rest, index + depth, len(headers))
        finally:
            book.release_resources()

    alternatives = {h: a for h, a in zip(headers, alts, strict=True) if a}
    return RawTable(headers=headers, rows=rows(), sheet=name, alternatives=alternatives)
