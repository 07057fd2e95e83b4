"""The audit chain's append on PostgreSQL (publish/audit_writer.py's group commit calls it): one batch of
entries in one round trip, hashed by the server exactly as publish.audit.entry_hash does.

Where the hub may create functions, a PL/pgSQL function (`function_name`) holds the statement, its plan made
once per connection, and writes entries on condition (append_if: hub/optimistic.py); its call is prepared on
each audit connection and sent through libpq (`call_conditional`). Elsewhere the same statement goes as one
query string with its lock and transaction (`write_batch`).
"""

from __future__ import annotations

import json
import logging
import zlib
from contextlib import suppress
from typing import Any

from publish import audit, tables
from publish.audit_guard import LOCK_KEY

log = logging.getLogger("publish.audit_pg")

__all__ = ["Expect", "State", "call_conditional", "function_name", "prepare_call", "write_batch"]

# An entry written on condition (append_if): the key generation and the current versions its answer was chosen
# from; what the database held when the batch was written (the generation, the versions asked about)
Expect = tuple[int, dict[str, int]]
State = tuple[int, dict[str, int]]


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


def write_batch(raw: Any, batch: list[dict[str, Any]], key: bytes, function: str | None = None) -> list[str]:
    """Append `batch` on PostgreSQL in one round trip where the append function (`function_name`) could not be
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
        with suppress(Exception):  # an error leaves the explicit transaction open and aborted
            cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    if len(found) != len(batch):
        raise RuntimeError(f"audit batch of {len(batch)} wrote {len(found)} entries")
    return [digest for _, digest in found]


_CALL = b"hub_audit_append"  # the function's call, prepared on each audit connection (_prepare_call)
_TEXT, _BYTEA, _TEXT_ARRAY = 25, 17, 1009  # PostgreSQL's type oids of the call's parameters
_TUPLES_OK, _COMMAND_OK = 2, 1  # libpq's PGRES_TUPLES_OK, PGRES_COMMAND_OK


def prepare_call(raw: Any, function: str) -> None:
    """Prepare the function's call on this connection for `_call`."""
    done = raw.pgconn.prepare(_CALL, f"SELECT {function}($1, $2, $3, $4, $5)".encode(),
                              param_types=[_TEXT, _TEXT, _BYTEA, _BYTEA, _TEXT_ARRAY])
    if done.status != _COMMAND_OK:
        raise RuntimeError((done.error_message or b"").decode(errors="replace") or "audit: prepare failed")


def call_conditional(raw: Any, batch: list[dict[str, Any]], key: bytes,
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


def function_name(raw: Any) -> str | None:
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
