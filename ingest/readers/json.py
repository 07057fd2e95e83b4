"""JSON sources: an array of objects, or CKAN `datastore_search` output {"result": {"records": [...]}}
(also {"records": [...]} and {"data": [...]}), streamed with ijson so a large export never sits in memory.

Columns are the keys of the first records (in order of appearance); values keep their JSON types.
Row numbers count like a CSV with a header: the first record is row 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from core.errors import EncodingError, HeaderError, InputError
from ingest.headers import HeaderMatcher
from ingest.readers._jsoncheck import check_json
from ingest.readers._table import RawTable, Row
from ingest.readers.blocks import hand_over

__all__ = ["read_json", "stream_objects", "HEAD_RECORDS"]

HEAD_RECORDS = 1000
_ARRAYS = ("", "result.records", "records", "data", "result")


def _error(path: Path, e: Exception, what: str = "JSON") -> InputError:
    return InputError(
        f"Tệp {what} không hợp lệ: {e}",
        f"Invalid {what} file: {e}",
        code="invalid-json",
        file=os.fspath(path),
    )


def _open(path: Path, encoding: str | None) -> IO[bytes]:
    fh = path.open("rb")
    head = fh.read(4)
    fh.seek(0)
    if encoding and encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
        fh.close()
        raise EncodingError("Tệp JSON phải là UTF-8", "JSON files must be UTF-8", file=os.fspath(path), detail=encoding)
    if head.startswith(b"\xef\xbb\xbf"):
        fh.read(3)
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) == 4 and (head[1] == 0 or head[0] == 0)):
        fh.close()
        raise EncodingError(
            "Tệp JSON phải là UTF-8 (tệp này là UTF-16)",
            "JSON files must be UTF-8 (this one is UTF-16)",
            file=os.fspath(path),
        )
    return fh


def stream_objects(path: Path, prefixes: tuple[str, ...], encoding: str | None = None) -> Iterator[Any]:
    """Items of the first array found at one of `prefixes` (ijson paths), one at a time."""
    import ijson

    fh = _open(path, encoding)
    start = fh.tell()  # after a byte order mark
    try:
        check_json(path)  # ijson's memory grows with the square of the nesting: bounded before it parses
    except BaseException:
        fh.close()
        raise
    try:
        events = ijson.parse(fh)
        seen = []
        try:
            for prefix, event, value in events:
                seen.append((prefix, event, value))
                if event == "start_array" and prefix in prefixes:
                    break
                if len(seen) > 10_000:
                    break
            else:
                seen = []
            if not seen or seen[-1][1] != "start_array":
                raise InputError(
                    "Tệp JSON không chứa mảng bản ghi (mảng đối tượng hoặc result.records của CKAN)",
                    "The JSON file holds no array of records (an array of objects or CKAN result.records)",
                    code="no-records",
                    file=os.fspath(path),
                )
            prefix = seen[-1][0]
            item = f"{prefix}.item" if prefix else "item"
            # the same items as those of the events so far and after, read again from the start: ijson's C
            # backend then builds them from the file itself (from a stream of events it steps in Python)
            fh.seek(start)
            yield from ijson.items(fh, item)
        except ijson.JSONError as e:
            raise _error(path, e) from None
        except UnicodeDecodeError as e:
            raise EncodingError(
                "Tệp JSON phải là UTF-8", "JSON files must be UTF-8", file=os.fspath(path), detail=str(e)
            ) from None
    finally:
        fh.close()


def objects_table(path: Path, objects: Iterator[Any], matcher: HeaderMatcher, what: str = "JSON") -> RawTable:
    """Columns from the first records' keys; rows stream."""
    head = list(islice(objects, HEAD_RECORDS))
    if not head:
        raise InputError("Tệp không có bản ghi nào", "The file has no records", code="empty-file", file=os.fspath(path))
    headers: dict[str, None] = {}
    for obj in head:
        if not isinstance(obj, dict):
            raise InputError(
                f"Bản ghi {what} phải là đối tượng {{...}}",
                f"{what} records must be objects {{...}}",
                code="invalid-json",
                file=os.fspath(path),
                row=2 + head.index(obj),
            )
        headers.update(dict.fromkeys(str(k) for k in obj))
    names = list(headers)
    if matcher.score(names) == 0:
        raise HeaderError(
            "Không có khoá nào của bản ghi khớp với lược đồ",
            "No key of the records names a field of the schema",
            file=os.fspath(path),
        )

    def rows() -> Iterator[Row]:
        for number, obj in enumerate(chain(head, objects), start=2):
            if not isinstance(obj, dict):
                raise InputError(
                    f"Bản ghi {what} phải là đối tượng {{...}}",
                    f"{what} records must be objects {{...}}",
                    code="invalid-json",
                    file=os.fspath(path),
                    row=number,
                )
            yield number, list(map(obj.get, names))

    stream, records = hand_over(rows(), len(names))
    return RawTable(headers=names, rows=stream, encoding="utf-8", records=records)


def read_json(path: Path, matcher: HeaderMatcher, *, encoding: str | None = None) -> RawTable:
    return objects_table(path, stream_objects(path, _ARRAYS, encoding), matcher)
