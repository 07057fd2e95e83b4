"""CSV records under the header read by Arrow (pyarrow.csv, multi-threaded), piece by piece; a piece is used
only when it is provably what the csv module gives, and read by the csv module otherwise.

After the rows read for the header, the file is cut into pieces of about 1 MB, each ending after a line break,
in UTF-8 (a file in another encoding is decoded and written as UTF-8 as it streams, by the codecs of
ingest.encodings). Arrow reads a piece with the csv module's rules (a quote opens a field only at its start, a
doubled quote inside stands for one, text after a closing quote is kept), every cell as text: no type or null
inference, the normalisers decide what is empty. Its records are the csv module's when:
- every record has the header's width (Arrow refuses any other);
- the piece holds no empty line (Arrow reads one as a record of empty cells, csv as []: a byte search finds
  them) and does not start with a byte order mark (Arrow drops it);
- no cell is longer than csv's field size limit and no line longer than MAX_LINE (both refused by the row
  reader);
- the last cell does not end with a line break: otherwise the cut may lie inside a quoted field, and the
  piece grows by the next chunk;
- the bytes are UTF-8 (Arrow checks).
Otherwise the csv module reads the piece (its lines split as the row reader splits them). When that fails
too (a byte that does not decode, a line too long, a csv error), the rest of the file is read by the row
reader itself, started from the file's beginning and run up to the same record: what it says (the error
with its line or record number) is what it has always said.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TextIO, TypeAlias

import numpy
import pyarrow
import pyarrow.csv as arrow_csv

from ingest.readers._table import Row

__all__ = ["ArrowRecords", "Block", "CHUNK", "PieceReader", "Source"]

# bytes read at a time; a piece is a chunk cut after its last line break. 1 MB (Arrow's own block): a 4 MB
# piece, its copy and Arrow's table of it came to ~30 MB at once in a million-row ingest's batch loop, ~11 MB
CHUNK = 1 << 20
_MAX_PIECE = 64 << 20  # a piece that has grown this large (a quote left open): the row reader
_WINDOW = 64  # records turned into Python lists at a time for the row stream
_BOM = b"\xef\xbb\xbf"
Block: TypeAlias = Any  # a pyarrow.Table, or a list of records (lists of cells)


class _Bulk(Protocol):
    """The row reader's records (ingest.readers.csv._Records)."""

    number: int

    @property
    def given_back(self) -> bool: ...

    def __next__(self) -> Row: ...

    def block(self, size: int) -> tuple[int, list[list[str]]]: ...

    def give_back(self, first: int, records: list[list[str]]) -> None: ...

    def close(self) -> None: ...


class _Fallback(Exception):
    """The piece cannot be read here: the row reader takes over."""


class Source:
    """The file's bytes from the first record after the head on, as UTF-8."""

    def __init__(self, path: Path, codec: str, lines_read: int) -> None:
        text = open(path, encoding=codec, newline="")  # noqa: SIM115  (closed by close())
        head = "".join(text.readline() for _ in range(lines_read))
        self._text: TextIO | None = None
        self._bytes: BinaryIO | None = None
        if codec in ("utf-8", "utf-8-sig"):  # the bytes as they are
            text.close()
            self._bytes = open(path, "rb")  # noqa: SIM115
            bom = codec == "utf-8-sig" and self._bytes.read(3) == _BOM
            self._bytes.seek(len(head.encode("utf-8")) + (3 if bom else 0))
        else:
            self._text = text

    def read(self, size: int) -> bytes:
        if self._bytes is not None:
            return self._bytes.read(size)
        assert self._text is not None
        return self._text.read(size).encode("utf-8")

    def close(self) -> None:
        for fh in (self._bytes, self._text):
            if fh is not None:
                fh.close()


def _lines(piece: bytes) -> tuple[bool, int]:
    """(whether a line of `piece` is empty, perhaps inside a quoted field: a line break right after another;
    an upper bound of the longest line's length in characters: bytes between line feeds), from one scan for
    its line feeds (a byte search per kind of empty line took three passes over the piece)."""
    data = numpy.frombuffer(piece, dtype=numpy.uint8)
    feeds = numpy.flatnonzero(data == 10)
    longest = len(piece) if not len(feeds) else int(
        max(numpy.diff(feeds).max(initial=0), feeds[0] + 1, len(piece) - feeds[-1] - 1))
    if piece[:1] in (b"\n", b"\r"):
        return True, longest
    after = data[feeds[:-1] + 1 if len(feeds) and feeds[-1] == len(data) - 1 else feeds + 1]
    if ((after == 10) | (after == 13)).any():  # "\n\n", "\n\r"
        return True, longest
    if b"\r" in piece:  # "\r\r"
        returns = numpy.flatnonzero(data[:-1] == 13)
        if (data[returns + 1] == 13).any():
            return True, longest
    return False, longest


class PieceReader:
    """Parses pieces of one file, by Arrow when that is provably the csv module's result."""

    def __init__(self, delimiter: str, width: int, max_line: int) -> None:
        self.delimiter = delimiter
        self.width = width
        self.max_line = max_line
        names = [f"c{i}" for i in range(width)]
        self._parse = arrow_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True, ignore_empty_lines=False)
        self._convert = arrow_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pyarrow.string()), null_values=[], strings_can_be_null=False,
            quoted_strings_can_be_null=False, check_utf8=True,
        )
        self._names = names

    def arrow(self, piece: bytes, final: bool) -> pyarrow.Table | None:
        """Arrow's records of `piece` when they are the csv module's; None when that is not proven."""
        if piece.startswith(_BOM):
            return None
        empty_line, longest = _lines(piece)
        if empty_line or longest > self.max_line:
            return None
        options = arrow_csv.ReadOptions(column_names=self._names, use_threads=True)
        try:
            table = arrow_csv.read_csv(pyarrow.py_buffer(piece), read_options=options,
                                       parse_options=self._parse, convert_options=self._convert)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):  # another width, not UTF-8...
            return None
        limit = csv.field_size_limit()
        for column in table.columns:
            longest = pyarrow.compute.max(pyarrow.compute.binary_length(column)).as_py()
            if longest is not None and longest > limit:
                return None
        if not final and table.num_rows and table.column(self.width - 1)[-1].as_py().endswith("\n"):
            return None  # perhaps cut inside a quoted field
        return table

    def python(self, piece: bytes, final: bool) -> list[list[str]] | None:
        """The csv module's records of `piece`, read as the row reader reads them; None when the piece may end
        inside a quoted field. _Fallback when the row reader would fail here."""
        try:
            lines = list(io.StringIO(piece.decode("utf-8"), newline=""))
            if lines and max(map(len, lines)) > self.max_line:
                raise _Fallback
            records = list(csv.reader(lines, delimiter=self.delimiter, quotechar='"', doublequote=True))
        except (UnicodeDecodeError, csv.Error) as e:
            raise _Fallback from e
        if not final and records and records[-1] and records[-1][-1].endswith("\n"):
            return None
        return records


class ArrowRecords:
    """The records under a CSV header: what the row reader (`_Records`) gives, read by Arrow where proven.

    As `_Records`: `next` gives (number, cells), `give_back` gives records back to `next`. `block(size)` hands
    over up to `size` records at once: a pyarrow.Table of the header's width (text columns) where Arrow read
    them, else lists of cells as the row reader's `block` gives them. A table block given back is taken again from where it was
    (`give_back` with the table), so only records that are not plainly data become Python lists."""

    def __init__(self, head: list[list[str]], done: int, source: Callable[[], Source] | None,
                 restart: Callable[[int], _Bulk], reader: PieceReader) -> None:
        self.number = done - len(head)
        self._back: list[list[Any]] = list(reversed(head))  # given back, in reverse order
        self.number = done - len(head)
        self._produced = done  # records parsed so far
        self._open = source
        self._source: Source | None = None
        self._restart = restart
        self._reader = reader
        self._rest = b""  # bytes after the last piece
        self._pending: Block = []  # the current piece's records
        self._pos = 0  # the first of them not handed over
        self._first = done + 1  # number of _pending[0]
        self._old: _Bulk | None = None  # the row reader, once it has taken over
        self.arrow_pieces = self.python_pieces = 0

    # -- what the pipeline and data_rows use -------------------------------------------------------------

    def __iter__(self) -> ArrowRecords:
        return self

    def __next__(self) -> Row:
        if not self._back:
            if self._parsed_left():
                end = min(self._pos + _WINDOW, len(self._pending))
                self._back = list(reversed(_lists(self._pending, self._pos, end)))
                self._pos = end
            elif self._old is not None:
                row = next(self._old)
                self.number = self._old.number
                return row
            else:
                raise StopIteration
        self.number += 1
        return self.number, self._back.pop()

    @property
    def given_back(self) -> bool:
        return bool(self._back) or (self._old is not None and self._old.given_back)

    def block(self, size: int) -> tuple[int, Block]:
        """(number of the first, up to `size` records); an empty list at the end. Not while records given back
        are still to come."""
        assert not self.given_back
        if not self._parsed_left():
            if self._old is None:
                return self.number + 1, []
            first, records = self._old.block(size)
            self.number = self._old.number
            return first, records
        first, start = self.number + 1, self._pos
        self._pos = min(start + size, len(self._pending))
        self.number += self._pos - start
        if isinstance(self._pending, pyarrow.Table):
            return first, self._pending.slice(start, self._pos - start)
        return first, self._pending[start:self._pos]

    def give_back(self, first: int, records: Block) -> None:
        """Records from `block` not used: `next` gives them again, numbered from `first` on."""
        if self._old is not None and isinstance(records, list):
            self._old.give_back(first, records)
            self.number = self._old.number
            return
        if isinstance(records, pyarrow.Table):
            self._pos = first - self._first  # taken again from the piece
        else:
            self._back.extend(reversed(records))
        self.number = first - 1

    def close(self) -> None:
        """The row stream has ended (as the row reader's, whose file closes): no record is handed over any more."""
        self._close_source()
        self._pending, self._pos, self._back = [], 0, []
        if self._old is not None:
            self._old.close()

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
        self._source = self._open = None

    # -- pieces ------------------------------------------------------------------------------------------

    def _parsed_left(self) -> bool:
        """Whether records parsed here are left, reading the next piece when needed; False at the end of the
        file and once the row reader has taken over."""
        return self._old is None and self._ready()

    def _ready(self) -> bool:
        """Whether records of the current piece are left, reading the next piece when needed."""
        while self._pos >= len(self._pending):
            if self._open is None and self._source is None:
                return False
            try:
                if not self._next_piece():
                    return False
            except _Fallback:
                self._take_over()
                return False
        return True

    def _take_over(self) -> None:
        """The row reader reads the rest, from the record after the last one parsed here."""
        self._close_source()
        self._pending, self._pos = [], 0
        self._old = self._restart(self._produced)

    def _next_piece(self) -> bool:
        if self._source is None:
            assert self._open is not None
            try:
                self._source = self._open()
            except Exception as e:  # the row reader says what is wrong
                raise _Fallback from e
            self._open = None
        data = self._rest
        while True:
            try:
                more = self._source.read(CHUNK)
            except Exception as e:  # a byte that does not decode: the row reader says where
                raise _Fallback from e
            data += more
            final = not more
            cut = len(data) if final else data.rfind(b"\n") + 1
            if not data:
                self._close_source()
                return False
            if len(data) > _MAX_PIECE:
                raise _Fallback
            if not cut:  # no line feed yet: a line too long, or lines ended by CR alone
                if len(data) > 4 * self._reader.max_line:
                    raise _Fallback
                continue
            piece = data[:cut]
            parsed: Block | None = self._reader.arrow(piece, final)
            if parsed is not None:
                self.arrow_pieces += 1
            else:
                parsed = self._reader.python(piece, final)
                if parsed is None:
                    continue  # perhaps inside a quoted field: read on
                self.python_pieces += 1
            self._rest = data[cut:]
            self._first = self._produced + 1
            self._produced += len(parsed)
            self._pending, self._pos = parsed, 0
            if final:
                self._close_source()
            return True


def _lists(block: Block, start: int, end: int) -> list[list[Any]]:
    """Records start..end of a block as lists of cells."""
    if isinstance(block, list):
        return block[start:end]
    part = block.slice(start, end - start)
    return [list(cells) for cells in zip(*(c.to_pylist() for c in part.columns), strict=True)]
