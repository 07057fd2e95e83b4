"""CSV and TSV files, streamed.

The delimiter is sniffed from the first lines (',', ';', tab, '|'; Excel in Vietnamese locale writes ';'),
the encoding detected (ingest.encodings) unless given. Physical lines are read with a length limit so a
10 MB line without a newline (a broken export, a binary file) is refused instead of filling memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from hub.errors import EncodingError, InputError
from ingest.encodings import check_encoding, detect_encoding
from ingest.headers import HeaderMatcher
from ingest.readers._table import HEAD_ROWS, RawTable, Row, data_rows, locate_header

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


def _lines(path: Path, codec: str, file: str) -> Iterator[str]:
    """Physical lines, decoded, each at most MAX_LINE long. ASCII-based codecs are decoded line by line
    so an undecodable byte is reported on its own line; UTF-16 goes through a text stream."""
    number = 0
    if codec.startswith(("utf-16", "utf-32")):
        with open(path, encoding=codec, newline="") as stream:
            while True:
                try:
                    line = stream.readline(MAX_LINE + 1)
                except UnicodeDecodeError as e:
                    raise _bad_bytes(codec, number + 1, file, e) from None
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE:
                    raise _too_long(number, file)
                yield line
    with path.open("rb") as fh:
        while line := fh.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise _too_long(number, file)
            try:
                yield line.decode(codec)
            except UnicodeDecodeError as e:
                raise _bad_bytes(codec, number, file, e) from None


def _records(lines: Iterator[str], delimiter: str, file: str) -> Iterator[Row]:
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise InputError(
                f"Không đọc được bản ghi CSV số {number + 1}: {e}",
                f"Cannot parse CSV record {number + 1}: {e}",
                code="csv-error",
                file=file,
                row=number + 1,
            ) from None
        number += 1
        yield number, cells


def read_csv(path: Path, matcher: HeaderMatcher, *, encoding: str | None = None, tsv: bool = False) -> RawTable:
    """Open a CSV/TSV file; headers are read (and checked) now, rows stream when iterated."""
    file = os.fspath(path)
    sample = _sample(path)
    if not sample.strip():
        raise InputError("Tệp rỗng", "The file is empty", code="empty-file", file=file)
    codec = check_encoding(encoding, file=file) if encoding else detect_encoding(sample, file=file)
    text_sample = sample[:SAMPLE].decode(codec, errors="replace")
    delimiter = _sniff(text_sample.lstrip("\ufeff"), tsv or path.suffix.lower() == ".tsv")
    records = _records(_lines(path, codec, file), delimiter, file)
    try:
        head: list[Row] = []
        for row in records:
            if head == [] and row[1] and row[1][0].startswith("\ufeff"):
                row[1][0] = row[1][0][1:]
            head.append(row)
            if len(head) >= HEAD_ROWS:
                break
        if not head:
            raise InputError("Tệp rỗng", "The file is empty", code="empty-file", file=file)
        index, depth, headers, alts = locate_header(head, matcher, file=file)
    except BaseException:
        records.close()
        raise

    def rows() -> Iterator[Row]:
        try:
            yield from data_rows(head, records, index + depth, len(headers))
        finally:
            records.close()

    alternatives = {h: a for h, a in zip(headers, alts, strict=True) if a}
    return RawTable(headers=headers, rows=rows(), encoding=codec, alternatives=alternatives)
