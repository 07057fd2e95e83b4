"""CSV and TSV files, streamed.

The delimiter is sniffed from the first lines (',', ';', tab, '|'; Excel in Vietnamese locale writes ';'),
the encoding detected (ingest.encodings) unless given. Physical lines are read with a length limit so a
10 MB line without a newline (a broken export, a binary file) is refused instead of filling memory.
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Generator, Iterator
from itertools import islice
from pathlib import Path

from core.errors import EncodingError, InputError
from ingest.encodings import check_encoding, detect_encoding
from ingest.headers import HeaderMatcher
from ingest.readers._table import HEAD_ROWS, RawTable, Row, Shape, data_rows, locate_header
from ingest.readers.csv_arrow import ArrowRecords, PieceReader, Source

ARROW_WIDTH = 4  # narrower tables never have plainly data rows to take in bulk: the row reader reads them

__all__ = ["read_csv", "MAX_LINE"]

MAX_LINE = 1_000_000  # characters in one physical line
SAMPLE = 256 * 1024
_DELIMITERS = (",", ";", "\t", "|")


def _sample(path: Path) -> bytes:
    """The file's start; when it is pure ASCII, also bytes from further in (legacy letters may come late)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
        if head.isascii() and size > SAMPLE:
            for frac in (0.25, 0.5, 0.75):
                fh.seek(int(size * frac))
                chunk = fh.read(SAMPLE // 4)
                if not chunk.isascii():
                    return head + b"\n" + chunk[chunk.find(b"\n") + 1 :]
    return head


def _sniff(text: str, tsv: bool) -> str:
    if tsv:
        return "\t"
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    best, best_score = ",", -1.0
    for delim in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim) if r]
        except csv.Error:  # a field longer than csv's limit: the line check will report it
            continue
        if not counts:
            continue
        widest = max(counts)
        if widest < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) * min(mode, 50) + (0.01 if mode == widest else 0)
        if score > best_score:
            best, best_score = delim, score
    return best


def _too_long(number: int, file: str) -> InputError:
    return InputError(
        f"Dòng {number} dài hơn {MAX_LINE:,} ký tự: tệp hỏng hoặc không phải CSV",
        f"Line {number} is longer than {MAX_LINE:,} characters: a broken file or not CSV",
        code="line-too-long",
        file=file,
        row=number,
    )


def _bad_bytes(codec: str, number: int, file: str, error: Exception) -> EncodingError:
    return EncodingError(
        f"Dòng {number} có byte không đọc được theo bảng mã {codec}",
        f"Line {number} has bytes that are not valid {codec}",
        file=file,
        row=number,
        detail=str(error),
    )


def _bad_line(path: Path, codec: str) -> int:
    """The number of the first physical line whose bytes do not decode (read again, only after an error)."""
    number = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(codec)
            except UnicodeDecodeError:
                return number
    return number + 1


def _lines(path: Path, codec: str, file: str) -> Generator[str, None, None]:
    """Physical lines, decoded, each at most MAX_LINE long. Decoding runs in C on the whole stream; an
    undecodable byte is then reported with its own line number, found by reading the file again."""
    number = 0
    line_by_line = codec.startswith(("utf-16", "utf-32"))  # lines cannot be re-split in bytes
    with open(path, encoding=codec, newline="") as stream:
        readline = stream.readline
        while True:
            try:
                line = readline(MAX_LINE + 1)
            except UnicodeDecodeError as e:
                raise _bad_bytes(codec, number + 1 if line_by_line else _bad_line(path, codec), file, e) from None
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE:
                raise _too_long(number, file)
            yield line


def _csv_error(e: csv.Error, number: int, file: str) -> InputError:
    return InputError(
        f"Không đọc được bản ghi CSV số {number}: {e}",
        f"Cannot parse CSV record {number}: {e}",
        code="csv-error",
        file=file,
        row=number,
    )


def read_csv(path: Path, matcher: HeaderMatcher, *, encoding: str | None = None, tsv: bool = False) -> RawTable:
    """Open a CSV/TSV file; headers are read (and checked) now, rows stream when iterated."""
    file = os.fspath(path)
    sample = _sample(path)
    if not sample.strip():
        raise InputError("Tệp rỗng", "The file is empty", code="empty-file", file=file)
    codec = check_encoding(encoding, file=file) if encoding else detect_encoding(sample, file=file)
    text_sample = sample[:SAMPLE].decode(codec, errors="replace")
    delimiter = _sniff(text_sample.lstrip("\ufeff"), tsv or path.suffix.lower() == ".tsv")
    lines = _lines(path, codec, file)  # holds the open file: closed when the rows end or fail
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    head: list[Row] = []
    at_end = False
    try:
        while len(head) < HEAD_ROWS:
            cells = next(reader, None)
            if cells is None:
                at_end = True
                break
            if not head and cells and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]
            head.append((len(head) + 1, cells))
        if not head:
            raise InputError("Tệp rỗng", "The file is empty", code="empty-file", file=file)
        index, depth, headers, alts = locate_header(head, matcher, file=file)
    except csv.Error as e:
        lines.close()
        raise _csv_error(e, len(head) + 1, file) from None
    except BaseException:
        lines.close()
        raise

    shapes: dict[int, Shape] = {}
    rest = [cells for _, cells in head[index + depth :]]  # read already
    records: _Records | ArrowRecords
    if len(headers) >= ARROW_WIDTH:
        lines.close()
        records = _arrow_records(path, codec, file, delimiter, rest, len(head), None if at_end else reader.line_num,
                                 len(headers))
    else:
        records = _Records(reader, len(head), file, lines)
        records.give_back(index + depth + 1, rest)

    def rows() -> Iterator[Row]:
        try:
            yield from data_rows([], records, 0, len(headers), text=True, shapes=shapes)
        finally:
            records.close()

    alternatives = {h: a for h, a in zip(headers, alts, strict=True) if a}
    return RawTable(
        headers=headers, rows=rows(), encoding=codec, alternatives=alternatives, shapes=shapes, records=records,
        texts_only=True,
    )


def _arrow_records(path: Path, codec: str, file: str, delimiter: str, rest: list[list[str]], done: int,
                   lines_read: int | None, width: int) -> ArrowRecords:
    """The records after the head (`done` records in `lines_read` lines; None: the whole file), `rest` of the
    head's first, read by Arrow where it gives what the row reader gives (ingest.readers.csv_arrow)."""

    def restart(done: int) -> _Records:  # the row reader, run up to record `done`
        lines = _lines(path, codec, file)
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
        try:
            deque(islice(reader, done), maxlen=0)  # read once already, without error
        except BaseException:
            lines.close()
            raise
        return _Records(reader, done, file, lines)

    def source() -> Source:
        assert lines_read is not None
        return Source(path, codec, lines_read)

    reader = PieceReader(delimiter, width, MAX_LINE)
    return ArrowRecords(rest, done, None if lines_read is None else source, restart, reader)


class _Records:
    """(record number, cells) for the records after the first `done`; a csv error names its record.

    `block` hands over many records at once, read in C, for the pipeline's fast path (RawTable.records)."""

    def __init__(self, reader: Iterator[list[str]], done: int, file: str,
                 lines: Generator[str, None, None] | None = None) -> None:
        self._reader = reader
        self._file = file
        self._lines = lines
        self.number = done
        self._back: list[list[str]] = []  # records handed over in bulk and given back, in reverse order

    def __iter__(self) -> _Records:
        return self

    def __next__(self) -> Row:
        if self._back:
            cells = self._back.pop()
        else:
            try:
                cells = next(self._reader)
            except csv.Error as e:
                raise _csv_error(e, self.number + 1, self._file) from None
        self.number += 1
        return self.number, cells

    @property
    def given_back(self) -> bool:
        """Whether records given back are still to come through `next`."""
        return bool(self._back)

    def block(self, size: int) -> tuple[int, list[list[str]]]:
        """(number of the first, up to `size` records, read in C); [] at the end. Not while records given
        back are still to come."""
        assert not self._back
        first = self.number + 1
        records: list[list[str]] = []
        try:
            records.extend(islice(self._reader, size))  # the records read before an error stay in the list
        except csv.Error as e:
            raise _csv_error(e, first + len(records), self._file) from None
        self.number += len(records)
        return first, records

    def give_back(self, first: int, records: list[list[str]]) -> None:
        """Records from `block` not used: `next` gives them again, numbered from `first` on."""
        self._back.extend(reversed(records))
        self.number = first - 1

    def close(self) -> None:
        """Close the file the lines come from."""
        if self._lines is not None:
            self._lines.close()
