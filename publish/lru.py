"""A small thread-safe LRU cache with an optional time to live: the read path's per-worker memories."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

__all__ = ["LruCache"]


class LruCache(Generic[V]):
    """At most `size` values; the least recently used goes first. With `ttl` (the cache's, or the one given to
    `put`), a value is forgotten that many seconds after it was put."""

    def __init__(self, size: int, ttl: float | None = None) -> None:
        self.size = size
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Hashable, value: V, *, ttl: float | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        expires = time.monotonic() + ttl if ttl is not None else float("inf")
        with self._lock:
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
