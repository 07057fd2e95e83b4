"""rows-to-fix.xlsx: the rejected rows, as the steward sent them, with what is wrong, to fix in Excel.

Sheet 1 holds the rejected rows under the file's own column headers (so the fixed sheet maps to the same
fields when it is validated or ingested again), every cell as text (a cell starting with = is written as
text too, never as a live formula) (leading zeros of codes and phone numbers
survive), the bad cells filled red with the problem as a cell comment, then two extra columns: what to fix
(Vietnamese and English) and the row number in the source file. Those two headers name no field, so ingest
ignores them. Sheet 2 lists the quality findings (validate/quality.py), sheet 3 says how to use the file.

A load replaces the whole dataset: paste the fixed rows back into the full file before ingesting it, or only
the fixed rows would remain.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from .render_model import label, row_messages

__all__ = ["rows_from_frame", "write_rows_to_fix"]

BAD = PatternFill("solid", fgColor="FBD5D1")
HEAD = PatternFill("solid", fgColor="E8EEF4")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
TEXT = "@"
MAX_ROWS = 1_048_575  # Excel's limit, less the header

Row = tuple[int, dict[str, Any]]


def rows_from_frame(frame: Any) -> list[Row]:
    """(source row number, {field: text}) from the invalid rows the validator returned (pipeline Outcome)."""
    if frame is None or len(frame) == 0:
        return []
    fields = [c for c in frame.columns if not str(c).startswith("_")]
    out = []
    for record in frame.to_dict("records"):
        data = {f: _text(record.get(f)) for f in fields}
        out.append((int(record["_row"]), data))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _columns(report: dict[str, Any], rows: list[Row]) -> list[tuple[str, str]]:
    """(header to write, field) in the source file's column order; field names when the mapping is unknown."""
    source = (report.get("hub") or {}).get("source") or {}
    mapping: dict[str, str] = source.get("mapping") or {}
    headers = [h for h in source.get("headers") or mapping.keys() if h in mapping]
    columns, seen = [], set()
    for header in headers:
        name = mapping[header]
        if name not in seen:
            seen.add(name)
            columns.append((header, name))
    if not columns:
        labels = ((report.get("tasks") or [{}])[0]).get("labels") or []
        names = labels or list(dict.fromkeys(k for _, data in rows for k in data))
        columns = [(name, name) for name in names]
    return columns


def _cell(ws: Any, value: Any, *, fill: PatternFill | None = None, comment: str | None = None,
          bold: bool = False, wrap: bool = False) -> Cell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # control characters XML cannot hold
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a rejected cell is text as sent, never a live formula (=HYPERLINK(...))
    cell.number_format = TEXT
    if fill is not None:
        cell.fill = fill
    if bold:
        cell.font = BOLD
    if wrap:
        cell.alignment = WRAP
    if comment:
        cell.comment = Comment(comment[:30_000], "hub")
    return cell


def write_rows_to_fix(path: Path | str, report: dict[str, Any], rows: Iterable[Row],
                      primary_key: list[str] | None = None) -> Path:
    """Write the workbook; `rows` are (source row number, {field: text}) of the rejected rows. With the schema's
    `primary_key`, a repeated key's cells are marked like any other bad cell."""
    path = Path(path)
    rows = sorted(rows, key=lambda r: r[0])[:MAX_ROWS]
    problems = row_messages(report, primary_key)
    columns = _columns(report, rows)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sửa lỗi - Fix")
    ws.freeze_panes = "A2"
    for index in range(1, len(columns) + 1):
        ws.column_dimensions[_letter(index)].width = 18
    ws.column_dimensions[_letter(len(columns) + 1)].width = 70
    fix_header = f"{label('what_to_fix', 'vi')} / {label('what_to_fix', 'en')}"
    row_header = f"{label('source_row', 'vi')} / {label('source_row', 'en')}"
    ws.append([_cell(ws, h, fill=HEAD, bold=True) for h, _ in columns]
              + [_cell(ws, fix_header, fill=HEAD, bold=True), _cell(ws, row_header, fill=HEAD, bold=True)])
    for number, data in rows:
        found = problems.get(number, [])
        by_field: dict[str, list[str]] = {}
        for p in found:
            for name in p["fields"]:
                by_field.setdefault(name, []).append(f"{p['messages'].get('vi', '')}\n{p['messages'].get('en', '')}")
        cells = []
        for _, name in columns:
            notes = by_field.get(name)
            cells.append(_cell(ws, data.get(name), fill=BAD if notes else None,
                               comment="\n\n".join(notes) if notes else None))
        what = "\n".join(f"• {p['messages'].get('vi', '')}\n  {p['messages'].get('en', '')}" for p in found)
        cells.append(_cell(ws, what or None, wrap=True))
        cells.append(_cell(ws, str(number)))
        ws.append(cells)
    _quality_sheet(wb, report)
    _help_sheet(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _quality_sheet(wb: Workbook, report: dict[str, Any]) -> None:
    ws = wb.create_sheet("Chất lượng - Quality")
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (10, 24, 10, 50, 50, 50, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.append([_cell(ws, text, fill=HEAD, bold=True) for text in (
        "Dòng / Row", "Loại / Type", "Mức / Severity", "Yêu cầu (tiếng Việt)", "Expectation (English)",
        "Giá trị / Values", "Không đạt / Not met")])
    for e in (report.get("quality") or {}).get("expectations") or []:
        if e.get("success"):
            continue
        severity = "chặn / block" if e.get("severity") == "block" else "cảnh báo / warn"
        listed = e.get("rows") or [{"rowNumber": None, "values": {}}]
        for item in listed:
            hidden = set(item.get("hidden") or [])
            values = "; ".join(f"{k} = {'***' if k in hidden else v}" for k, v in (item.get("values") or {}).items())
            if item.get("same_as"):
                values += f" (= {', '.join(str(r) for r in item['same_as'])})"
            ws.append([_cell(ws, str(item["rowNumber"]) if item.get("rowNumber") else ""), _cell(ws, e.get("type")),
                       _cell(ws, severity), _cell(ws, e["description"]["vi"], wrap=True),
                       _cell(ws, e["description"]["en"], wrap=True), _cell(ws, values, wrap=True),
                       _cell(ws, f"{e.get('unexpected', 0)} / {e.get('checked', 0)}")])


def _help_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet("Hướng dẫn - Help")
    ws.column_dimensions["A"].width = 120
    for line in (
        "Trang «Sửa lỗi - Fix»: các dòng bị loại, tiêu đề cột giữ như tệp gốc. Ô lỗi tô đỏ, rê chuột để xem lỗi.",
        "Sửa trực tiếp trong trang này, kiểm tra lại bằng «hub validate <bộ dữ liệu> rows-to-fix.xlsx»,",
        "rồi chép các dòng đã sửa vào tệp gốc (theo cột «Dòng gốc») và nạp lại toàn bộ tệp: mỗi lần nạp thay cả bộ dữ liệu.",
        "Trang «Chất lượng - Quality»: dòng hợp lệ nhưng chưa đạt yêu cầu chất lượng (mức «chặn» thì tệp không được nạp).",
        "",
        "Sheet «Sửa lỗi - Fix»: the rejected rows under the source file's own headers. Bad cells are red; hover for the problem.",
        "Fix them here, check with «hub validate <dataset> rows-to-fix.xlsx», then copy the fixed rows back into the",
        "source file (see «Source row») and ingest the whole file again: each load replaces the whole dataset.",
        "Sheet «Chất lượng - Quality»: valid rows that miss a quality expectation (a «block» one refuses the file).",
    ):
        ws.append([line])


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
