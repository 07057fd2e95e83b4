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

import json
import logging
import os
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from contextlib import closing, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from publish import audit, tables
from publish.audit_guard import LOCK_KEY
from publish.liveness import dropped
from publish.write_turns import Turns

__all__ = ["Expect", "State", "append", "append_if", "close", "conditional"]

log = logging.getLogger("publish.audit_writer")

IDLE_PING = 5.0  # seconds: a PostgreSQL connection idle longer is checked (SELECT 1) before a batch
MAX_BATCH = 500

_COLUMNS = [c.name for c in tables.audit_log.columns if c.name != "id"]  # at, FIELDS..., prev_hash, hash
_LAST = "SELECT hash FROM hub_audit ORDER BY id DESC LIMIT 1"


# An entry written on condition (append_if): the key generation and the current versions its answer was chosen
# from; what the database held when the batch was written (the generation, the versions asked about)
Expect = tuple[int, dict[str, int]]
State = tuple[int, dict[str, int]]


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

    def write(self, batch: list[dict[str, Any]], key: bytes,
              expects: list[Expect | None] | None = None) -> tuple[list[str | None], State | None]:
        """Append `batch` in order in one transaction, under the chain's lock: their hashes (None for an entry on
        condition that did not hold, or that this connection cannot check: not written), and what the
        conditions were checked against."""
        self.used = time.monotonic()
        expects = expects or [None] * len(batch)
        if self.function is not None:
            return _call_conditional(self.dbapi, batch, key, expects)
        if any(expects):  # (only the append function checks them; the caller answers the way that needs none)
            unconditional = [entry for entry, expect in zip(batch, expects, strict=True) if expect is None]
            written = iter(self.write(unconditional, key, [None] * len(unconditional))[0]) if unconditional else iter(())
            return [None if expect else next(written) for expect in expects], None
        if self.postgres and self.server_hashes:
            return list(_write_pg(self.dbapi, batch, key, self.function)), None
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


def _rows_json(batch: list[dict[str, Any]], expects: list[Expect | None] | None = None) -> str:
    """The batch as the statement's one JSON parameter: each entry's fields and its canonical JSON without `at`
    (and for an entry on condition, what it expects: `eg` the key generation, `ev` the versions)."""
    rows = []
    for n, entry in enumerate(batch, 1):
        text = audit.canonical({**entry, "at": None})
        if not text.startswith(_AT_NULL):  # `at` sorts first among FIELDS; the SQL relies on it
            raise AssertionError("canonical JSON does not start with at")
        row = {f: entry.get(f) for f in _PG_FIELDS}
        row["n"], row["rest"] = n, text[len(_AT_NULL):]
        expect = expects[n - 1] if expects else None
        if expect is not None:
            row["eg"], row["ev"] = expect
        rows.append(row)
    # one JSON parameter for the batch: cheaper to send than a dozen arrays, whose text psycopg escapes
    return json.dumps(rows, ensure_ascii=False)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    pads = _PADS.get(key)
    if pads is None:
        pads = _PADS[key] = audit.pads(key)  # HMAC as two sha256() on the server (no pgcrypto needed)
    return pads


def _write_pg(raw: Any, batch: list[dict[str, Any]], key: bytes, function: str | None = None) -> list[str]:
    """Append `batch` on PostgreSQL in one round trip where the append function (`_pg_function`) could not be
    created: BEGIN, the advisory lock, the statement and COMMIT sent as one query string (each statement takes
    its own snapshot, so the insert reads the last hash every earlier batch committed; the lock is held only
    while the server runs them)."""
    ipad, opad = _pads(key)
    rows = _rows_json(batch)
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
_TEXT, _BYTEA, _TEXT_ARRAY = 25, 17, 1009  # PostgreSQL's type oids of the call's parameters
_TUPLES_OK, _COMMAND_OK = 2, 1  # libpq's PGRES_TUPLES_OK, PGRES_COMMAND_OK


def _prepare_call(raw: Any, function: str) -> None:
    """Prepare the function's call on this connection for `_call`."""
    done = raw.pgconn.prepare(_CALL, f"SELECT {function}($1, $2, $3, $4, $5)".encode(),
                              param_types=[_TEXT, _TEXT, _BYTEA, _BYTEA, _TEXT_ARRAY])
    if done.status != _COMMAND_OK:
        raise RuntimeError((done.error_message or b"").decode(errors="replace") or "audit: prepare failed")


def _call_conditional(raw: Any, batch: list[dict[str, Any]], key: bytes,
                      expects: list[Expect | None]) -> tuple[list[str | None], State | None]:
    """The prepared call of the append function run through libpq directly, the pads sent as binary (psycopg's
    cursor, adapting the parameters and loading the answer, cost a third of an append's CPU); in autocommit the
    call is its own transaction (the function plans its statements once per connection). It answers four
    lines: the key generation, the versions (JSON) and the written entries' places in the batch (both empty
    when no entry had a condition), and their hashes, in chain order (hex digests)."""
    ipad, opad = _pads(key)
    ids = sorted({d for expect in expects if expect is not None for d in expect[1]})
    array = "{" + ",".join('"' + d.replace("\\", "\\\\").replace('"', '\\"') + '"' for d in ids) + "}"
    result = raw.pgconn.exec_prepared(_CALL, [_rows_json(batch, expects).encode(), audit.GENESIS.encode(), ipad,
                                              opad, array.encode()], param_formats=[0, 0, 1, 1, 0])
    if result.status != _TUPLES_OK:
        raise RuntimeError((result.error_message or b"").decode(errors="replace") or "audit: append failed")
    value = result.get_value(0, 0) if result.ntuples else None
    generation, versions, places, hashes = (value or b"\n\n\n").decode().split("\n")
    digests = hashes.split(",") if hashes else []
    state: State | None = None
    if generation:  # conditions were checked: only the entries at `places` (1-based) were written
        found = json.loads(versions)
        state = (int(generation), {d: int(found.get(d) or 0) for d in ids})
        taken = [int(n) for n in places.split(",")] if places else []
    else:
        taken = list(range(1, len(batch) + 1))
    if len(digests) != len(taken):
        raise RuntimeError(f"audit batch of {len(taken)} wrote {len(digests)} entries")
    written: list[str | None] = [None] * len(batch)
    for n, digest in zip(taken, digests, strict=True):
        written[n - 1] = digest
    return written, state


_PG_BATCH = f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_KEY}); {_PG_APPEND.strip()}; COMMIT"

# The same statement as a PL/pgSQL function: its plan is made once per connection instead of on every batch (the
# largest part of the server's work per entry), and the call is one statement in autocommit. Inside it each
# statement takes a new snapshot, so the insert, run once the lock is held, reads the last committed hash. Its
# name carries a checksum of its text: a hub with another statement never calls an older function.
# Seq scans are off inside it: the plan is kept for the connection's life, and one made while the log was small
# (its statistics said a few rows) read the whole log on every append ever after, keyed req/s falling as the
# log grew (the API benchmark: 420 to 90 within a minute). The primary key finds the head at any size.
_PG_SETTINGS = "SET enable_seqscan = off"
_PG_FUNCTION_SQL = (_PG_APPEND.replace("%(batch)s", "kept").replace("%(genesis)s", "genesis")
                    .replace("%(ipad)s", "ipad").replace("%(opad)s", "opad").strip())
# Entries on condition (append_if, `eg` and `ev` in the batch's JSON) are kept only if the key generation and
# the current versions of `ids`, read under the lock, are those they expect; the others are always written.
_PG_KEEP = f"""
  IF cardinality(ids) > 0 THEN
    SELECT g.n INTO gen FROM {tables.key_generation.name} g WHERE g.id = 1;
    SELECT coalesce(jsonb_object_agg(l.dataset, l.v), '{{}}'::jsonb) INTO versions
      FROM (SELECT dataset, max(version) AS v FROM {tables.loads.name}
            WHERE status = 'committed' AND dataset = ANY(ids) GROUP BY dataset) l;
    SELECT coalesce(jsonb_agg(jsonb_set(s.e, '{{n}}', to_jsonb(s.k)) ORDER BY s.k)::text, '[]'),
           coalesce(array_agg(s.o ORDER BY s.k), '{{}}')
      INTO kept, places
      FROM (SELECT a.e, a.o, row_number() OVER (ORDER BY a.o) AS k
            FROM jsonb_array_elements(batch::jsonb) WITH ORDINALITY AS a(e, o)
            WHERE NOT (a.e ? 'eg') OR ((a.e->>'eg')::bigint = gen AND NOT EXISTS (
              SELECT 1 FROM jsonb_each_text(a.e->'ev') w
              WHERE coalesce((versions->>w.key)::bigint, 0) <> w.value::bigint))) s;
  ELSE
    kept := batch;
  END IF;"""
_PG_FUNCTION = f"hub_audit_append_{zlib.crc32((_PG_FUNCTION_SQL + _PG_KEEP + _PG_SETTINGS).encode()):08x}"
_PG_FUNCTION_SIGNATURE = f"{_PG_FUNCTION}(text,text,bytea,bytea,text[])"
_PG_CREATE = f"""CREATE OR REPLACE FUNCTION {_PG_FUNCTION}(batch text, genesis text, ipad bytea, opad bytea, ids text[])
RETURNS text LANGUAGE plpgsql {_PG_SETTINGS} AS $hub$
DECLARE hashes text[]; gen bigint; versions jsonb; kept text; places bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});{_PG_KEEP}
  WITH written AS ({_PG_FUNCTION_SQL})
  SELECT array_agg(written.hash ORDER BY written.id) INTO hashes FROM written;
  RETURN concat_ws(E'\\n', coalesce(gen::text, ''), coalesce(versions::text, ''),
                   coalesce(array_to_string(places, ','), ''), coalesce(array_to_string(hashes, ','), ''));
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
