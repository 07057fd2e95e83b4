"""Downloads "for people": what a citizen opens in Excel, next to the machine forms programs read.

- headers are the schema's titles (Vietnamese by default), not field names;
- enum values are their labels ("Khách sạn", not `khach_san`), foreign keys are followed by the referenced
  record's name (a "Xã/phường" column after "Mã xã/phường"), dates are dates, yes/no is Có/Không;
- the Excel workbook has fitted column widths, a frozen header row, an autofilter, and an information sheet:
  publisher, licence, version and its date, link, the filters applied, the row count and how to cite it;
- the rows are those of a query, so a download keeps the filters, search and sort the person chose.

Geometries are left out (they are in the GeoJSON), and so is everything the viewer may not see: the rows come
from publish.query.iter_records like every other export.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.catalog import Dataset, Field
from core.errors import HubError
from publish import versions
from publish.access import ANONYMOUS, Viewer, visible_fields
from publish.exports.csv import safe_cell
from publish.labels import Names, names_for, references
from publish.query import Query, iter_records
from publish.store import Store

MAX_ROWS = 100_000  # rows of a download for people; the machine forms have no such limit
WIDTH_SAMPLE = 500  # rows read before the widths are fitted
MIN_WIDTH, MAX_WIDTH = 8, 60
DATA_SHEET = {"vi": "Dữ liệu", "en": "Data"}
ABOUT_SHEET = {"vi": "Thông tin", "en": "About"}
YES_NO = {"vi": ("Có", "Không"), "en": ("Yes", "No")}
ABOUT_LABELS = {
    "dataset": {"vi": "Bộ dữ liệu", "en": "Dataset"},
    "publisher": {"vi": "Cơ quan xuất bản", "en": "Publisher"},
    "licence": {"vi": "Giấy phép", "en": "Licence"},
    "version": {"vi": "Phiên bản", "en": "Version"},
    "version_date": {"vi": "Ngày của phiên bản", "en": "Version date"},
    "link": {"vi": "Đường dẫn", "en": "Link"},
    "filters": {"vi": "Bộ lọc đã áp dụng", "en": "Filters applied"},
    "rows": {"vi": "Số bản ghi", "en": "Records"},
    "cite": {"vi": "Cách trích dẫn", "en": "How to cite"},
    "attribution": {"vi": "Nguồn gốc", "en": "Attribution"},
    "downloaded": {"vi": "Tải về lúc", "en": "Downloaded at"},
}
NO_FILTER = {"vi": "Không (toàn bộ bộ dữ liệu)", "en": "None (the whole dataset)"}

__all__ = ["MAX_ROWS", "Column", "about", "people_columns", "people_csv", "people_rows", "people_xlsx"]


class TooManyRows(HubError):
    code = "too-many-rows"


@dataclass
class Column:
    header: str
    value: Callable[[dict[str, Any]], Any]
    kind: str  # text, number, date


def _reference_header(f: Field, target: Dataset, lang: str) -> str:
    """The name column's header, from the key field's title: "Mã xã/phường" -> "Xã/phường", "Commune/ward code"
    -> "Commune/ward"; else the referenced dataset's title."""
    title = f.title(lang)
    if lang == "vi" and title.lower().startswith("mã "):
        rest = title[3:].strip()
        return rest[:1].upper() + rest[1:]
    if title.lower().endswith(" code"):
        return title[: -len(" code")].strip()
    return target.schema.descriptor.get("titles", {}).get(lang) or target.title(lang)


def _cell(f: Field, lang: str) -> Callable[[dict[str, Any]], Any]:
    name = f.name
    if f.enum:
        return lambda row: f.enum_label(row[name], lang) if row.get(name) not in (None, "") else None
    if f.type == "boolean":
        yes, no = YES_NO[lang]
        return lambda row: None if row.get(name) is None else (yes if row[name] else no)
    if f.type == "date":
        return lambda row: date.fromisoformat(row[name]) if isinstance(row.get(name), str) else row.get(name)
    if f.type == "datetime":
        return lambda row: datetime.fromisoformat(row[name]) if isinstance(row.get(name), str) else row.get(name)
    return lambda row: row.get(name)


def _named(name: str, names: Names, lang: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: names.name(row.get(name), lang)


def people_columns(store: Store, dataset: Dataset, viewer: Viewer = ANONYMOUS, lang: str = "vi") -> list[Column]:
    """The columns of a download for people, in schema order; each foreign key followed by its names."""
    refs = {r.field: r for r in references(dataset, store.catalog, viewer)}
    out = []
    for name in visible_fields(dataset, viewer):
        f = dataset.schema.field(name)
        if f.type == "geojson":
            continue
        kind = ("number" if f.type in ("integer", "number") else "date" if f.type in ("date", "datetime") else "text")
        out.append(Column(f.title(lang), _cell(f, lang), "text" if f.enum else kind))
        if name in refs:
            target = store.catalog.datasets[refs[name].target]
            out.append(Column(_reference_header(f, target, lang), _named(name, names_for(store, target), lang), "text"))
    return out


def people_rows(store: Store, dataset: Dataset, query: Query, viewer: Viewer = ANONYMOUS, lang: str = "vi"
                ) -> tuple[list[Column], Iterator[list[Any]]]:
    """(columns, rows as lists of values for people) of the query's records (all of them, in its order)."""
    columns = people_columns(store, dataset, viewer, lang)
    wanted = Query(filters=list(query.filters), q=query.q, bbox=query.bbox, near=query.near, commune=query.commune,
                   sort=list(query.sort), limit=0, version=query.version)
    records = iter_records(store, dataset, wanted, viewer)

    def rows() -> Iterator[list[Any]]:
        for n, row in enumerate(records):
            if n >= MAX_ROWS:
                raise TooManyRows(f"Bản tải cho người đọc có tối đa {MAX_ROWS:,} dòng: hãy lọc bớt hoặc dùng bản CSV",
                                  f"A download for people holds at most {MAX_ROWS:,} rows: filter further or use the CSV",
                                  dataset=dataset.id)
            yield [c.value(row) for c in columns]

    return columns, rows()


def about(store: Store, dataset: Dataset, *, url: str, rows: int, filters: str, lang: str = "vi",
          version: int | None = None) -> list[tuple[str, str]]:
    """The information sheet's (label, text) lines, from the catalogue and the dataset's history."""
    catalog = store.catalog
    publisher = catalog.publishers.get(dataset.publisher, {})
    publisher_name = (publisher.get("name") or {}).get(lang) or (publisher.get("name") or {}).get("vi") or dataset.publisher
    licence = catalog.licences.get(dataset.licence, {})
    licence_text = " — ".join(str(p) for p in (licence.get("title") or dataset.licence, licence.get("url")) if p)
    history = versions.versions(store, dataset.id)
    current = next((v for v in history if version is None or v["version"] == version), None)
    day = ""
    if current and current.get("finished_at"):
        moment = datetime.fromisoformat(current["finished_at"])
        day = moment.strftime("%d/%m/%Y") if lang == "vi" else moment.strftime("%Y-%m-%d")
    number = str(current["version"]) if current else "—"
    title = dataset.title(lang)
    year = day[-4:] if lang == "vi" and day else day[:4]
    if lang == "vi":
        cite = f"{publisher_name} ({year or 'không rõ năm'}). {title}, phiên bản {number} ({day}). {url}. Giấy phép: {licence.get('title') or dataset.licence}."
    else:
        cite = f"{publisher_name} ({year or 'n.d.'}). {title}, version {number} ({day}). {url}. Licence: {licence.get('title') or dataset.licence}."
    lines = [
        ("dataset", title), ("publisher", publisher_name), ("licence", licence_text), ("version", number),
        ("version_date", day), ("link", url), ("filters", filters or NO_FILTER[lang]), ("rows", f"{rows}"),
        ("cite", cite),
    ]
    if dataset.entry.get("attribution"):
        lines.append(("attribution", str(dataset.entry["attribution"])))
    from publish.store import utcnow

    lines.append(("downloaded", utcnow().strftime("%Y-%m-%d %H:%M UTC")))
    return [(ABOUT_LABELS[k][lang], v) for k, v in lines]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def people_csv(store: Store, dataset: Dataset, query: Query, viewer: Viewer = ANONYMOUS, lang: str = "vi"
               ) -> Iterator[bytes]:
    """CSV for people: UTF-8 with a BOM (Excel opens it right), titles as headers, labels and names, dates as
    dd/mm/yyyy; cells that a spreadsheet would run as formulas are defused as in the machine CSV."""
    columns, rows = people_rows(store, dataset, query, viewer, lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([c.header for c in columns])
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(v if isinstance(v, (int, float)) and not isinstance(v, bool) else _text(v))
                         for v in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _width(value: Any) -> int:
    text = _text(value)
    return max((len(line) for line in text.splitlines()), default=0)


def people_xlsx(store: Store, dataset: Dataset, query: Query, viewer: Viewer = ANONYMOUS, *, url: str,
                filters: str = "", lang: str = "vi") -> bytes:
    """The Excel workbook for people (see the module's docstring), as bytes. Written by openpyxl in write-only
    mode through a temporary file, so rows are not all kept in memory (MAX_ROWS bounds the file)."""
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns, rows = people_rows(store, dataset, query, viewer, lang)
    first: list[list[Any]] = []
    for row in rows:  # the first rows fit the widths
        first.append(row)
        if len(first) >= WIDTH_SAMPLE:
            break
    widths = [min(MAX_WIDTH, max(MIN_WIDTH, len(c.header) + 2, *(_width(r[i]) + 2 for r in first)))
              for i, c in enumerate(columns)]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(DATA_SHEET[lang])
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF2")

    def header_cell(text: str) -> Cell:
        c = WriteOnlyCell(sheet, text)
        c.font, c.fill = bold, fill
        c.alignment = Alignment(vertical="top", wrap_text=True)
        return c

    sheet.append([header_cell(c.header) for c in columns])
    count = 0

    def out(row: list[Any]) -> list[Any]:
        cells: list[Any] = []
        for value, column in zip(row, columns, strict=True):
            if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
                value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # control characters XML cannot hold
            if isinstance(value, str) and value.startswith("="):  # text, never a formula
                c = WriteOnlyCell(sheet, value)
                c.data_type = "s"
                cells.append(c)
            elif column.kind == "date" and isinstance(value, date):
                c = WriteOnlyCell(sheet, value)  # type: ignore[arg-type]  # openpyxl writes a date; its stubs say datetime
                c.number_format = "DD/MM/YYYY" if lang == "vi" else "YYYY-MM-DD"
                cells.append(c)
            else:
                cells.append(value)
        return cells

    for row in first:
        sheet.append(out(row))
        count += 1
    for row in rows:
        sheet.append(out(row))
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"

    info = book.create_sheet(ABOUT_SHEET[lang])
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 100
    for label, text in about(store, dataset, url=url, rows=count, filters=filters, lang=lang, version=query.version):
        value = WriteOnlyCell(info, text)
        value.data_type = "s"
        value.alignment = Alignment(wrap_text=True, vertical="top")
        label_cell = WriteOnlyCell(info, label)
        label_cell.font = bold
        info.append([label_cell, value])
    with tempfile.TemporaryFile() as handle:
        book.save(handle)
        handle.seek(0)
        return handle.read()
