"""The process's heap during a big load: freed memory back to the system, so the next step (batch, quality
run, index build, R*Tree) does not stack on top of it in the resident size (issue 21: a million-row ingest's
peak). Here, in core, so that every stage can trim between its memory-hungry steps.

Freed batches leave free chunks all over glibc's heap (the rows' kept keys and quality columns sit between
them); later batches reuse them piecemeal, so the pages a trim gave back are touched again and the resident
size climbs ~4 MB a batch until the next trim: 80 MB between trims every 100,000 rows. `HeapTrimmer` trims
once the resident size has grown by a set amount instead (a million rows, 8 MB apart: ~200 trims of a few ms).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["HeapTrimmer", "arrow_in_system_heap", "older_objects_frozen", "release_memory", "resident_bytes",
           "trim_heap"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _glibc() -> ctypes.CDLL | None:
    """glibc, or None where the C library is another (then there is nothing to trim)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - raises AttributeError where the C library has none
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def release_memory() -> None:
    """Give the heap the batches left behind back to the system before the next memory-hungry step.

    glibc keeps freed blocks of the batches' short-lived arrays in its arenas, so without a trim the quality
    run (Great Expectations) and the commit (SQLite's page cache) stack on top of them in the resident size.
    """
    gc.collect()
    trim_heap()


class HeapTrimmer:
    """Calls trim_heap() when the resident size has grown `growth_mb` since the last trim (read from
    /proc/self/statm: microseconds); where that cannot be read, every 20th call."""

    def __init__(self, growth_mb: float) -> None:
        self.growth = growth_mb * (1 << 20)
        self.calls = 0
        self.floor = resident_bytes()

    def __call__(self) -> None:
        self.calls += 1
        now = resident_bytes()
        if now is None:
            if self.calls % 20 == 0:
                trim_heap()
        elif self.floor is None or now - self.floor > self.growth:
            trim_heap()
            self.floor = resident_bytes()


def resident_bytes() -> int | None:
    """The process's resident size (Linux), None where /proc is not there."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def trim_heap() -> None:
    """glibc's malloc_trim: the free pages of its arenas back to the system (a few ms)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def arrow_in_system_heap() -> None:
    """Arrow's buffers from here on in glibc's heap, which release_memory() gives back. Its default pool
    (mimalloc) keeps the pages of freed batches resident (MADV_FREE: the kernel reclaims them only under
    pressure), so they counted in the peak of the quality run after the batches: 40 MB at 100,000 rows."""
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def older_objects_frozen(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` with the objects that existed before the call left out of the cycle collector's passes while
    it runs (gc.freeze, then gc.unfreeze): release_memory's collections and Python's own full ones then look
    at what the call made, not at every module, catalogue and Great Expectations object of the process
    (~0.13 CPU s a pass once GX is imported; a 100,000-row load makes two). Nothing is collected less: what
    the call makes is collected as before, and an older object that became garbage meanwhile goes at the
    next collection after. Where something else has frozen objects (another load in the process, a server's
    own freeze), this leaves the freezing to it."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if gc.get_freeze_count():
            return function(*args, **kwargs)
        gc.freeze()
        try:
            return function(*args, **kwargs)
        finally:
            gc.unfreeze()

    return wrapper
