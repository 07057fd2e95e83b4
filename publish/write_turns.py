"""Writers of one SQLite file in several processes, taking turns without SQLite's busy back-off.

When another connection holds a SQLite file's write lock, SQLite's busy handler sleeps and tries again: 1, 2, 5,
10, 15, 20, 25 ... up to 100 ms between tries. The audit log's writers (each gunicorn worker's group commit) hold
that lock for well under a millisecond at a time, hundreds of times a second, so a writer that found it taken
slept on long after it was free, and the requests waiting for its batch with it: under wrk -c32, keyed pages on
SpatiaLite had a p99 of 100 ms against 33 ms on PostGIS (issue 20). Here the writers queue on an advisory lock
of a file beside the database (`flock`) before they ask SQLite for its lock: a waiter wakes the moment the
holder lets go. A writer that takes no turn (a migration, `hub audit` upkeep) still meets SQLite's own lock and
busy timeout, so correctness never rests on this file: it only orders the writers that use it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Turns", "SUFFIX"]

log = logging.getLogger("publish.write_turns")

SUFFIX = "-turns.lock"  # beside `hub-audit.db`, as SQLite's own `-wal` and `-shm` are


class Turns:
    """This process's place in the queue of writers of `database` (a SQLite file's path)."""

    def __init__(self, database: str) -> None:
        self.path = database + SUFFIX
        try:  # (each process opens its own: flock belongs to the open file, so a forked copy is not shared)
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o660)
        except OSError as exc:  # a folder this process may read but not write: SQLite's busy handler alone
            log.warning("audit writers will not take turns (%s): %s", self.path, exc)
            self._fd = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this process's turn (the GIL released while waiting), hold it for the block."""
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
