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
rather than send it again (nothing is answered without its entry, nothing is logged twice).

Why no writer thread: the request must wait for its entry's commit anyway (the rule above), so a writer thread
would add two thread hand-offs per request and only move the CPU into another thread; under load the leader
already commits everyone's entries in one transaction.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from publish import audit, tables
from publish.audit_guard import LOCK_KEY
from publish.liveness import dropped

__all__ = ["append", "close"]

log = logging.getLogger("publish.audit_writer")

IDLE_PING = 5.0  # seconds: a PostgreSQL connection idle longer is checked (SELECT 1) before a batch
MAX_BATCH = 500

_COLUMNS = [c.name for c in tables.audit_log.columns if c.name != "id"]  # at, FIELDS..., prev_hash, hash
_LAST = "SELECT hash FROM hub_audit ORDER BY id DESC LIMIT 1"


class _Ticket:
    __slots__ = ("entry", "key", "digest", "error", "done")

    def __init__(self, entry: dict[str, Any], key: bytes) -> None:
        self.entry = entry
        self.key = key
        self.digest: str | None = None
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
        self.used = time.monotonic()
        self.function: str | None = None
        if self.postgres:
            self.dbapi.autocommit = True  # transactions are explicit (BEGIN ... COMMIT), or one function call
            self.server_hashes = self.dbapi.info.parameter_status("server_encoding") == "UTF8"
            if self.server_hashes:
                self.function = _pg_function(self.dbapi)
                if self.function is not None:
                    _prepare_call(self.dbapi, self.function)
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

    def write(self, batch: list[dict[str, Any]], key: bytes) -> list[str]:
        """Append `batch` in order in one transaction, under the chain's lock; their hashes."""
        self.used = time.monotonic()
        if self.postgres and self.server_hashes:
            return _write_pg(self.dbapi, batch, key, self.function)
        cur = self.dbapi.cursor()
        try:
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
        finally:
            cur.close()
        return [r["hash"] for r in rows]

    def close(self) -> None:
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

    def append(self, entry: dict[str, Any], key: bytes) -> str:
        ticket = _Ticket(entry, key)
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
                digests = conn.write([t.entry for t in batch], batch[0].key)
                for t, digest in zip(batch, digests, strict=True):
                    t.digest = digest
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
        assert ticket.digest is not None
        return ticket.digest

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
    return _writer(engine).append(entry, key)


def close(engine: Engine) -> None:
    """Close this process's audit connection to `engine` (after the batch being written, if any)."""
    writer = _WRITERS.get(engine)
    if writer is not None and writer.pid == os.getpid():
        writer.close()


# PostgreSQL: the whole batch in one statement, sent with the lock in one round trip (one query string), so the
# lock is held only while the server runs it, never across a wait for this process. Python supplies each
# entry's canonical JSON without `at` (the first key in sorted order); the server stamps `at` once for the
# batch (UTC, microseconds, as datetime.isoformat writes it) and chains the hashes exactly as entry_hash().
# `head` is a MATERIALIZED CTE so the last hash is read once (a subquery in FROM is inlined into both columns).
_PG_FIELDS = [f for f in audit.FIELDS if f != "at"]
_PG_TYPES = {"status": "int", "rows": "int", "personal": "bool"}
_PG_APPEND = f"""
WITH RECURSIVE
  input AS (
    SELECT * FROM jsonb_to_recordset(%(batch)s::jsonb)
      AS i(n int, rest text, {", ".join(f"{f} {_PG_TYPES.get(f, 'text')}" for f in _PG_FIELDS)})
  ),
  stamp AS MATERIALIZED (
    SELECT at, to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at_text
    FROM (SELECT (clock_timestamp() AT TIME ZONE 'UTC')::timestamp(6) AS at) now
  ),
  head AS MATERIALIZED (
    SELECT coalesce((SELECT hash FROM hub_audit ORDER BY id DESC LIMIT 1), %(genesis)s) AS hash
  ),
  chain(n, prev, hash) AS (
    SELECT 0, head.hash, head.hash FROM head
    UNION ALL
    SELECT i.n, c.hash,
           encode(sha256(%(opad)s::bytea || sha256(%(ipad)s::bytea
                  || convert_to(c.hash || '{{"at":"' || s.at_text || '",' || i.rest, 'UTF8'))), 'hex')
    FROM chain c JOIN input i ON i.n = c.n + 1 CROSS JOIN stamp s
  )
INSERT INTO hub_audit (at, {", ".join(_PG_FIELDS)}, prev_hash, hash)
SELECT s.at, {", ".join(f"i.{f}" for f in _PG_FIELDS)}, c.prev, c.hash
FROM chain c JOIN input i ON i.n = c.n CROSS JOIN stamp s
ORDER BY c.n
RETURNING id, hash
"""
_AT_NULL = '{"at":null,'
_PADS: dict[bytes, tuple[bytes, bytes]] = {}


def _rows_json(batch: list[dict[str, Any]]) -> str:
    """The batch as the statement's one JSON parameter: each entry's fields and its canonical JSON without `at`."""
    rows = []
    for n, entry in enumerate(batch, 1):
        text = audit.canonical({**entry, "at": None})
        if not text.startswith(_AT_NULL):  # `at` sorts first among FIELDS; the SQL relies on it
            raise AssertionError("canonical JSON does not start with at")
        row = {f: entry.get(f) for f in _PG_FIELDS}
        row["n"], row["rest"] = n, text[len(_AT_NULL):]
        rows.append(row)
    # one JSON parameter for the batch: cheaper to send than a dozen arrays, whose text psycopg escapes
    return json.dumps(rows, ensure_ascii=False)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    pads = _PADS.get(key)
    if pads is None:
        pads = _PADS[key] = audit.pads(key)  # HMAC as two sha256() on the server (no pgcrypto needed)
    return pads


def _write_pg(raw: Any, batch: list[dict[str, Any]], key: bytes, function: str | None = None) -> list[str]:
    """Append `batch` on PostgreSQL in one round trip: one call of the append function (`_pg_function`), or
    where it could not be created BEGIN, the advisory lock, the statement and COMMIT sent as one query string
    (each statement takes its own snapshot, so the insert reads the last hash every earlier batch committed; the
    lock is held only while the server runs them)."""
    ipad, opad = _pads(key)
    rows = _rows_json(batch)
    if function is not None:
        # autocommit: the call is its own transaction (the function plans its insert once per connection)
        written = _call(raw, rows, ipad, opad)
        if len(written) != len(batch):
            raise RuntimeError(f"audit batch of {len(batch)} wrote {len(written)} entries")
        return list(written)
    params = {"batch": rows, "genesis": audit.GENESIS, "ipad": ipad, "opad": opad}
    # a client-side cursor merges the parameters into the text (one simple query: several statements, one trip)
    from psycopg import ClientCursor  # PostgreSQL only: a SQLite hub never loads the driver

    cur = ClientCursor(raw)
    try:
        cur.execute(_PG_BATCH, params)
        found: list[tuple[int, str]] = []
        while True:
            if cur.description is not None and len(cur.description) == 2:  # the insert's RETURNING id, hash
                found = sorted(cur.fetchall())  # by id: chain order
            if not cur.nextset():
                break
    except BaseException:
        _rollback(cur)  # an error leaves the explicit transaction open and aborted
        raise
    finally:
        cur.close()
    if len(found) != len(batch):
        raise RuntimeError(f"audit batch of {len(batch)} wrote {len(found)} entries")
    return [digest for _, digest in found]


_CALL = b"hub_audit_append"  # the function's call, prepared on each audit connection (_prepare_call)
_TEXT, _BYTEA = 25, 17  # PostgreSQL's type oids of the call's parameters
_TUPLES_OK, _COMMAND_OK = 2, 1  # libpq's PGRES_TUPLES_OK, PGRES_COMMAND_OK


def _prepare_call(raw: Any, function: str) -> None:
    """Prepare the function's call on this connection for `_call`."""
    done = raw.pgconn.prepare(_CALL, f"SELECT {function}($1, $2, $3, $4)".encode(),
                              param_types=[_TEXT, _TEXT, _BYTEA, _BYTEA])
    if done.status != _COMMAND_OK:
        raise RuntimeError((done.error_message or b"").decode(errors="replace") or "audit: prepare failed")


def _call(raw: Any, rows: str, ipad: bytes, opad: bytes) -> list[str]:
    """The prepared call run through libpq directly, the pads sent as binary: psycopg's cursor (adapting the
    parameters, its prepared-statement bookkeeping, loading the text[] back) cost a third of an append's CPU.
    The hashes come back as a text array of hex digests (never quoted)."""
    result = raw.pgconn.exec_prepared(_CALL, [rows.encode(), audit.GENESIS.encode(), ipad, opad],
                                      param_formats=[0, 0, 1, 1])
    if result.status != _TUPLES_OK:
        raise RuntimeError((result.error_message or b"").decode(errors="replace") or "audit: append failed")
    value = result.get_value(0, 0) if result.ntuples else None
    return value.decode()[1:-1].split(",") if value and value != b"{}" else []


_PG_BATCH = f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_KEY}); {_PG_APPEND.strip()}; COMMIT"

# The same statement as a PL/pgSQL function: its plan is made once per connection instead of on every batch (the
# largest part of the server's work per entry), and the call is one statement in autocommit. Inside it each
# statement takes a new snapshot, so the insert, run once the lock is held, reads the last committed hash. Its
# name carries a checksum of its text: a hub with another statement never calls an older function.
# Seq scans are off inside it: the plan is kept for the connection's life, and one made while the log was small
# (its statistics said a few rows) read the whole log on every append ever after, keyed req/s falling as the
# log grew (the API benchmark: 420 to 90 within a minute). The primary key finds the head at any size.
_PG_SETTINGS = "SET enable_seqscan = off"
_PG_FUNCTION_SQL = (_PG_APPEND.replace("%(batch)s", "batch").replace("%(genesis)s", "genesis")
                    .replace("%(ipad)s", "ipad").replace("%(opad)s", "opad").strip())
_PG_FUNCTION = f"hub_audit_append_{zlib.crc32((_PG_FUNCTION_SQL + _PG_SETTINGS).encode()):08x}"
_PG_FUNCTION_SIGNATURE = f"{_PG_FUNCTION}(text,text,bytea,bytea)"
_PG_CREATE = f"""CREATE OR REPLACE FUNCTION {_PG_FUNCTION}(batch text, genesis text, ipad bytea, opad bytea)
RETURNS text[] LANGUAGE plpgsql {_PG_SETTINGS} AS $hub$
DECLARE hashes text[];
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  WITH written AS ({_PG_FUNCTION_SQL})
  SELECT array_agg(written.hash ORDER BY written.id) INTO hashes FROM written;
  RETURN hashes;
END $hub$"""


def _pg_function(raw: Any) -> str | None:
    """The append function's name, created if missing (under the chain's lock: workers start together); None
    when the database refuses to create it (a role without CREATE): the batch statement is used instead."""
    find = "SELECT to_regprocedure(%s) IS NOT NULL"
    try:
        if raw.execute(find, (_PG_FUNCTION_SIGNATURE,)).fetchone()[0]:
            return _PG_FUNCTION
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            if not raw.execute(find, (_PG_FUNCTION_SIGNATURE,)).fetchone()[0]:
                raw.execute(_PG_CREATE)
        return _PG_FUNCTION
    except Exception as exc:  # noqa: BLE001 - the batch statement does the same, only slower
        log.warning("audit: the append function could not be created (%s); appending with the batch statement",
                    exc)
        return None
