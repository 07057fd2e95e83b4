"""Rate limits: a sliding window counter per client and route, with no thread or timer work per request.

A request is allowed when the previous window's count, weighted by how much of it still lies within the last
`period` seconds, plus the current window's count stays within the limit; an allowed request counts, a refused
one does not. In process the counts are a dict under one lock (windows older than the previous one are dropped
when a new window starts). With Redis (HUB_REDIS_URL) the counts are shared by every worker and app server and
checked and counted in one round trip (a Lua script: read both windows, count if allowed); when Redis does not
answer, the process counts on its own for a while (REDIS_PAUSE_SECONDS) rather than stop limiting or serving.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Decision", "MemoryCounter", "RateLimiter", "RedisCounter"]

log = logging.getLogger("hub.ratelimit")

REDIS_PREFIX = "hub:rate:"
REDIS_PAUSE_SECONDS = 30.0  # after a failed round trip, count in the process this long
EPSILON = 1e-9  # a weighted count that is the limit but for rounding is the limit

# KEYS: the current window's and the previous window's counters; ARGV: limit, weight of the previous window
# (the share of it still inside the sliding period), the counters' lifetime in seconds.
_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 > tonumber(ARGV[1]) + 1e-9 then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return {1, current, previous}
"""


@dataclass(frozen=True)
class Decision:
    """Whether the request may go on, and what the rate-limit headers say."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds: the end of the current window
    retry_after: int  # seconds until one more request would be allowed (0 when allowed)


def decide(allowed: bool, limit: int, period: int, now: float, current: int, previous: int) -> Decision:
    """The decision for counts `current` (this request included when allowed) and `previous`."""
    window_start = now - now % period
    weight = 1 - (now - window_start) / period
    remaining = max(0, limit - math.floor(previous * weight + current + EPSILON))
    reset_at = int(window_start + period)
    retry = 0
    if not allowed:
        if current + 1 <= limit and previous:  # later in this window, once enough of the previous slid away
            # previous * (1 - (elapsed + wait) / period) + current + 1 <= limit
            wait = period * (1 - (limit - current - 1) / previous) - (now - window_start)
        else:  # in the next window, where this one's count is the previous
            wait = (window_start + period - now) + period * max(0.0, 1 - (limit - 1) / max(current, 1))
        retry = max(1, math.ceil(wait))
    return Decision(allowed, limit, remaining, reset_at, retry)


class MemoryCounter:
    """This process's counts: key -> (window number, current count, previous window's count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int, int]] = {}
        self._window = -1

    def acquire(self, key: str, limit: int, period: int, now: float) -> Decision:
        window = int(now // period)
        weight = 1 - (now % period) / period
        with self._lock:
            if window != self._window:  # a new window: counts two windows old weigh nothing any more
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= window - 1}
                self._window = window
            seen, current, previous = self._counts.get(key, (window, 0, 0))
            if seen != window:
                current, previous = 0, (current if seen == window - 1 else 0)
            allowed = previous * weight + current + 1 <= limit + EPSILON
            if allowed:
                current += 1
            self._counts[key] = (window, current, previous)
        return decide(allowed, limit, period, now, current, previous)

    def __len__(self) -> int:
        return len(self._counts)


class RedisCounter:
    """Counts in Redis, shared by every process that uses the same server: one round trip per request."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._redis.register_script(_SCRIPT)  # EVALSHA, loaded again if Redis forgot it

    def acquire(self, key: str, limit: int, period: int, now: float) -> Decision:
        window = int(now // period)
        weight = 1 - (now % period) / period
        keys = [f"{REDIS_PREFIX}{key}:{window}", f"{REDIS_PREFIX}{key}:{window - 1}"]
        allowed, current, previous = self._script(keys=keys, args=[limit, repr(weight), 2 * period + 1])
        return decide(bool(allowed), limit, period, now, int(current), int(previous))


class RateLimiter:
    """`limit` requests per `period` seconds per key, in Redis when a URL is given (else in this process)."""

    def __init__(self, limit: int, period: int = 60, redis_url: str | None = None) -> None:
        self.limit, self.period = limit, period
        self.memory = MemoryCounter()
        self.redis = RedisCounter(redis_url) if redis_url else None
        self._paused_until = 0.0

    def acquire(self, key: str) -> Decision:
        now = time.time()
        if self.redis is not None and time.monotonic() >= self._paused_until:
            try:
                return self.redis.acquire(key, self.limit, self.period, now)
            except Exception as exc:  # noqa: BLE001 - Redis down: keep limiting, in this process
                self._paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
                log.warning("rate limits: Redis failed, counted in this process for %.0f s: %s",
                            REDIS_PAUSE_SECONDS, exc)
        return self.memory.acquire(key, self.limit, self.period, now)
