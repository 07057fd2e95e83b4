"""An in-process store of rate-limit counts that does no thread or timer work per request.

`limits`' MemoryStorage starts a `threading.Timer` (a new thread) to sweep expired counts whenever the last
one has finished, which is on most requests of a busy worker. This one sweeps inline, at most once a second,
from the request that finds the last sweep old; expired counts are dropped when read anyway, so the sweep only
bounds memory (counts of addresses not seen again). Registered under the scheme `hubmemory://`.
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

__all__ = ["SweptMemoryStorage", "URI"]

URI = "hubmemory://"
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["hubmemory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the one MemoryStorage started; none is started again
        self._sweep_lock = threading.Lock()
        self._swept = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces MemoryStorage's private method
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]  # MemoryStorage's sweep, name-mangled
        finally:
            self._sweep_lock.release()

    def __getstate__(self) -> dict[str, object]:
        state = super().__getstate__()
        state.pop("_sweep_lock", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        super().__setstate__(state)
        self.timer.cancel()
        self._sweep_lock = threading.Lock()
        self._swept = time.monotonic()
