"""The SpreadsheetML (Office Open XML) parts of an .xlsx, written as text.

Why by hand: openpyxl's write-only mode and XlsxWriter's constant_memory mode both spend 20-30 µs a cell in
generic per-cell code (about 3,000 rows/s for a 14-column dataset); the export knows each column's type from
the schema, so one row is one string join (ECMA-376 Part 1, §18.3.1 worksheet, §18.8 styles).

What the parts hold: text as inline strings (`t="inlineStr"`: no shared-string table kept in memory), numbers
and booleans as values, ISO dates as date serials in a `yyyy-mm-dd` format, a bold header row frozen in place.
A text cell is never a formula, whatever its first character; characters XML 1.0 cannot hold (control
characters from old spreadsheets) are dropped, and CR is kept as `&#13;` so it is read back as written.

Excel holds at most 32,767 characters (UTF-16 code units) in a cell and asks to "repair" a workbook with a
longer one, dropping its text. A longer text (in practice a boundary polygon's GeoJSON) is written cut at a
separator and followed by TOO_LONG, which says where the whole text is; `SheetXml.shortened` lists those
cells so the workbook can say so too.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import quoteattr

MAX_ROWS = 1_048_576  # rows in an Excel sheet, the header included
STYLE_DATE, STYLE_BOLD = 1, 2  # indexes into cellXfs of STYLES
EXCEL_EPOCH = date(1899, 12, 30)  # serial 0; serials below 61 are ambiguous (Excel's 1900 leap-year bug)
FIRST_SERIAL_DATE = date(1900, 3, 1)

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAX_CELL_CHARS = 32_767  # Excel's limit on a cell's text, in UTF-16 code units
TOO_LONG = " … [quá dài cho Excel, xem bản CSV/GeoJSON | too long for Excel, see the CSV/GeoJSON download]"
_SHORT = MAX_CELL_CHARS // 2  # a text of at most this many characters fits whatever they are
# where to cut, best first: between GeoJSON positions, between WKT pairs (or after a comma), between words
_CUTS = (re.compile(r"\]\s*,"), re.compile(r"[,;]"), re.compile(r"\s"))
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def column_letter(index: int) -> str:
    """`0` -> `A`, `26` -> `AA`."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape_text(text: str) -> str:
    """`text` as XML character data, without the characters XML 1.0 cannot hold."""
    if not _SPECIAL.search(text):
        return text
    text = _ILLEGAL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_cell(text: str) -> str:
    """`text`, or when Excel cannot hold it in one cell, its beginning cut after a separator near the limit
    (a coordinate pair is not split) or else between characters, followed by TOO_LONG: at most
    MAX_CELL_CHARS in all."""
    if len(text) <= _SHORT or _utf16_length(text) <= MAX_CELL_CHARS:
        return text
    budget = MAX_CELL_CHARS - _utf16_length(TOO_LONG)
    end = budget
    while (excess := _utf16_length(text[:end]) - budget) > 0:  # characters beyond the BMP count twice
        end -= (excess + 1) // 2
    for cut in _CUTS:
        found = [m.end() for m in cut.finditer(text, max(0, end - 200), end)]
        if found:
            end = found[-1]
            break
    while end and unicodedata.combining(text[end]):  # a mark stays with its letter
        end -= 1
    return text[:end].rstrip() + TOO_LONG


def _inline(ref: str, text: str, style: str = "") -> str:
    if not text:
        return ""
    # Leading or trailing blanks are dropped by XML readers unless the element says to keep them.
    space = ' xml:space="preserve"' if text[0] <= " " or text[-1] <= " " else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def date_serial(text: str) -> int | None:
    """Excel's day number of an ISO date, or None when the text is no date Excel can show as one."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if day < FIRST_SERIAL_DATE:
        return None
    return (day - EXCEL_EPOCH).days


class SheetXml:
    """One worksheet's XML, row by row. `date_columns` hold ISO date text to be written as dates."""

    def __init__(self, width: int, date_columns: Sequence[int] = ()) -> None:
        self.refs = [f'<c r="{column_letter(i)}' for i in range(width)]
        self.dates = frozenset(date_columns)
        self.shortened: list[tuple[int, str]] = []  # (column, reference) of each cell cut to fit (fit_cell)

    def head(self, widths: Sequence[float], *, freeze_header: bool, selected: bool = False) -> str:
        """Everything before the first row: the view (header frozen), the column widths."""
        tab = ' tabSelected="1"' if selected else ""
        if freeze_header:
            view = (f'<sheetView{tab} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
                    ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>')
        else:
            view = f'<sheetView{tab} workbookViewId="0"/>'
        cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        return (f'{_DECLARATION}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheetViews>{view}</sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/>{"<cols>" + cols + "</cols>" if cols else ""}<sheetData>')

    tail = "</sheetData></worksheet>"

    def header(self, titles: Sequence[str]) -> str:
        """Row 1: bold text."""
        style = f' s="{STYLE_BOLD}"'
        cells = "".join(_inline(f"{column_letter(i)}1", t, style) for i, t in enumerate(titles) if t)
        return f'<row r="1">{cells}</row>'

    def row(self, number: int, values: Sequence[Any]) -> str:
        """Row `number` (1-based). None and empty text leave the cell empty."""
        n = str(number)
        parts = [f'<row r="{n}">']
        append = parts.append
        dates = self.dates
        for i, (ref, v) in enumerate(zip(self.refs, values, strict=True)):
            if v is None or v == "":
                continue
            kind = type(v)
            if kind is str:
                if i in dates and (serial := date_serial(v)) is not None:
                    append(f'{ref}{n}" s="{STYLE_DATE}"><v>{serial}</v></c>')
                    continue
                if len(v) > _SHORT:
                    v = self._fit(v, i, n)
                space = ' xml:space="preserve"' if v[0] <= " " or v[-1] <= " " else ""
                if _SPECIAL.search(v):
                    v = escape_text(v)
                append(f'{ref}{n}" t="inlineStr"><is><t{space}>{v}</t></is></c>')
            elif kind is int or kind is float or kind is Decimal:
                if kind is int or math.isfinite(v):
                    append(f'{ref}{n}"><v>{v}</v></c>')
                else:  # NaN and infinities are no Excel number: shown as text
                    append(f'{ref}{n}" t="inlineStr"><is><t>{v}</t></is></c>')
            elif kind is bool:
                append(f'{ref}{n}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, date):  # the store's rows come as ISO text; a date object is written the same way
                text = v.isoformat()
                if kind is date and i in dates and (serial := date_serial(text)) is not None:
                    append(f'{ref}{n}" s="{STYLE_DATE}"><v>{serial}</v></c>')
                else:
                    append(f'{ref}{n}" t="inlineStr"><is><t>{text}</t></is></c>')
            else:
                append(_inline(f"{column_letter(i)}{n}", self._fit(str(v), i, n)))
        append("</row>")
        return "".join(parts)

    def _fit(self, text: str, column: int, number: str) -> str:
        fitted = fit_cell(text)
        if fitted is not text:
            self.shortened.append((column, f"{column_letter(column)}{number}"))
        return fitted


STYLES = (
    f'{_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)

ROOT_RELS = (
    f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/></Relationships>'
)


def sheet_path(index: int) -> str:
    """The zip member of the `index`-th sheet (1-based)."""
    return f"xl/worksheets/sheet{index}.xml"


def workbook(names: Sequence[str]) -> str:
    sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1))
    return (f'{_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>')


def workbook_rels(sheet_count: int) -> str:
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, sheet_count + 1))
    styles = f'<Relationship Id="rId{sheet_count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    return f'{_DECLARATION}<Relationships xmlns="{_PKG_REL_NS}">{rels}{styles}</Relationships>'


def content_types(sheet_count: int) -> str:
    office = "application/vnd.openxmlformats-officedocument"
    sheets = "".join(f'<Override PartName="/{sheet_path(i)}" ContentType="{office}.spreadsheetml.worksheet+xml"/>'
                     for i in range(1, sheet_count + 1))
    return (f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-'
            'properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{office}.extended-properties+xml"/>{sheets}</Types>')


def core_properties(title: str, created: str) -> str:
    """docProps/core.xml: the workbook's title and creation time (W3CDTF, UTC)."""
    return (f'{_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{escape_text(title)}</dc:title>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>')


def app_properties(application: str) -> str:
    return (f'{_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
            f'properties"><Application>{escape_text(application)}</Application></Properties>')
