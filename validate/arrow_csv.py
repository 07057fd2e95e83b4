"""Read a canonical CSV file with Arrow's CSV parser, for the files Python's csv module reads the same way.

Python's csv module (what frictionless reads with, and `files.read_csv_batches` falls back to) spends about a
microsecond per cell; Arrow's parser is an order of magnitude faster. The two agree on the files Arrow reads
without complaint except for one case: an empty line, which Python reads as a row without cells and Arrow as a
row of empty cells. So Arrow is used only when
- the encoding is UTF-8 and the schema has more than one field (a one-field row cannot be told from an empty
  line),
- and, as Arrow finds while reading, no row has only empty cells (an empty line reads so; a row of empty cells
  goes to Python too, which is only slower), every row has as many cells as the schema has fields, every byte is
  valid UTF-8, every quote is closed and no cell is longer than Python's csv.field_size_limit().
On anything else `ArrowUnreadable` is raised (possibly after some batches were given): the caller goes on with
Python's csv module from the first row not given yet.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv


class ArrowUnreadable(Exception):
    """The file (from some row on) must be read by Python's csv module."""


def arrow_can_read(n_fields: int, encoding: str) -> bool:
    """The checks that come before reading: UTF-8 and more than one field."""
    try:
        return n_fields >= 2 and codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _check(table: pa.Table) -> None:
    """Refuse a batch with a row of only empty cells (perhaps an empty line) or a cell too long for Python."""
    limit = csv.field_size_limit()
    empty: pa.Array | None = None
    for column in table.columns:
        lengths = pc.binary_length(column)
        if pc.max(lengths).as_py() > limit and pc.max(pc.utf8_length(column)).as_py() > limit:
            raise ArrowUnreadable("a cell longer than csv.field_size_limit()")
        zero = pc.equal(lengths, 0)
        empty = zero if empty is None else pc.and_(empty, zero)
    if empty is not None and pc.any(empty).as_py():
        raise ArrowUnreadable("a row of empty cells: an empty line?")


def _frame(columns: list[pa.ChunkedArray], names: list[str], first_row: int) -> pd.DataFrame:
    n = len(columns[0])
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' str: Arrow memory, no Python objects
    data = {name: pd.array(col, dtype=dtype) for name, col in zip(names, columns, strict=True)}
    frame = pd.DataFrame(data)
    frame["_row"] = np.arange(first_row, first_row + n, dtype=np.int64)
    frame["_missing"] = np.zeros(n, dtype=np.int64)
    frame["_extra"] = np.full(n, None, dtype=object)
    return frame


def arrow_csv_batches(path: Path, names: list[str], *, batch_size: int) -> Iterator[pd.DataFrame]:
    """Batches in the validator's input shape (see files.py); raises ArrowUnreadable where Python must take
    over (the batches already given stay valid)."""
    n = len(names)
    columns = [f"c{k}" for k in range(n)]

    def refuse(_row: object) -> str:
        return "error"

    try:
        reader = pa_csv.open_csv(
            str(path),
            read_options=pa_csv.ReadOptions(column_names=columns, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        pending: list[pa.RecordBatch] = []
        held = 0
        first_row = 1  # the header is read as a data row and dropped
        header = True
        for batch in reader:
            if header:
                batch, header, first_row = batch.slice(1), False, 2
            pending.append(batch)
            held += len(batch)
            while held >= batch_size:
                table = pa.Table.from_batches(pending)
                out, rest = table.slice(0, batch_size), table.slice(batch_size)
                _check(out)
                yield _frame([out.column(k) for k in range(n)], names, first_row)
                first_row += batch_size
                pending, held = rest.to_batches(), len(rest)
        if held:
            table = pa.Table.from_batches(pending)
            _check(table)
            yield _frame([table.column(k) for k in range(n)], names, first_row)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ArrowUnreadable(str(exc)) from exc
