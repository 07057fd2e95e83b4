"""Excel .xlsx workbooks, streamed with openpyxl's read-only mode.

Report sheets from the offices have title rows, merged multi-row headers, blank spacer columns, a column
numbering row and trailing notes/signatures: the shared report-sheet logic (ingest.readers._table) deals
with those. Cells keep their types (numbers, dates) so the normalisers need not guess them; row numbers
are the sheet's own. The sheet is the one named, else the first whose header names schema fields.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from core.errors import HeaderError, InputError
from ingest.headers import HeaderMatcher
from ingest.readers._table import HEAD_ROWS, HeaderFound, RawTable, Row, Shape, data_rows, locate_header
from ingest.readers._zipcheck import check_xlsx
from ingest.readers.blocks import hand_over

__all__ = ["read_xlsx", "open_sheet_rows"]


def _rows(ws: Any) -> Iterator[Row]:
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        yield number, list(values)


def open_sheet_rows(
    path: Path, names: list[str], rows_of: Callable[[str], Iterator[Row]], matcher: HeaderMatcher, sheet: str | None,
    file: str,
) -> tuple[str, list[Row], Iterator[Row], HeaderFound]:
    """Choose the sheet (named, or the first with a recognisable header) and locate its header."""
    if sheet is not None and sheet not in names:
        raise InputError(
            f"Không có trang tính '{sheet}' (có: {', '.join(names)})",
            f"No sheet named '{sheet}' (there are: {', '.join(names)})",
            code="sheet-not-found",
            file=file,
            sheet=sheet,
        )
    candidates = [sheet] if sheet is not None else names
    first_error: HeaderError | None = None
    for name in candidates:
        stream = rows_of(name)
        head = list(islice(stream, HEAD_ROWS))
        try:
            found = locate_header(head, matcher, file=file, sheet=name)
        except HeaderError as e:
            first_error = first_error or e
            continue
        return name, head, stream, found
    if sheet is None and len(names) > 1:
        raise HeaderError(
            "Không trang tính nào có dòng tiêu đề cột khớp với lược đồ",
            "No sheet has a header row naming fields of the schema",
            file=file,
        )
    assert first_error is not None
    raise first_error


def read_xlsx(path: Path, matcher: HeaderMatcher, *, sheet: str | None = None) -> RawTable:
    """Open a workbook; the header is located now, rows stream when iterated."""
    import openpyxl

    file = os.fspath(path)
    check_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise InputError(
            "Tệp Excel bị hỏng, không mở được",
            "The workbook is damaged and cannot be opened",
            code="broken-xlsx",
            file=file,
            detail=str(e),
        ) from None

    def rows_of(name: str) -> Iterator[Row]:
        return _guarded(_rows(wb[name]), file, name)

    try:
        name, head, rest, (index, depth, headers, alts) = open_sheet_rows(
            path, list(wb.sheetnames), rows_of, matcher, sheet, file
        )
    except BaseException:
        wb.close()
        raise

    shapes: dict[int, Shape] = {}

    def rows() -> Iterator[Row]:
        try:
            yield from data_rows(head, rest, index + depth, len(headers), shapes=shapes)
        finally:
            wb.close()

    alternatives = {h: a for h, a in zip(headers, alts, strict=True) if a}
    stream, records = hand_over(rows(), len(headers))
    return RawTable(headers=headers, rows=stream, sheet=name, alternatives=alternatives, shapes=shapes,
                    records=records)


def _guarded(rows: Iterator[Row], file: str, sheet: str) -> Iterator[Row]:
    """Turn a broken zip member met while streaming into an InputError naming the sheet and row."""
    number = 0
    try:
        for number, cells in rows:
            yield number, cells
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as e:
        raise InputError(
            f"Trang tính bị hỏng sau dòng {number}",
            f"The sheet is damaged after row {number}",
            code="broken-xlsx",
            file=file,
            sheet=sheet,
            row=number + 1,
            detail=str(e),
        ) from None
