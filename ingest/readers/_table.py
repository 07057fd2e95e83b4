"""What every reader hands to the pipeline, and the report-sheet shape shared by CSV and spreadsheets.

Department report sheets put a title block above the table ("UBND TỈNH ĐỒNG NAI ... DANH SÁCH ..."),
merge header cells over two or three rows ("Địa chỉ" over "Xã/phường" and "Số nhà"), sometimes add a
row of column numbers "(1) (2) (3)", and end with notes and signatures ("Ghi chú:", "Người lập biểu").
We find the header row by how many schema fields it names, flatten the header levels to "Parent Child"
and stop at the first notes row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import chain
from operator import itemgetter
from typing import Any, Protocol

from core.errors import HeaderError
from core.text import match_words
from ingest.headers import HeaderMatcher

__all__ = ["RawTable", "Blocks", "Row", "Shape", "locate_header", "data_rows", "is_note_row", "is_blank", "plainly_data"]

Row = tuple[int, list[Any]]
#: a row of another length than the header: (cells it lacked at the end, texts of the cells beyond the header)
Shape = tuple[int, list[str] | None]
HEAD_ROWS = 30
_NOTE_PREFIXES = (
    "ghi chu",
    "luu y",
    "nguoi lap",
    "nguoi ky",
    "noi nhan",
    "thu truong",
    "giam doc",
    "pho giam doc",
    "ke toan",
    "xac nhan",
    "lanh dao",
    "truong phong",
    "ky ghi ro",
    "ky ten",
    "tm ",
    "kt ",
    "ubnd",
)
_SIGNED_DATE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")
_NUMBERING = re.compile(r"[(\[]?(\d{1,2})[)\]]?")


class Blocks(Protocol):
    """The records under a header, for the pipeline's fast path (ingest.columnar.take_columns): while the row
    stream stands right after a data row, records can be taken in blocks instead of row by row; those that are
    not plainly data rows are given back, and the row stream then gives them as it always does. A block is a
    list of records (the csv module's, ingest.readers.csv), a pyarrow.Table of text columns (CSV read by Arrow,
    ingest.readers.csv_arrow) or a TypedBlock (spreadsheets and JSON, ingest.readers.blocks)."""

    @property
    def given_back(self) -> bool: ...

    def block(self, size: int) -> tuple[int, Any]: ...

    def give_back(self, first: int, records: Any) -> None: ...


@dataclass
class RawTable:
    headers: list[str]
    rows: Iterator[Row]
    encoding: str | None = None
    sheet: str | None = None
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    #: rows of another length than the header, filled in by `data_rows` as the rows stream
    shapes: dict[int, Shape] = field(default_factory=dict)
    #: the records under the header, when the reader can hand them over in blocks
    records: Blocks | None = None
    #: every cell is str or None (CSV)
    texts_only: bool = False


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, (datetime, date, time)):
        return cell.isoformat()
    return unicodedata.normalize("NFC", " ".join(str(cell).split()))


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or not cell.isspace() and cell != "")


def is_blank(cells: Sequence[Any]) -> bool:
    return not any(_filled(c) for c in cells)


def is_note_row(cells: Sequence[Any]) -> bool:
    """A notes or signature row below the table: few cells, starting with 'Ghi chú', 'Người lập biểu'..."""
    if sum(1 for c in cells if _filled(c)) > 3:
        return False
    texts = [_text(c) for c in cells if _text(c)]
    if not texts or len(texts) > 3 or not isinstance(next(c for c in cells if _text(c)), str):
        return False
    first = match_words(texts[0])
    return first.startswith(_NOTE_PREFIXES) or (len(texts) <= 2 and bool(_SIGNED_DATE.search(first)))


def _is_numbering_row(cells: Sequence[Any]) -> bool:
    texts = [_text(c) for c in cells if _text(c)]
    if len(texts) < 3:
        return False
    numbers = []
    for text in texts:
        m = _NUMBERING.fullmatch(text.removesuffix(".0"))
        if not m:
            return False
        numbers.append(int(m[1]))
    return numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] in (0, 1)


def _looks_like_label(cell: Any) -> bool:
    if not isinstance(cell, str):
        return False
    text = cell.strip()
    return bool(text) and not re.fullmatch(r"[\d\s.,/:\-+()%]+", text)


def flatten(levels: Sequence[Sequence[Any]]) -> tuple[list[str], list[list[str]]]:
    """Header levels (top first) to one header per column: 'Parent Child'; alternatives: child, parent."""
    width = max(len(r) for r in levels)
    grid = [[_text(r[i]) if i < len(r) else "" for i in range(width)] for r in levels]
    for li in range(len(grid) - 1):  # a merged parent spans the blanks to its right that have children
        last = ""
        for c in range(width):
            if grid[li][c]:
                last = grid[li][c]
            elif last and any(grid[lj][c] for lj in range(li + 1, len(grid))):
                grid[li][c] = last
            else:
                last = ""
    headers, alternatives = [], []
    for c in range(width):
        parts: list[str] = []
        for li in range(len(grid)):
            if grid[li][c] and grid[li][c] not in parts:
                parts.append(grid[li][c])
        headers.append(" ".join(parts))
        alternatives.append(list(reversed(parts)) if len(parts) > 1 else [])
    return headers, alternatives


def _is_subheader(levels: Sequence[Sequence[Any]], row: Sequence[Any]) -> bool:
    top = levels[0]
    cells = [(c, v) for c, v in enumerate(row) if _text(v)]
    if not cells or any(not _looks_like_label(v) for _, v in cells):
        return False

    def above(c: int) -> str:
        return " ".join(_text(lv[c]) for lv in levels if c < len(lv))

    for c, _ in cells:
        if not above(c).strip():
            continue
        starts_group = c + 1 < len(top) and not _text(top[c + 1]) and c + 1 < len(row) and _text(row[c + 1])
        if not starts_group:
            return False
    return True


HeaderFound = tuple[int, int, list[str], list[list[str]]]  # first header row's index, rows, headers, alternatives


def locate_header(head: Sequence[Row], matcher: HeaderMatcher, *, file: str,
                  sheet: str | None = None) -> HeaderFound:
    """Index of the header's first row, number of header rows, flattened headers and alternatives."""
    best: tuple[int, int, int, list[str], list[list[str]]] | None = None
    for i, (_, cells) in enumerate(head):
        if not any(_looks_like_label(c) for c in cells):
            continue
        levels = [cells]
        headers, alts = flatten(levels)
        score = matcher.score(headers, alts)
        j = i + 1
        while len(levels) < 3 and j < len(head) and _is_subheader(levels, head[j][1]):
            h2, a2 = flatten([*levels, head[j][1]])
            s2 = matcher.score(h2, a2)
            if s2 < score:
                break
            levels.append(head[j][1])
            headers, alts, score = h2, a2, s2
            j += 1
        if score > 0 and (best is None or score > best[0]):
            best = (score, i, len(levels), headers, alts)
    if best is None:
        raise HeaderError(
            "Không tìm thấy dòng tiêu đề cột nào khớp với lược đồ",
            "No header row naming any field of the schema was found",
            file=file,
            sheet=sheet,
        )
    _, index, depth, headers, alts = best
    return index, depth, headers, alts


def data_rows(
    head: Sequence[Row],
    rest: Iterator[Row],
    start: int,
    width: int,
    *,
    text: bool = False,
    shapes: dict[int, Shape] | None = None,
) -> Iterator[Row]:
    """Rows after the header, each `width` cells long: a column-numbering row skipped, stop at notes.

    A blank row between data rows is kept, its cells None: the validator reports it as frictionless does.
    Blank rows before the first data row or after the last one (spacers under a title or a header, before
    the notes) are dropped. Rows of another length than the header are cut or padded, and their shape goes
    to `shapes` (row number -> (cells the row lacked, texts beyond the header up to the last filled one)):
    with `text` (CSV: a row's length is what the file holds) both; for spreadsheets, whose rows have no
    length of their own, only the cells beyond the header. Empty cells beyond the header (a trailing
    delimiter) hold nothing to lose and are not reported.

    With `text` (CSV: every cell a str) a row with more than three cells holding something other than
    whitespace is plainly data, found with C-level list methods instead of a look at each cell."""
    rows = chain(head[start:], rest)
    shapes = {} if shapes is None else shapes
    for number, cells in rows:  # only the first row that is not blank may be a column-numbering row
        if is_blank(cells):
            continue
        if _is_numbering_row(cells):
            break
        if is_note_row(cells):
            return
        yield number, _shaped(number, cells, width, text, shapes)
        break
    isspace = str.isspace
    blanks: list[Row] = []  # held until a data row shows they are inside the table
    for number, cells in rows:
        if not (text and len(cells) - cells.count("") > 3 and not any(map(isspace, cells))):
            if is_blank(cells):
                blanks.append((number, cells))
                continue
            if is_note_row(cells):
                return
        if blanks:
            for blank_number, blank in blanks:
                _shaped(blank_number, blank, width, text, shapes)
                yield blank_number, [None] * width
            blanks.clear()
        yield number, cells if len(cells) == width and text else _shaped(number, cells, width, text, shapes)


def plainly_data(records: Sequence[Sequence[Any]], width: int) -> bool:
    """Whether `data_rows`, standing right after a data row, gives each of `records` as it is: every record
    `width` cells long (no shape to record) and four of its cells or more holding something (not blank,
    not a notes row). Checked column by column, in C, on the columns that are filled in every record."""
    if not records or set(map(len, records)) != {width}:
        return False
    filled = 0
    for j in range(width):
        column = list(map(itemgetter(j), records))
        if "" not in column and not any(map(str.isspace, column)):
            filled += 1
            if filled > 3:
                return True
    return False


def _shaped(number: int, cells: Sequence[Any], width: int, text: bool, shapes: dict[int, Shape]) -> list[Any]:
    """`cells` cut or padded to `width`; a short or long row's shape recorded in `shapes`."""
    size = len(cells)
    if size > width:
        extra = list(cells[width:])
        while extra and not _filled(extra[-1]):  # a trailing delimiter or the sheet's last column: no data
            extra.pop()
        if extra:
            shapes[number] = (0, extra if text else [_text(c) for c in extra])
    elif size < width and text:
        shapes[number] = (width - size, None)
    return _fit(cells, width)


def _fit(cells: Sequence[Any], width: int) -> list[Any]:
    return list(cells[:width]) + [None] * (width - len(cells))
