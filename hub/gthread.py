"""gunicorn's gthread worker, except that a worker whose threads are all busy leaves new connections to one with
a thread free (deploy/gunicorn.conf.py's `worker_class`).

gunicorn's workers share one listening socket and each accepts as fast as its main thread wakes; a kept-alive
connection then stays with the worker that accepted it. In a burst of new connections (wrk -c32, nginx opening
upstream connections at once) the first worker awake could take nearly all of them (31 of 32 measured) while
the other sat idle, and its queue made the run's tail. Here a worker with every thread busy accepts at most one
connection per ACCEPT_HOLD seconds, and at once when a thread becomes free: a worker with a free thread takes the
connection first, and a burst spreads over the workers. Only requests being served or waiting for a thread count
as busy, never idle kept-alive connections, so idle clients cannot stop a worker from accepting; and as the
hold is bounded, connections waiting in the listening socket's queue are always taken.

It relies on gunicorn's ThreadWorker methods (accept, enqueue_req, finish_request, set_accept_enabled,
wait_for_and_dispatch_events), all called on the worker's main thread; tests/ops/test_serve_balance.py runs it.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import Future
from typing import Any

from gunicorn.workers import gthread

__all__ = ["ACCEPT_HOLD", "ThreadWorker"]

ACCEPT_HOLD = 0.005  # seconds a busy worker waits before it accepts one more connection


class ThreadWorker(gthread.ThreadWorker):
    """gthread, accepting only while a thread is free or once per ACCEPT_HOLD."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = 0  # connections handed to the thread pool and not finished yet
        self._hold_until = 0.0
        self._holding = False

    def _hold(self) -> bool:
        return self.alive and self.in_flight >= self.cfg.threads and time.monotonic() < self._hold_until

    def enqueue_req(self, conn: gthread.TConn) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: gthread.TConn, fs: Future[bool]) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def accept(self, listener: socket.socket) -> None:
        if self._hold():  # every thread busy: another worker may have one free
            self._holding = True
            super().set_accept_enabled(False)
            return
        super().accept(listener)
        self._hold_until = time.monotonic() + ACCEPT_HOLD

    def set_accept_enabled(self, enabled: bool | None) -> None:
        if enabled and self._hold():
            self._holding = True
            return
        self._holding = False
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float | None) -> None:
        if self._holding:  # wake when the hold ends (a thread finishing wakes the loop anyway)
            left = max(self._hold_until - time.monotonic(), 0.0)
            timeout = left if timeout is None else min(timeout, left)
        super().wait_for_and_dispatch_events(timeout)
