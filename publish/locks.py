"""The lock a dataset's writers take: loads and rollbacks of one dataset never interleave.

PostgreSQL: a transaction-scoped advisory lock per dataset (and schema); SQLite: the database's write lock,
taken at BEGIN IMMEDIATE. A second writer waits up to LOCK_TIMEOUT_SECONDS, then gets LoadConflict (exit
status 7 on the command line, HTTP 409). Readers never wait for it. The wait is the store's `lock_timeout`
(HUB_LOCK_TIMEOUT).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from core.config import DEFAULT_LOCK_TIMEOUT
from core.errors import LoadConflict
from publish.db import driver, storage_full
from publish.store import Store

LOCK_TIMEOUT_SECONDS = DEFAULT_LOCK_TIMEOUT  # the default; each store has its own (Store.lock_timeout)


def conflict(dataset_id: str) -> LoadConflict:
    return LoadConflict(
        f"Bộ dữ liệu «{dataset_id}» đang được nạp bởi tiến trình khác; hãy thử lại sau",
        f"Dataset «{dataset_id}» is being loaded by another process; try again later",
        dataset=dataset_id,
    )


def take_lock(store: Store, conn: sa.Connection, dataset_id: str) -> None:
    """Inside a transaction: PostgreSQL's advisory lock of the dataset (SQLite's BEGIN IMMEDIATE holds the
    database's write lock already)."""
    if store.dialect == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(store.lock_timeout)}s'")
        if (conn.dialect.server_version_info or (0,)) >= (14,):
            # a loader killed mid-statement: the server stops at once instead of finishing the statement
            # (holding the dataset's lock) before it notices nobody will commit
            conn.exec_driver_sql("SET LOCAL client_connection_check_interval = '1s'")
        # keyed by schema too: hubs sharing one database (test schemas, say) do not wait for each other
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/' || :d))"), {"d": dataset_id})


@contextmanager
def conflicts_reported(store: Store, conn: sa.Connection, dataset_id: str) -> Iterator[None]:
    """A lock wait that timed out becomes LoadConflict, the message people and scripts understand."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "lock timeout" in text or "deadlock" in text:
            raise conflict(dataset_id) from None
        full = storage_full(exc)
        if full is not None:
            raise full from None
        raise


@contextmanager
def locked_transaction(store: Store, conn: sa.Connection, dataset_id: str) -> Iterator[sa.Connection]:
    """A write transaction holding `dataset_id`'s lock; a second writer waits up to LOCK_TIMEOUT_SECONDS,
    then gets LoadConflict. Loads and rollbacks of one dataset never interleave."""
    conn.info["sqlite_begin"] = "IMMEDIATE"  # SQLite: the database's write lock, taken at BEGIN
    if store.dialect == "sqlite":  # how long BEGIN IMMEDIATE waits for another writer (on the raw connection:
        # through SQLAlchemy the PRAGMA would open a transaction first)
        driver(conn).execute(f"PRAGMA busy_timeout = {int(store.lock_timeout * 1000)}")
    try:
        with conflicts_reported(store, conn, dataset_id), conn.begin():
            take_lock(store, conn, dataset_id)
            yield conn
    finally:
        conn.info.pop("sqlite_begin", None)
        if store.dialect == "sqlite" and not conn.closed:
            driver(conn).execute(f"PRAGMA busy_timeout = {int(store.lock_timeout * 1000)}")


def next_version(store: Store, conn: sa.Connection, dataset_id: str) -> int:
    return (store.current_version(dataset_id, conn) or 0) + 1


__all__ = ["LOCK_TIMEOUT_SECONDS", "conflict", "take_lock", "conflicts_reported", "locked_transaction",
           "next_version"]
