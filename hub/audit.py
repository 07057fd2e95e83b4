"""What a request's views tell its audit entry: the interface writes the entry after the answer (hub/security.py).

The chain itself (storage, hashing, verification) lives in publish/audit.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import g


def note(*, dataset: str | None = None, rows: int | None = None, personal: bool | None = None) -> None:
    """Record what this request read — dataset, rows returned, whether personal fields were among them."""
    if dataset is not None:
        g.audit_dataset = dataset
    if rows is not None:
        g.audit_rows = rows
    if personal is not None:
        g.audit_personal = personal


class _Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def counted(rows: Iterable[Any]) -> Iterator[Any]:
    """Pass `rows` through, counting them for the audit entry of a streamed answer (written when it ends)."""
    counter = g.audit_counter = _Counter()  # set now, before the answer starts: the hook looks for it

    def counting() -> Iterator[Any]:
        for row in rows:
            counter.n += 1
            yield row

    return counting()


