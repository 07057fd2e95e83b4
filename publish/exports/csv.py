"""CSV export, streamed. Cells that a spreadsheet would run as a formula (= + - @, tab, CR) are prefixed with
an apostrophe (OWASP "CSV injection"); `bom=True` lets Excel open Vietnamese text as UTF-8."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        # a negative number written as text is data, not a formula
        if value.startswith("-") and _is_number(value):
            return value
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_chunks(fields: list[str], rows: Iterable[dict[str, Any]], *, bom: bool = False,
               rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV text in chunks of a few hundred rows, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(fields)
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(row.get(f)) for f in fields])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
