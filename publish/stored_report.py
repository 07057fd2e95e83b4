"""A load's report as the value stored in hub_loads.report: its JSON text bound as UTF-8 bytes, never as one
large Python str (publish/loads.py records it with the load)."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import sqlalchemy as sa

from publish.db import driver

__all__ = ["stored_report"]


def stored_report(report: dict[str, Any] | None, conn: sa.Connection) -> Any:
    """The report as its JSON text, bound as its UTF-8 bytes (the same text is stored): a million rows' report
    as one str is ~25 MB (2 bytes a Vietnamese character), with its JSON pieces while joined and its UTF-8 copy
    made when bound as much again, at the load's peak (PostgreSQL: +83 MB while the load was recorded, issue
    21). SQLite: the bytes cast to TEXT; PostgreSQL: the bytes sent as a text parameter in binary format, which
    for text is its bytes in the client's encoding (UTF-8), checked by the server as any text."""
    if report is None:
        return None
    text = io.BytesIO()
    for piece in json.JSONEncoder(ensure_ascii=False, default=str).iterencode(report):  # json.dumps' text
        text.write(piece.encode("utf-8"))
    if conn.dialect.name == "sqlite":
        return sa.cast(sa.literal(text.getvalue(), sa.LargeBinary), sa.Text)
    if driver(conn).info.encoding != "utf-8":  # a client encoding other than UTF-8: psycopg encodes the str
        return text.getvalue().decode("utf-8")
    driver(conn).adapters.register_dumper(Utf8Text, _text_dumper())  # on this connection only
    return Utf8Text(text.getvalue())


class Utf8Text:
    """A text already encoded as UTF-8, for a PostgreSQL text parameter (stored_report)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


@functools.cache
def _text_dumper() -> type:
    """psycopg's dumper of Utf8Text (psycopg imported only where PostgreSQL is used)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class Utf8TextDumper(Dumper):
        format = Format.BINARY
        oid = 25  # text: in binary format its bytes in the client's encoding

        def dump(self, obj: Utf8Text) -> bytes:
            return obj.data

    return Utf8TextDumper
