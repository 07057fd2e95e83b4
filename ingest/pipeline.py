"""read_table: a source file to batches of canonical text rows for validation.

reader (one per format) -> header mapping (aliases) -> column normalisers -> row step (coordinates) ->
pandas DataFrames of str/None, one column per schema field in schema order plus "_row", the source row
number counted like frictionless (header = 1) or, for spreadsheets, the sheet's own row number.

A batch is built column by column (ingest.cells), with Python's cyclic garbage collector paused: building
tens of thousands of row lists triggers collections that walk every object of the process, which cost a
third of the reading time, and none of these objects form cycles.

Rows are taken in blocks while they are plainly data (regular length, not blank, not notes): CSV records
read by Arrow or in bulk by the csv module, a spreadsheet's or a JSON file's rows as Arrow text columns
(ingest.readers.blocks); any other record goes through the reader's row stream
(ingest.readers._table.data_rows) as before, so row numbers and row shapes are the same either way. One loop
takes both (ingest.columnar.take_columns).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas

from core.errors import InputError
from ingest.cells import Change, ChangeLog, Memo, normalise_column
from ingest.columnar import cells_of, normalise_arrow, take_columns
from ingest.geometry import fix_points
from ingest.headers import VN2000_X, VN2000_Y, HeaderMatcher, map_headers
from ingest.plan import plan_fields
from ingest.readers._table import RawTable

__all__ = ["read_table", "SourceTable", "Change", "MAX_CHANGES", "FORMATS", "READABLE", "READABLE_NAMES", "format_for"]

MAX_CHANGES = 10_000  # the report shows these; the rest are counted (changes_total)
_BULK = 8192  # records taken at once in a block: a record that is not plainly data sends as many row by row
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".json": "json",
    ".geojson": "geojson",
}
"""File name suffix -> the reader that opens it: the one list of what the hub reads."""
READABLE = tuple(dict.fromkeys(FORMATS.values()))  # csv, xlsx, xls, json, geojson: the values a `format` may take
_ALIASES = {suffix.lstrip("."): fmt for suffix, fmt in FORMATS.items()}  # 'tsv' -> csv, 'xlsm' -> xlsx...
READABLE_NAMES = ", ".join("GeoJSON" if f == "geojson" else f.upper() for f in READABLE)


class SourceTable:
    """A source file opened for ingest: what was found in it, and its rows as batches."""

    def __init__(self, path: Path, format: str, raw: RawTable, schema: Mapping, matcher: HeaderMatcher) -> None:
        self.path = path
        self.format = format
        self.encoding = raw.encoding
        self.sheet = raw.sheet
        self.headers = [h for h in raw.headers if h]
        found = map_headers(self.headers, matcher, raw.alternatives)
        self.mapping = found.mapping
        self.unknown_columns = found.unknown_columns
        self.missing_fields = found.missing_fields
        self._log = ChangeLog(MAX_CHANGES)
        self.rows_read = 0
        self._raw = raw
        self._schema = schema
        self._fields = [f["name"] for f in schema.get("fields", [])]
        self._specs = {f["name"]: f for f in schema.get("fields", [])}
        self._plan = plan_fields(schema)
        # each distinct text of a field normalised once per file (ingest.cells.Memo)
        self._memos = {name: Memo() for name, rule in self._plan.items() if rule in Memo.RULES}
        self._missing_values = frozenset(v for v in schema.get("missingValues", [""]) if v)
        self._width = len(raw.headers)  # source columns, blank-headed ones too: a full row's length
        self._columns: list[tuple[int, str]] = []  # (index in raw cells, target)
        for index, header in enumerate(raw.headers):
            target = self.mapping.get(header) if header else None
            if target and target not in {t for _, t in self._columns}:
                self._columns.append((index, target))
        self._consumed = False

    def __repr__(self) -> str:
        return (
            f"SourceTable({os.fspath(self.path)!r}, format={self.format!r}, encoding={self.encoding!r}, "
            f"sheet={self.sheet!r}, mapping={self.mapping!r})"
        )

    @property
    def changes(self) -> list[Change]:
        """Cells the normalisers changed, in file order (the first MAX_CHANGES of them)."""
        return self._log.kept

    @property
    def changes_not_kept(self) -> int:
        """Changes past MAX_CHANGES: counted, not kept."""
        return self._log.not_kept

    @property
    def changes_total(self) -> int:
        """Every cell the normalisers changed, kept or not."""
        return len(self._log.kept) + self._log.not_kept

    def batches(self, size: int = 50_000) -> Iterator[pandas.DataFrame]:
        """DataFrames of at most `size` rows; the file is streamed, so this can be iterated once."""
        if self._consumed:
            raise RuntimeError("SourceTable.batches() can be iterated only once")
        self._consumed = True
        rows = iter(self._raw.rows)
        indices = [index for index, _ in self._columns]
        clean = False
        while True:
            with _gc_paused():  # the row lists die inside, before the collector is back
                numbers, columns, clean = take_columns(rows, self._raw.records, size, clean, self._width, indices,
                                                       _BULK)
                frame = self._frame(numbers, columns)
            if frame is None:
                return
            yield frame

    def _frame(self, rows: list[int], columns: dict[int, Any]) -> pandas.DataFrame | None:
        """The batch of rows numbered `rows`, from the cells of each source column the schema takes (lists, or
        Arrow arrays, from ingest.columnar); a column's raw cells go once it is normalised."""
        if not rows:
            return None
        self.rows_read += len(rows)
        n = len(rows)
        data: dict[str, list[str | None]] = {}
        plane: dict[str, list[str | None]] = {}
        for index, target in self._columns:
            cells = columns.pop(index)
            if target in (VN2000_X, VN2000_Y):
                plane[target] = normalise_column(target, "number", {}, cells_of(cells), rows, self._missing_values,
                                                 None)
                continue
            data[target] = normalise_arrow(target, self._plan[target], self._specs[target], cells, rows,
                                           self._missing_values, self._log, texts_only=self._raw.texts_only,
                                           memo=self._memos.get(target))
        geometry = self._schema.get("geometry") or {}
        if geometry.get("type") == "point" and geometry.get("latitude") in self._specs:
            lat, lon = geometry["latitude"], geometry["longitude"]
            for name in (lat, lon):  # filled from VN-2000 columns when the file has no lat/lon
                data.setdefault(name, [None] * n)
            commune = next((f for f, r in self._plan.items() if r == "commune"), None)
            fix_points(
                lat,
                lon,
                data[lat],
                data[lon],
                plane.get(VN2000_X),
                plane.get(VN2000_Y),
                data.get(commune) if commune else None,
                rows,
                self._log.add,
            )
        empty = [None] * n
        shapes = self._raw.shapes
        odd = [(k, shapes.pop(number)) for k, number in enumerate(rows) if number in shapes] if shapes else []
        missing = [0] * n
        extra: list[list[str] | None] = [None] * n
        for k, (lacking, beyond) in odd:
            missing[k] = self._missing_fields(self._width - lacking, data, k)
            for name in self._fields[len(self._fields) - missing[k]:]:
                if name in data:
                    data[name][k] = None  # the validator's contract: a missing cell holds nothing
            extra[k] = beyond
        frame = pandas.DataFrame({name: pandas.Series(data.get(name, empty), dtype=object) for name in self._fields})
        frame["_row"] = pandas.Series(rows, dtype="int64")
        if odd:  # rows of another length than the header: the validator reports missing and extra cells
            frame["_missing"] = pandas.Series(missing, dtype="int64")
            frame["_extra"] = pandas.Series(extra, dtype=object)
        return frame

    def _missing_fields(self, present: int, data: Mapping[str, list[str | None]], k: int) -> int:
        """How many trailing schema fields row `k`, of `present` source cells, lacks, as the validator counts.

        The validator (like frictionless) takes a short row's missing cells to be the last fields of the
        schema. That is exact when the source columns come in schema order; otherwise the trailing fields
        that are absent (their column beyond the row's end), or empty with no column in the file, are
        counted, and an absent field before them stays empty, which a `required` constraint still reports."""
        absent = {target for index, target in self._columns if index >= present}
        mapped = {target for _, target in self._columns}
        count = 0
        for name in reversed(self._fields):
            value = data[name][k] if name in data else None
            if name not in absent and (name in mapped or value is not None):
                break
            count += 1
        while count and self._fields[len(self._fields) - count] not in absent:
            count -= 1  # start at an absent field: a column the whole file lacks is not this row's fault
        return count


@contextmanager
def _gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def format_for(path: Path | str, format: str | None = None) -> str:
    """The reader for a file: `format` when given (a suffix such as 'tsv' or 'xlsm' is taken too), else the
    file name's suffix; InputError (unsupported-format) when the hub cannot read it."""
    path = Path(path)
    if format:
        wanted = format.lower().lstrip(".")
        fmt = _ALIASES.get(wanted, wanted)
    else:
        fmt = FORMATS.get(path.suffix.lower(), "")
    if fmt not in READABLE:
        raise InputError(
            f"Không hỗ trợ định dạng tệp '{format or path.suffix}' ({READABLE_NAMES})",
            f"Unsupported file format '{format or path.suffix}' ({READABLE_NAMES})",
            code="unsupported-format",
            file=os.fspath(path),
        )
    return fmt


def read_table(
    path: Path | str,
    schema: dict,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    format: str | None = None,
    header_overrides: dict[str, str] | None = None,
) -> SourceTable:
    """Open a source file for `schema`. Unreadable input raises an InputError subclass now, before any row."""
    path = Path(path)
    file = os.fspath(path)
    if not path.is_file():
        raise InputError("Không tìm thấy tệp", "File not found", code="file-not-found", file=file)
    if path.stat().st_size == 0:
        raise InputError("Tệp rỗng", "The file is empty", code="empty-file", file=file)
    fmt = format_for(path, format)
    matcher = HeaderMatcher(schema, header_overrides)
    if fmt == "csv":
        from ingest.readers.csv import read_csv

        tsv = (format or "").lower() == "tsv" or path.suffix.lower() in (".tsv", ".tab")
        raw = read_csv(path, matcher, encoding=encoding, tsv=tsv)
    elif fmt == "xlsx":
        from ingest.readers.xlsx import read_xlsx

        raw = read_xlsx(path, matcher, sheet=sheet)
    elif fmt == "xls":
        from ingest.readers.xls import read_xls

        raw = read_xls(path, matcher, sheet=sheet)
    elif fmt == "json":
        from ingest.readers.json import read_json

        raw = read_json(path, matcher, encoding=encoding)
    else:
        from ingest.readers.geojson import read_geojson

        raw = read_geojson(path, matcher, schema, encoding=encoding)
    return SourceTable(path, fmt, raw, schema, matcher)
