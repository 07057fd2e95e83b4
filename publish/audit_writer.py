"""Writing the audit chain (publish/audit.py): group commit on one long-lived connection per process and database.

Every keyed request appends an entry before its answer is sent, so this is the largest part of a keyed
request's cost (issue 20). What it no longer pays per request: a pool checkout (PostgreSQL's pre-ping round
trip, SQLite's reset on return), SQLAlchemy's statement building, caching and result machinery. Each process
keeps one DB-API connection per audit database, taken from the engine once (so SQLite's pragmas and the
engine's connect events apply) and detached from its pool; the statements are fixed strings run on the
driver's cursor (psycopg prepares them on the server after a few runs; sqlite3 keeps them compiled).

Group commit, leader/follower, no background thread: the threads of one process that append at the same time
share one transaction. The first to arrive writes every entry waiting at that moment (in arrival order, hashed
under the chain's lock) while later ones queue for the next batch; each caller returns only once its own entry
is committed, or raises if the batch failed (the interface then refuses the answer: an answer is never sent
without its entry). Nothing is buffered past the caller's return, so there is no window in which an answered
request's entry can be lost: a clean shutdown (gunicorn lets requests in flight finish, then `worker_exit`
disposes the engines, which waits for a batch being written) and a crash alike. A batch that fails drops the
connection; the next batch opens a fresh one. Before each batch on PostgreSQL, a connection the server dropped
(a restart, pg_terminate_backend) is seen on its socket without a round trip (publish/liveness.py), and one idle
for IDLE_PING seconds is also pinged, so a restarted server costs no refused answer. A batch is never written
twice: a batch whose connection fails under it may have been committed, so its callers refuse their answers
rather than send it again (nothing is answered without its entry, nothing is logged twice). On SQLite the
writers of several processes queue for their turn on a file lock first (publish/write_turns.py).

Why no writer thread: the request must wait for its entry's commit anyway (the rule above), so a writer thread
would add two thread hand-offs per request and only move the CPU into another thread; under load the leader
already commits everyone's entries in one transaction.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import closing, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from publish import audit, audit_pg, tables
from publish.audit_guard import LOCK_KEY
from publish.audit_pg import Expect, State
from publish.liveness import dropped
from publish.write_turns import Turns

__all__ = ["Expect", "State", "append", "append_if", "close", "conditional"]

log = logging.getLogger("publish.audit_writer")

IDLE_PING = 5.0  # seconds: a PostgreSQL connection idle longer is checked (SELECT 1) before a batch
MAX_BATCH = 500

_COLUMNS = [c.name for c in tables.audit_log.columns if c.name != "id"]  # at, FIELDS..., prev_hash, hash
_LAST = "SELECT hash FROM hub_audit ORDER BY id DESC LIMIT 1"




class _Ticket:
    __slots__ = ("entry", "key", "expect", "digest", "state", "error", "done")

    def __init__(self, entry: dict[str, Any], key: bytes, expect: Expect | None = None) -> None:
        self.entry = entry
        self.key = key
        self.expect = expect
        self.digest: str | None = None  # None once done: an entry on condition that did not hold (not written)
        self.state: State | None = None
        self.error: BaseException | None = None
        self.done = False


class _Connection:
    """This process's own DB-API connection to the audit database, out of the engine's pool."""

    def __init__(self, engine: Engine) -> None:
        proxied = engine.raw_connection()  # the engine's connect events have run on it (SQLite pragmas)
        dbapi = proxied.driver_connection
        assert dbapi is not None, "a connection just checked out"
        self.dbapi: Any = dbapi
        # an in-memory SQLite database lives in its pool's one connection: borrowed per batch there, as before
        self.own = not isinstance(engine.pool, SingletonThreadPool | StaticPool)
        if self.own:
            proxied.detach()  # ours until closed: never returned to the pool, never reset, never pinged by it
        self.proxied = proxied
        self.postgres = engine.dialect.name == "postgresql"
        database = engine.url.database or ""  # a SQLite file's writers in other processes queue with this one's
        self.turns = Turns(database) if self.own and not self.postgres and not database.startswith("file:") else None
        self.used = time.monotonic()
        self.function: str | None = None
        if self.postgres:
            self.dbapi.autocommit = True  # transactions are explicit (BEGIN ... COMMIT), or one function call
            self.server_hashes = self.dbapi.info.parameter_status("server_encoding") == "UTF8"
            if self.server_hashes:
                self.function = audit_pg.function_name(self.dbapi)
                if self.function is not None:
                    audit_pg.prepare_call(self.dbapi, self.function)
        # the column types' own conversions (SQLite: datetimes as SQLAlchemy writes them, booleans as 0/1)
        processors = {c.name: c.type.bind_processor(engine.dialect) for c in tables.audit_log.columns}
        self.convert: list[tuple[str, Callable[[Any], Any] | None]] = [(n, processors[n]) for n in _COLUMNS]
        mark = "%s" if self.postgres else "?"
        self.insert = f"INSERT INTO hub_audit ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"

    def alive(self) -> bool:
        """False when the connection is known broken, or (PostgreSQL) idle long and no longer answering."""
        if not self.postgres:
            return True
        if dropped(self.dbapi):  # closed by the server (a look at the socket, no round trip)
            return False
        if time.monotonic() - self.used > IDLE_PING:
            try:
                self.dbapi.execute("SELECT 1")
            except Exception:  # noqa: BLE001 - a dead connection: a fresh one is opened
                return False
        return True

    def write(self, batch: list[dict[str, Any]], key: bytes,
              expects: list[Expect | None] | None = None) -> tuple[list[str | None], State | None]:
        """Append `batch` in order in one transaction, under the chain's lock: their hashes (None for an entry on
        condition that did not hold, or that this connection cannot check: not written), and what the
        conditions were checked against."""
        self.used = time.monotonic()
        expects = expects or [None] * len(batch)
        if self.function is not None:
            return audit_pg.call_conditional(self.dbapi, batch, key, expects)
        if any(expects):  # (only the append function checks them; the caller answers the way that needs none)
            unconditional = [entry for entry, expect in zip(batch, expects, strict=True) if expect is None]
            written = iter(self.write(unconditional, key, [None] * len(unconditional))[0]) if unconditional else iter(())
            return [None if expect else next(written) for expect in expects], None
        if self.postgres and self.server_hashes:
            return list(audit_pg.write_batch(self.dbapi, batch, key, self.function)), None
        with self.turns.turn() if self.turns else nullcontext(), closing(self.dbapi.cursor()) as cur:
            if self.postgres:  # (a server in another encoding: hashed here, as on SQLite)
                cur.execute("BEGIN")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            else:
                cur.execute("BEGIN IMMEDIATE")  # SQLite's write lock before reading the last hash
            try:
                last = cur.execute(_LAST).fetchone()
                rows = audit.chain(last[0] if last else audit.GENESIS, batch, key)
                cur.executemany(self.insert, [tuple(value(row[n]) if value else row[n] for n, value in self.convert)
                                              for row in rows])  # rows get their ids in list order
                cur.execute("COMMIT")
            except BaseException:
                _rollback(cur)
                raise
        return [r["hash"] for r in rows], None

    def close(self) -> None:
        if self.turns is not None:
            self.turns.close()
        try:
            self.proxied.close()  # detached: closes the DB-API connection itself (else: back to the pool)
        except Exception:  # noqa: BLE001, S110 - already broken: nothing left to close
            pass


def _rollback(cur: Any) -> None:
    try:
        cur.execute("ROLLBACK")
    except Exception:  # noqa: BLE001, S110 - no transaction left (or no connection): nothing to undo
        pass


class _Writer:
    """Group commit of one engine's appends within one process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pid = os.getpid()
        self.cond = threading.Condition()
        self.pending: list[_Ticket] = []
        self.writing = False
        self.batches = 0  # batches written so far: close() waits for the one in flight, not for a quiet moment
        self.conn: _Connection | None = None
        self.checks = False  # the last connection opened checks conditions (append_if)

    def append(self, entry: dict[str, Any], key: bytes, expect: Expect | None = None) -> _Ticket:
        ticket = _Ticket(entry, key, expect)
        with self.cond:
            self.pending.append(ticket)
        while True:
            with self.cond:
                while self.writing and not ticket.done:
                    self.cond.wait()
                if ticket.done:
                    break
                # nobody is writing and ours still waits: write the waiting entries, oldest first
                # one key per batch (one store per engine in practice): the others wait for the next batch
                batch = [t for t in self.pending[:MAX_BATCH] if t.key == ticket.key]
                taken = {id(t) for t in batch}
                self.pending = [t for t in self.pending if id(t) not in taken]
                self.writing = True
                conn, self.conn = self.conn, None
            try:
                if conn is not None and not conn.alive():
                    conn.close()
                    conn = None
                if conn is None:
                    conn = _Connection(self.engine)
                    self.checks = conn.function is not None
                digests, state = conn.write([t.entry for t in batch], batch[0].key, [t.expect for t in batch])
                for t, digest in zip(batch, digests, strict=True):
                    t.digest, t.state = digest, state
            except BaseException as exc:  # every caller of the batch gets the failure (and refuses its answer)
                for t in batch:
                    t.error = exc
                if conn is not None:
                    conn.close()  # perhaps broken: the next batch opens a fresh one
                    conn = None
            finally:
                if conn is not None and not conn.own:
                    conn.close()
                    conn = None
                with self.cond:
                    for t in batch:
                        t.done = True
                    self.conn = conn
                    self.writing = False
                    self.batches += 1
                    self.cond.notify_all()
        if ticket.error is not None:
            raise ticket.error
        return ticket

    def close(self) -> None:
        """Close the connection, once a batch being written is committed (appends after this open a new one)."""
        with self.cond:
            in_flight = self.batches
            # only the batch being written now: under steady appends another leader starts at once, and waiting
            # for no batch at all starved the closing thread for ever (a dispose hung in CI)
            while self.writing and self.batches == in_flight:
                self.cond.wait()
            conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()


_WRITERS: weakref.WeakKeyDictionary[Engine, _Writer] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer(engine: Engine) -> _Writer:
    writer = _WRITERS.get(engine)
    if writer is not None and writer.pid == os.getpid():
        return writer
    with _WRITERS_LOCK:
        writer = _WRITERS.get(engine)
        if writer is None or writer.pid != os.getpid():  # a forked worker starts with its own, empty writer
            if writer is None and not event.contains(engine, "engine_disposed", _disposed):
                event.listen(engine, "engine_disposed", _disposed)
            writer = _WRITERS[engine] = _Writer(engine)
        return writer


def _disposed(engine: Engine) -> None:
    """`engine.dispose()` (Store.dispose: Hub close, gunicorn's worker_exit; forget_connections after a fork)."""
    writer = _WRITERS.get(engine)
    if writer is None:
        return
    if writer.pid == os.getpid():
        writer.close()
    else:  # inherited from the parent: its connection is the parent's; never close it here, only forget it
        _WRITERS.pop(engine, None)


def append(engine: Engine, entry: dict[str, Any], key: bytes) -> str:
    """Append one cleaned entry (audit.append's) to the chain in `engine`; its hash, once committed."""
    digest = _writer(engine).append(entry, key).digest
    assert digest is not None  # noqa: S101 - an entry without condition is written or raises
    return digest


def append_if(engine: Engine, entry: dict[str, Any], key: bytes, expect: Expect) -> tuple[str | None, State | None]:
    """Append `entry` only if, in the batch's transaction under the chain's lock, the key generation and the
    current versions of the datasets in `expect` are those given (what the answer was chosen from): its hash,
    or None when they are not (nothing written); and the generation and versions found (None where the
    connection cannot check: then nothing is written either)."""
    ticket = _writer(engine).append(entry, key, expect)
    return ticket.digest, ticket.state


def conditional(engine: Engine) -> bool:
    """Whether this process's audit connection to `engine` checks conditions (PostgreSQL's append function,
    known once it was opened): append_if writes nothing anywhere else."""
    writer = _WRITERS.get(engine)
    return writer is not None and writer.pid == os.getpid() and writer.checks


def close(engine: Engine) -> None:
    """Close this process's audit connection to `engine` (after the batch being written, if any)."""
    writer = _WRITERS.get(engine)
    if writer is not None and writer.pid == os.getpid():
        writer.close()
