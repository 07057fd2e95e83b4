"""A batch's columns from CSV records read by Arrow (ingest.readers.csv_arrow), and their normalisation.

The pipeline takes records in blocks while its row stream stands right after a data row. A block Arrow read
is a table of text columns: its leading records that are plainly data (four cells or more holding something
other than whitespace, so neither blank nor notes) are used as they are, column by column, with no Python step
per record; the first record that is not goes back, and the row stream (ingest.readers._table.data_rows)
gives it and those after it as it always does, so row numbers and row shapes are the same either way.

A column then reaches the normalisers as Arrow holds it: when its values repeat enough (the rule of
ingest.cells), Arrow's dictionary encoding hands over its distinct values and codes, so each distinct value is
normalised once and no cell becomes a Python string; otherwise it becomes a list of str in one C++ pass.

Spreadsheets and JSON hand over blocks too (ingest.readers.blocks): a column holding cells that are not text
(numbers, dates, booleans, JSON objects) reaches the normalisers as the reader's cells, as it always did. A
reader without blocks (`records` None) gives every row through the row stream: the same loop serves it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, TypeAlias

import pyarrow
import pyarrow.compute as pc

from ingest.cells import REPEAT_SAMPLE, ChangeLog, Memo, by_codes, normalise_column
from ingest.readers._table import Blocks, Row, plainly_data
from ingest.readers.blocks import TypedBlock
from ingest.readers.csv_arrow import Block

__all__ = ["take_columns", "cells_of", "normalise_arrow", "plain_rows", "Column"]

Column: TypeAlias = Any  # a list of cells, or a pyarrow.Array of text
_TEXT = {str, type(None)}
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # every str.isspace() character


def plain_rows(block: pyarrow.Table | TypedBlock) -> int:
    """How many of the block's first records are plainly data: more than three cells holding something other
    than whitespace (what `data_rows` gives as it is, when every record has the header's width)."""
    filled = []
    full = 0
    for column in block.columns:
        mask = pc.greater(pc.binary_length(pc.utf8_ltrim(column, characters=_WHITESPACE)), 0)
        if pc.all(mask).as_py() is not False:
            full += 1
            if full > 3:
                return int(block.num_rows)
        filled.append(mask.cast(pyarrow.int32()))
    if not filled:
        return 0
    count = filled[0]
    for mask in filled[1:]:
        count = pc.add(count, mask)
    first = pc.index(pc.greater(count, 3), False).as_py()
    return int(block.num_rows if first < 0 else first)


def take_columns(rows: Iterator[Row], records: Blocks | None, size: int, clean: bool, width: int,
                 indices: Sequence[int], bulk: int) -> tuple[list[int], dict[int, Column], bool]:
    """Up to `size` rows as `rows` gives them, as (row numbers, {index: the cells of source column index},
    whether the stream stands right after a data row): while it does, records are taken in blocks of up to
    `bulk` and their plainly data ones used as they are."""
    numbers: list[int] = []
    parts: list[Block] = []  # tables and lists of records, in row order
    loose: list[list[Any]] = []  # records from the row stream since the last block
    while len(numbers) < size:
        if clean and records is not None and not records.given_back:
            first, block = records.block(min(size - len(numbers), bulk))
            if not isinstance(block, list):  # a pyarrow.Table or a TypedBlock
                plain = plain_rows(block)
                if plain:
                    parts.extend((loose, block.slice(0, plain)) if loose else (block.slice(0, plain),))
                    loose = []
                    numbers.extend(range(first, first + plain))
                if plain < block.num_rows:
                    records.give_back(first + plain, block.slice(plain))
                elif plain:
                    continue
            elif plainly_data(block, width):
                parts.extend((loose, block) if loose else (block,))
                loose = []
                numbers.extend(range(first, first + len(block)))
                continue
            else:
                records.give_back(first, block)
        item = next(rows, None)
        if item is None:
            break
        numbers.append(item[0])
        loose.append(item[1])
        clean = item[1].count(None) != len(item[1])  # a blank row comes out as Nones: others may follow
    if loose:
        parts.append(loose)
    return numbers, _columns(parts, indices), clean


def _columns(parts: list[Block], indices: Sequence[int]) -> dict[int, Column]:
    """The cells of each source column of `indices`: lists when no part is a table, else Arrow arrays, but for
    a column with cells that are not text (a spreadsheet's or JSON's): the reader's cells, as a list."""
    if all(isinstance(p, list) for p in parts):
        records = list(chain.from_iterable(parts))
        if not records:
            return {}
        columns = list(zip(*records, strict=True))
        del records
        return {i: list(columns[i]) for i in indices}
    out: dict[int, Column] = {}
    for i in indices:
        pieces: list[Any] = []  # Arrow chunks, or lists of cells
        for part in parts:
            if isinstance(part, list):
                pieces.append(list(map(itemgetter(i), part)))
            elif isinstance(part, TypedBlock) and i in part.typed:
                pieces.append(part.typed[i])
            else:
                pieces.extend(part.column(i).chunks)
        if any(isinstance(p, list) and not set(map(type, p)) <= _TEXT for p in pieces):
            out[i] = list(chain.from_iterable(p if isinstance(p, list) else p.to_pylist() for p in pieces))
            continue
        chunks = [pyarrow.array(p, type=pyarrow.string()) if isinstance(p, list) else p for p in pieces]
        out[i] = chunks[0] if len(chunks) == 1 else pyarrow.concat_arrays(chunks)
    return out


def cells_of(column: Column) -> list[Any]:
    """A column's cells as a list (str, None for a blank row's cells)."""
    if isinstance(column, list):
        return column
    cells: list[Any] = column.to_pylist()  # pyarrow 26: twice as fast as to_numpy().tolist() for text
    return cells


def _dictionary(column: pyarrow.Array) -> tuple[Any, list[str]] | None:
    """(codes, distinct values) of a column whose values repeat enough for the dictionary path, by the rule of
    ingest.cells._repeats (each value four times on average; first cells nearly all different: no)."""
    n = len(column)
    if n < 64:
        return None
    sample = column.slice(0, REPEAT_SAMPLE)
    if pc.count_distinct(sample, mode="all").as_py() * 10 > len(sample) * 9:
        return None
    encoded = column.dictionary_encode()
    if (len(encoded.dictionary) + (1 if column.null_count else 0)) * 4 > n:
        return None
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes, encoded.dictionary.to_pylist()


def normalise_arrow(field: str, rule: str, spec: Mapping, column: Column, rows: Sequence[int],
                    missing_values: frozenset[str], log: ChangeLog | None, *, texts_only: bool = True,
                    memo: Memo | None = None) -> list[str | None]:
    """normalise_column of a column held by Arrow (texts), with the same values and change log; a column given
    as a list, as normalise_column takes it (`texts_only`: its cells are str or None, as a CSV reader's).
    `memo`: the field's texts normalised in earlier batches (ingest.cells.Memo)."""
    if isinstance(column, list):
        return normalise_column(field, rule, spec, column, rows, missing_values, log, texts_only=texts_only,
                                memo=memo)
    if rule != "text" and (encoded := _dictionary(column)) is not None:
        return by_codes(field, rule, spec, *encoded, rows, missing_values, log, memo)
    return normalise_column(field, rule, spec, cells_of(column), rows, missing_values, log, texts_only=True,
                            by_dictionary=False, memo=memo)
