"""Rows of spreadsheets and JSON handed to the pipeline as Arrow blocks (the `Blocks` contract of CSV read by
Arrow, ingest.readers.csv_arrow), so the columnar normaliser (ingest.columnar) serves them too.

These readers make Python rows anyway (openpyxl, xlrd, ijson), and the rows they give are final: the report
sheet's logic (title, header levels, numbering row, blank rows, notes, row shapes) has run on them already
(ingest.readers._table.data_rows). A block is a run of consecutive rows that are plainly data (more than three
cells filled), turned into one Arrow text column per source column: a cell's text as the row path sees it,
null for an empty cell. A cell that is not text (an Excel number or date, a JSON number, boolean or object)
has no text of its own: its column in the block is also kept as the reader's cells (`TypedBlock.typed`), and
that column is normalised cell by cell as today (ingest.cells reads numbers, dates and serials by their type).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow

from ingest.cells import typed_text
from ingest.readers._table import Row

__all__ = ["TypedBlock", "RowBlocks", "hand_over", "HAND_OVER"]

HAND_OVER = True  # False: the pipeline takes these readers' rows one by one (the row path, kept for comparison)
_TEXT = (str, type(None))


class TypedBlock:
    """Records as a table of text columns, and for each column where some cell is not text, the column's cells
    as the reader gave them. Sliced as a pyarrow.Table is; `columns` are the text columns."""

    __slots__ = ("table", "typed")

    def __init__(self, table: pyarrow.Table, typed: dict[int, list[Any]]) -> None:
        self.table = table
        self.typed = typed

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def columns(self) -> list[pyarrow.ChunkedArray]:
        return list(self.table.columns)

    def column(self, i: int) -> pyarrow.ChunkedArray:
        return self.table.column(i)

    def slice(self, offset: int, length: int | None = None) -> TypedBlock:
        end = self.num_rows if length is None else min(offset + length, self.num_rows)
        return TypedBlock(self.table.slice(offset, end - offset), {i: c[offset:end] for i, c in self.typed.items()})


def _plain(cells: list[Any]) -> bool:
    """More than three cells filled (ingest.readers._table._filled: something other than whitespace, or any cell
    that is not text): a row the pipeline takes as it is (ingest.columnar.plain_rows)."""
    filled = 0
    for cell in cells:
        if cell is not None and (type(cell) is not str or (cell and not cell.isspace())):
            filled += 1
            if filled > 3:
                return True
    return False


class RowBlocks:
    """A reader's final rows: `next` gives them one by one, `block(size)` up to `size` of them at once as a
    TypedBlock (the plainly data rows from the next one on, consecutively numbered), `give_back` returns rows
    of a block to `next`."""

    def __init__(self, rows: Iterator[Row], width: int) -> None:
        self._rows = rows
        self._width = width
        self._back: list[Row] = []  # rows given back or read ahead, in reverse order
        self._last: list[Row] = []  # the rows of the last block
        self.rows_in_blocks = 0  # rows handed over in blocks and not given back

    def __iter__(self) -> RowBlocks:
        return self

    def __next__(self) -> Row:
        if self._back:
            return self._back.pop()
        return next(self._rows)

    @property
    def given_back(self) -> bool:
        return bool(self._back)

    def block(self, size: int) -> tuple[int, Any]:
        """(number of the first, a TypedBlock); an empty list when the next row is not plainly data (it waits
        for `next`) or at the end. Reads no further than the rows handed over and the one after them."""
        assert not self._back
        taken: list[Row] = []
        for number, cells in self._rows:
            if not _plain(cells) or (taken and number != taken[-1][0] + 1) or len(cells) != self._width:
                self._back.append((number, cells))
                break
            taken.append((number, cells))
            if len(taken) == size:
                break
        self._last = taken
        self.rows_in_blocks += len(taken)
        if not taken:
            return (self._back[-1][0] if self._back else 0), []
        return taken[0][0], _block([cells for _, cells in taken], self._width)

    def give_back(self, first: int, records: Any) -> None:
        """Rows of the last block from number `first` on (or none: an empty list): `next` gives them again."""
        if isinstance(records, list):
            assert not records
            return
        back = [row for row in self._last if row[0] >= first]
        self._back.extend(reversed(back))
        self.rows_in_blocks -= len(back)


def _block(records: list[list[Any]], width: int) -> TypedBlock:
    """Records of `width` cells as a TypedBlock: a text column per source column, a cell that is not text written
    as the row path writes it (ingest.cells.typed_text) and its column also kept as the reader's cells."""
    columns = list(zip(*records, strict=True))
    arrays: list[pyarrow.Array] = []
    typed: dict[int, list[Any]] = {}
    for i, cells in enumerate(columns):
        if set(map(type, cells)) <= set(_TEXT):
            arrays.append(pyarrow.array(cells, type=pyarrow.string()))
            continue
        typed[i] = list(cells)
        arrays.append(pyarrow.array([c if type(c) in _TEXT else typed_text(c) for c in cells], type=pyarrow.string()))
    return TypedBlock(pyarrow.Table.from_arrays(arrays, names=[f"c{i}" for i in range(width)]), typed)


def hand_over(rows: Iterator[Row], width: int) -> tuple[Iterator[Row], RowBlocks | None]:
    """(the row stream, its blocks) for a RawTable: the rows wrapped as RowBlocks, or as they are when the hand
    over is off."""
    if not HAND_OVER:
        return rows, None
    blocks = RowBlocks(rows, width)
    return blocks, blocks
