"""Excel export: the records on a first sheet, the data dictionary (from the schema) on a second.

openpyxl's write-only mode keeps each sheet in a temporary file while rows are added, and the finished
workbook is written to a SpooledTemporaryFile (on disk past a few MB) and then streamed, so memory stays flat.

Text cells are always typed as text: a value starting with '=' is shown as written, never run as a formula
(CSV/Excel formula injection), and nothing of the value is changed. Characters XML cannot hold (control
characters from old spreadsheets) are dropped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from hub.catalog import Dataset, Field

DATA_SHEET = "Dữ liệu (Data)"
# Excel limits sheet names to 31 characters and forbids '/', so "Từ điển dữ liệu / Data dictionary" is
# written as below.
DICTIONARY_SHEET = "Từ điển dữ liệu (Dictionary)"
DICTIONARY_COLUMNS = [
    ("field", "Trường / Field"),
    ("title_vi", "Tên (tiếng Việt)"),
    ("title_en", "Title (English)"),
    ("type", "Kiểu / Type"),
    ("required", "Bắt buộc / Required"),
    ("description_vi", "Mô tả"),
    ("description_en", "Description"),
    ("values", "Giá trị / Values"),
    ("classification", "Phân loại / Classification"),
]
CHUNK = 1 << 16


def _text(ws: Any, value: str, *, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # never a formula, whatever the first character
    if bold:
        cell.font = Font(bold=True)
    return cell


def _cell(ws: Any, value: Any, field_type: str) -> Any:
    if value is None:
        return None
    if field_type == "date" and isinstance(value, str):
        try:
            cell = WriteOnlyCell(ws, value=date.fromisoformat(value))
        except ValueError:
            return _text(ws, value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    return _text(ws, str(value))


def dictionary_rows(dataset: Dataset, names: list[str]) -> Iterator[list[str]]:
    """One row per visible field, derived from the schema."""
    for name in names:
        f: Field = dataset.schema.field(name)
        descriptions = f.descriptor.get("descriptions") or {}
        values = ""
        if f.enum:
            values = "; ".join(f"{v} = {f.enum_label(v, 'vi')} / {f.enum_label(v, 'en')}" for v in f.enum)
        yield [f.name, f.title("vi"), f.title("en"), f.type, "có / yes" if f.constraints.get("required") else "",
               descriptions.get("vi", ""), descriptions.get("en", ""), values, f.classification]


def xlsx_stream(dataset: Dataset, names: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The workbook's bytes, in chunks. Field names are the header, as in the CSV and the API."""
    wb = Workbook(write_only=True)
    data = wb.create_sheet(DATA_SHEET)
    data.freeze_panes = "A2"
    types = [dataset.schema.field(n).type for n in names]
    data.append([_text(data, n, bold=True) for n in names])
    for row in rows:
        data.append([_cell(data, row.get(n), t) for n, t in zip(names, types, strict=True)])
    dictionary = wb.create_sheet(DICTIONARY_SHEET)
    dictionary.append([_text(dictionary, title, bold=True) for _, title in DICTIONARY_COLUMNS])
    for entry in dictionary_rows(dataset, names):
        dictionary.append([_text(dictionary, v) if v else None for v in entry])
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as out:
        wb.save(out)
        out.seek(0)
        while block := out.read(CHUNK):
            yield block
