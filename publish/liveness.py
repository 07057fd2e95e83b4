"""Connections the server dropped (a restart, pg_terminate_backend, idle_session_timeout), found without a round
trip.

The pool's pre-ping cost every checkout a round trip (BEGIN-less `;` before the request's own BEGIN) to learn what
the connection's socket already says: a PostgreSQL server speaks to an idle connection only to say goodbye (the
FATAL it sends before closing) or to close it, so an idle connection with something to read, or at its end, has
been dropped. `dropped` looks (a poll with no wait) and the pool replaces such a connection on checkout; the
connections kept out of the pool (the version reader's, the audit writer's) look the same way before each use.

A drop between that look and the statement (microseconds, or a backend still exiting) fails the statement;
SQLAlchemy then invalidates the connection. `once_more_if_dropped` runs a read again on a fresh connection, and
only a read: a write the server may have committed before the drop is never repeated (the audit writer refuses
the answer instead: publish/audit_writer.py). SQLite has no server to drop it: nothing to look at.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

__all__ = ["check_on_checkout", "dropped", "once_more_if_dropped"]

log = logging.getLogger("publish.liveness")

T = TypeVar("T")
_GONE = select.POLLIN | select.POLLHUP | select.POLLERR


def dropped(dbapi_conn: Any) -> bool:
    """Whether the server has dropped this idle psycopg connection (or it is known broken): no round trip. Always
    False for other drivers (sqlite3: no server)."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    if pgconn is None:
        return False
    if dbapi_conn.closed or dbapi_conn.broken:
        return True
    try:
        poller = select.poll()
        poller.register(pgconn.socket, _GONE)
        # anything to read on an idle connection (we never LISTEN): the server's goodbye or its end of file
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - no socket left (libpq closed it): dropped
        return True


def check_on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """The pool's "checkout" event: a dropped connection is replaced by a fresh one (SQLAlchemy reconnects on
    DisconnectionError) before anyone uses it."""
    if dropped(dbapi_conn):
        log.info("a pooled connection was dropped by the server; opening a fresh one")
        raise sa.exc.DisconnectionError("the server closed this connection")


def once_more_if_dropped(read: Callable[[], T]) -> T:
    """`read()`, run once more when the connection it used turned out dropped (SQLAlchemy has invalidated it and
    every connection of its pool as old: the second run gets a fresh one). Only for reads: see the module."""
    try:
        return read()
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.info("a read's connection was dropped by the server; reading again on a fresh one: %s", exc.orig)
        return read()
