"""Excel export: the records on a first sheet, the data dictionary (from the schema) on the last.

The workbook is streamed: each sheet's XML (publish.exports.ooxml) is compressed into a zip written to a
`ZipSink` and handed on every few thousand rows, so memory stays flat, nothing goes to disk and the first
bytes leave at once. The zip members carry data descriptors, as Excel's own streaming writers do, and no
ZIP64 fields in their local headers (Excel refuses those, see rzymek/opczip's notes on Apache POI bug 57342):
a sheet is kept under 2 GB of XML, which zipfile needs without ZIP64.

Excel shows at most 1,048,576 rows a sheet, the header included. A larger dataset goes on as
"Dữ liệu (Data) 2", "… 3" with the header repeated, so no row is lost and every sheet opens (an error instead
would leave a citizen with no Excel file at all); a sheet is also cut short of the 2 GB limit above.

A text longer than a cell can hold (publish.exports.ooxml.fit_cell) is shortened and marked as such, never
dropped silently: a note below the data dictionary says how many cells, in which fields and where.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from core.catalog import Dataset, Field
from publish.exports.ooxml import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    ROOT_RELS,
    STYLES,
    SheetXml,
    app_properties,
    content_types,
    core_properties,
    sheet_path,
    workbook,
    workbook_rels,
)
from publish.exports.zipsink import ZipSink
from publish.store import utcnow

DATA_SHEET = "Dữ liệu (Data)"
# Excel limits sheet names to 31 characters and forbids '/', so "Từ điển dữ liệu / Data dictionary" is
# written as below.
DICTIONARY_SHEET = "Từ điển dữ liệu (Dictionary)"
DICTIONARY_COLUMNS = [
    ("field", "Trường / Field", 22),
    ("title_vi", "Tên (tiếng Việt)", 28),
    ("title_en", "Title (English)", 28),
    ("type", "Kiểu / Type", 10),
    ("required", "Bắt buộc / Required", 12),
    ("description_vi", "Mô tả", 50),
    ("description_en", "Description", 50),
    ("values", "Giá trị / Values", 50),
    ("classification", "Phân loại / Classification", 16),
]
SHORTENED_LISTED = 20  # cells a note names before "…"
SHEET_BYTES = 2_000_000_000  # XML of one sheet, kept under zipfile's 2 GiB limit for members without ZIP64
CHUNK_BYTES = 1 << 20  # XML gathered before it is compressed and handed on
COMPRESSION_LEVEL = 2  # deflate: level 1 costs the same and is 8% larger; 6 (openpyxl's) is 15% smaller, +25% CPU
APPLICATION = "Đồng Nai culture, sports and tourism data hub"


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


def shortened_note(names: list[str], cells: list[tuple[int, str]]) -> list[str]:
    """The dictionary sheet's note on cells cut to fit Excel (`cells`: column index, reference), vi then en;
    nothing when none was."""
    if not cells:
        return []
    fields = ", ".join(dict.fromkeys(names[column] for column, _ in cells))
    where = ", ".join(ref for _, ref in cells[:SHORTENED_LISTED]) + (", …" if len(cells) > SHORTENED_LISTED else "")
    limit = f"{MAX_CELL_CHARS:,}"
    return [
        f"Ghi chú: {len(cells)} ô dài hơn {limit.replace(',', '.')} ký tự, giới hạn của Excel, đã được cắt ngắn và "
        f"đánh dấu «… [quá dài cho Excel …]»; toàn văn có trong bản CSV/GeoJSON. Trường: {fields}. Ô: {where}.",
        f"Note: {len(cells)} {'cell' if len(cells) == 1 else 'cells'} longer than Excel's limit of {limit} "
        f"characters {'was' if len(cells) == 1 else 'were'} shortened and marked "
        f"«… [too long for Excel …]»; the full text is in the CSV/GeoJSON download. Fields: {fields}. "
        f"Cells: {where}.",
    ]


def data_sheet_name(index: int) -> str:
    """`Dữ liệu (Data)`, then `Dữ liệu (Data) 2`, … when the rows need more than one sheet."""
    return DATA_SHEET if index == 1 else f"{DATA_SHEET} {index}"


def _column_width(field: Field) -> float:
    if field.type == "date":
        return 12  # a yyyy-mm-dd date in a narrower column shows as ########
    if field.type in ("integer", "number"):
        return max(10, len(field.name) + 2)
    return min(max(14, len(field.name) + 2), 40)


def _on_sheet(sheet: SheetXml, index: int) -> list[tuple[int, str]]:
    """The cells `sheet` cut to fit, referenced as `'Dữ liệu (Data) 2'!B7` beyond the first data sheet."""
    cells = [(column, ref if index == 1 else f"'{data_sheet_name(index)}'!{ref}") for column, ref in sheet.shortened]
    sheet.shortened.clear()
    return cells


class _Writer:
    """The zip being streamed and the one sheet open in it."""

    def __init__(self) -> None:
        self.sink = ZipSink()
        self.archive = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED,
                                       compresslevel=COMPRESSION_LEVEL)
        self.entry: Any = None
        self.pending: list[str] = []
        self.pending_bytes = 0
        self.sheet_bytes = 0
        self.sheets = 0

    def open_sheet(self, head: str) -> None:
        self.sheets += 1
        self.entry = self.archive.open(sheet_path(self.sheets), "w")
        self.sheet_bytes = 0
        self.add(head)

    def add(self, xml: str) -> None:
        self.pending.append(xml)
        self.pending_bytes += len(xml)  # characters: a close enough measure until encoded

    def flush(self) -> bytes:
        data = "".join(self.pending).encode("utf-8")
        self.pending.clear()
        self.pending_bytes = 0
        self.sheet_bytes += len(data)
        self.entry.write(data)
        return self.sink.drain()

    def close_sheet(self, tail: str) -> bytes:
        self.add(tail)
        out = self.flush()
        self.entry.close()
        return out + self.sink.drain()

    def part(self, path: str, xml: str) -> bytes:
        self.archive.writestr(path, xml.encode("utf-8"))
        return self.sink.drain()

    def finish(self) -> bytes:
        self.archive.close()
        return self.sink.drain()


def xlsx_stream(dataset: Dataset, names: list[str], rows: Iterable[dict[str, Any]], *,
                max_rows: int = MAX_ROWS, max_sheet_bytes: int = SHEET_BYTES) -> Iterator[bytes]:
    """The workbook's bytes, in chunks. Field names are the header, as in the CSV and the API.

    `max_rows` (header included) and `max_sheet_bytes` (of XML) say when the data goes on to a new sheet.
    """
    return (chunk for chunk in _chunks(dataset, names, rows, max_rows, max_sheet_bytes) if chunk)


def _chunks(dataset: Dataset, names: list[str], rows: Iterable[dict[str, Any]], max_rows: int,
            max_sheet_bytes: int) -> Iterator[bytes]:
    fields = [dataset.schema.field(n) for n in names]
    sheet = SheetXml(len(names), [i for i, f in enumerate(fields) if f.type == "date"])
    widths = [_column_width(f) for f in fields]
    header = sheet.header(names)
    out = _Writer()
    out.open_sheet(sheet.head(widths, freeze_header=True, selected=True) + header)
    number = 1  # the row last written on the open sheet
    shortened: list[tuple[int, str]] = []  # cells cut to fit, as (column, reference) on any data sheet
    for row in rows:
        if number >= max_rows or out.sheet_bytes + out.pending_bytes >= max_sheet_bytes:
            yield out.close_sheet(sheet.tail)
            shortened += _on_sheet(sheet, out.sheets)
            out.open_sheet(sheet.head(widths, freeze_header=True) + header)
            number = 1
        number += 1
        out.add(sheet.row(number, [row.get(n) for n in names]))
        if out.pending_bytes >= CHUNK_BYTES:
            yield out.flush()
    yield out.close_sheet(sheet.tail)
    shortened += _on_sheet(sheet, out.sheets)
    data_sheets = out.sheets

    dictionary = SheetXml(len(DICTIONARY_COLUMNS))
    out.open_sheet(dictionary.head([w for _, _, w in DICTIONARY_COLUMNS], freeze_header=True)
                   + dictionary.header([title for _, title, _ in DICTIONARY_COLUMNS]))
    last = 1
    for last, entry in enumerate(dictionary_rows(dataset, names), 2):
        out.add(dictionary.row(last, entry))
    blank = [""] * (len(DICTIONARY_COLUMNS) - 1)
    for number, note in enumerate(shortened_note(names, shortened), last + 2):  # below one blank row
        out.add(dictionary.row(number, [note, *blank]))
    yield out.close_sheet(dictionary.tail)

    sheet_names = [data_sheet_name(i) for i in range(1, data_sheets + 1)] + [DICTIONARY_SHEET]
    created = utcnow().replace(microsecond=0).isoformat() + "Z"
    yield out.part("xl/styles.xml", STYLES)
    yield out.part("xl/workbook.xml", workbook(sheet_names))
    yield out.part("xl/_rels/workbook.xml.rels", workbook_rels(len(sheet_names)))
    yield out.part("docProps/core.xml", core_properties(dataset.title("vi"), created))
    yield out.part("docProps/app.xml", app_properties(APPLICATION))
    yield out.part("_rels/.rels", ROOT_RELS)
    yield out.part("[Content_Types].xml", content_types(len(sheet_names)))
    yield out.finish()
