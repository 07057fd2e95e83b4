"""Validate a canonical CSV file (UTF-8, comma, header row = the schema's field names, in order).

The file is read as Python's csv module reads it (frictionless's reader), so rows are numbered the same way
(header = row 1; an empty line is a row, and a blank one): by Arrow's parser where it reads the same
(arrow_csv.py), by the csv module itself otherwise. Rows of a different length than the header are
passed on with the batch contract of validator.py ("_missing", "_extra"). Header problems (labels that
differ from the schema) are the ingest stage's job and are not reported here.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .arrow_csv import ArrowUnreadable, arrow_can_read, arrow_csv_batches
from .report import Report
from .schema import compile_schema
from .validator import Validator

BATCH_SIZE = 50_000


def _frame(records: list[list[str]], first_row: int, names: list[str]) -> pd.DataFrame:
    n = len(names)
    missing = np.zeros(len(records), dtype=np.int64)
    extra: list[Any] = [None] * len(records)
    padded: list[list[Any]] = records if set(map(len, records)) <= {n} else []
    for k, cells in enumerate(records if not padded else ()):
        width = len(cells)
        if width == n:
            padded.append(cells)
        elif width < n:
            padded.append(cells + [None] * (n - width))
            missing[k] = n - width
        else:
            padded.append(cells[:n])
            extra[k] = cells[n:]
    table = np.empty((len(records), n), dtype=object)  # numpy transposes the rows in C, not zip(*rows)
    if len(records):
        table[:] = padded
    frame = pd.DataFrame(table, columns=names, dtype=object)  # object: no str inference of every column
    frame["_row"] = np.arange(first_row, first_row + len(records), dtype=np.int64)
    frame["_missing"] = missing
    extras = np.empty(len(records), dtype=object)
    extras[:] = extra
    frame["_extra"] = extras
    return frame


def read_csv_batches(
    path: str | Path, names: list[str], *, batch_size: int = BATCH_SIZE, encoding: str = "utf-8"
) -> Iterator[pd.DataFrame]:
    """Batches of text rows in the validator's input shape; the header row is skipped.

    Arrow's CSV parser reads the files it reads exactly as Python's csv module does (arrow_csv.py); from the
    first row it cannot, Python's csv module reads the rest."""
    path = Path(path)
    given = 0
    if arrow_can_read(len(names), encoding):
        try:
            for frame in arrow_csv_batches(path, names, batch_size=batch_size):
                given += len(frame)
                yield frame
            return
        except ArrowUnreadable:
            pass
    yield from _python_csv_batches(path, names, batch_size=batch_size, encoding=encoding, skip=given)


def _python_csv_batches(
    path: Path, names: list[str], *, batch_size: int, encoding: str, skip: int = 0
) -> Iterator[pd.DataFrame]:
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for _ in range(skip):
            next(reader, None)
        records: list[list[str]] = []
        first_row = 2 + skip
        for cells in reader:
            records.append(cells)
            if len(records) >= batch_size:
                yield _frame(records, first_row, names)
                first_row += len(records)
                records = []
        if records:
            yield _frame(records, first_row, names)


def _file_stats(path: Path) -> dict[str, Any]:
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest(), "bytes": size}


def validate_file(
    path: str | Path,
    schema: dict[str, Any],
    *,
    batch_size: int = BATCH_SIZE,
    encoding: str = "utf-8",
    **kw: Any,
) -> Report:
    """Validate a CSV file against a schema; keyword arguments go to `Validator`."""
    path = Path(path)
    kw.setdefault("source", str(path))
    validator = Validator(schema, **kw)
    names = compile_schema(schema).field_names
    with ThreadPoolExecutor(max_workers=1) as pool:  # hashlib lets go of the GIL: the hashes come for free
        stats = pool.submit(_file_stats, path)
        for frame in read_csv_batches(path, names, batch_size=batch_size, encoding=encoding):
            validator.scan(frame)
        report = validator.finish()
        report.stats.update(stats.result())
    if not report.name:
        report.name = path.stem
    return report
