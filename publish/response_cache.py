"""Encoded answers of committed versions, kept for reuse: a version never changes once committed, so the answer
to (dataset, version, canonical query, format, language, what the caller may see) is fixed forever.

The key names all of these (and the versions of the datasets the answer also reads: referenced datasets for
labels and names in filters, admin units for `commune`), so invalidation is free: a new version is a new key,
and old versions' entries age out of the LRU (by bytes) and of Redis (by time). The caller enters the key only
through its visibility class (`visibility_class`): what it may see of the whole catalogue, never who it is.

Answers holding personal data are kept only in this process's memory, under a class that names the grant,
never in Redis (shared by every worker and app server).

An unpinned request must learn the current version before it can name its key. It asks the database every
time (a new version is served the moment its load commits, whichever process or host committed it), but on a
connection the process keeps for that one statement (`VersionReader`): one round trip, instead of a pool
checkout's BEGIN, the query and ROLLBACK. The same statement reads the key generation (publish/clients.py),
so a keyed request learns whether any key changed anywhere without a round trip of its own.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import struct
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import json_bytes
from core.catalog import Catalog, Dataset
from publish import tables
from publish.access import Viewer, can_see_dataset
from publish.liveness import dropped, once_more_if_dropped
from publish.lru import LruCache
from publish.store import Store

__all__ = ["Entry", "ResponseCache", "VersionReader", "cache_key", "current_versions", "etag_for", "key_generation",
           "version_reader", "visibility_class"]

log = logging.getLogger("publish.response_cache")

PREPARED = b"hub_current_versions"  # the VersionReader's statement, on its own connections
TUPLES_OK, COMMAND_OK = 2, 1  # libpq's PGRES_TUPLES_OK, PGRES_COMMAND_OK (psycopg.pq.ExecStatus)
REDIS_TTL_SECONDS = 7 * 24 * 3600  # old versions' answers age out of Redis
REDIS_PREFIX = "hub:answer:"
MAX_ENTRY_BYTES = 4 * 1024 * 1024  # larger answers are encoded each time rather than pushing out many others
REDIS_PAUSE_SECONDS = 30.0  # after a failed round trip, Redis is left alone this long (no timeout per request)
MIN_GZIP_BYTES = 1024  # smaller answers are sent as they are


@dataclass(frozen=True)
class Entry:
    """One encoded answer and what its audit entry says about it."""

    body: bytes
    gzipped: bytes | None
    mimetype: str
    rows: int | None
    personal: bool

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + 200

    @property
    def compressible(self) -> bool:
        return len(self.body) >= MIN_GZIP_BYTES

    def with_gzip(self) -> Entry:
        """The same answer with its gzip form (made on the first caller that accepts gzip, then kept: a walk of
        pages nobody asks twice, or a client that takes identity, never pays for it)."""
        if self.gzipped is not None or not self.compressible:
            return self
        return Entry(self.body, gzip.compress(self.body, compresslevel=5, mtime=0), self.mimetype, self.rows,
                     self.personal)

    def pack(self) -> bytes:
        head = json.dumps({"m": self.mimetype, "r": self.rows, "p": self.personal, "b": len(self.body)}).encode()
        return struct.pack(">I", len(head)) + head + self.body + (self.gzipped or b"")

    @classmethod
    def unpack(cls, raw: bytes) -> Entry:
        (n,) = struct.unpack(">I", raw[:4])
        head = json.loads(raw[4:4 + n])
        start = 4 + n
        body = raw[start:start + head["b"]]
        gz = raw[start + head["b"]:] or None
        return cls(body, gz, str(head["m"]), head["r"], bool(head["p"]))


# (catalogue, viewer) -> class, per process: the catalogue is held weakly and checked by identity
_CLASSES: LruCache[tuple[weakref.ref[Catalog], str]] = LruCache(4096)


def visibility_class(catalog: Catalog, viewer: Viewer) -> str:
    """What the caller may see, as a name shared by every caller who sees the same: `open` for anonymous callers,
    otherwise the non-open datasets it may read and the datasets whose personal data it was granted. Never the
    caller's name or key. (Fields marked internal need only a key; restricted datasets a grant or a role.)"""
    if not viewer.authenticated:
        return "open"
    memo = (id(catalog), viewer)  # a Viewer is frozen: equal viewers see the same
    known = _CLASSES.get(memo)
    if known is not None and known[0]() is catalog:  # not another catalogue that took a dead one's address
        return known[1]
    seen = sorted(d.id for d in catalog if d.access != "open" and can_see_dataset(d, viewer))
    personal = sorted(viewer.personal)
    digest = hashlib.blake2b(json.dumps([seen, personal]).encode(), digest_size=10).hexdigest()
    name = ("personal:" if personal else "keyed:") + digest
    _CLASSES.put(memo, (weakref.ref(catalog), name))
    return name


def cache_key(parts: Mapping[str, Any]) -> str:
    """A stable key of everything an answer follows from (sorted, so parameter order does not matter)."""
    return hashlib.sha256(json_bytes.dumps(parts, sort_keys=True)).hexdigest()  # 1 µs, json took 6


def etag_for(key: str) -> str:
    """The answer's entity tag, derived from its key: known before anything is read or encoded."""
    return key[:32]


def depends_on(catalog: Catalog, dataset: Dataset, *, labels: bool, fk_filters: bool, commune: bool) -> list[str]:
    """Datasets besides `dataset` whose current version the answer reads: referenced datasets (labels, names in
    foreign-key filters) and the admin units (`commune`)."""
    out: set[str] = set()
    if labels or fk_filters:
        out.update(r for r in dataset.schema.referenced_datasets() if r in catalog.datasets)
    if commune and "admin-units" in catalog.datasets:
        out.add("admin-units")
    out.discard(dataset.id)
    return sorted(out)


def current_versions(store: Store, ids: Iterable[str]) -> dict[str, int]:
    """The current committed version of each dataset (0 when none), in one query."""
    return _versions_and_generation(store, sorted(set(ids)))[0]


def key_generation(store: Store) -> int:
    """The key generation alone, through the pool (callers without a VersionReader at hand)."""
    return _versions_and_generation(store, [])[1]


def _versions_and_generation(store: Store, wanted: list[str]) -> tuple[dict[str, int], int]:
    loads, gen = tables.loads, tables.key_generation
    stmt = sa.union_all(
        sa.select(loads.c.dataset, sa.func.max(loads.c.version))
        .where(loads.c.dataset.in_(wanted), loads.c.status == "committed").group_by(loads.c.dataset),
        sa.select(sa.null(), gen.c.n).where(gen.c.id == 1))
    with store.read_engine.connect() as conn:
        found: dict[str | None, int] = {name: int(v or 0) for name, v in conn.execute(stmt)}
    generation = found.pop(None, 0)  # the generation's row has no dataset
    return {name: found.get(name, 0) for name in wanted}, generation


class VersionReader:
    """`current_versions`, on database connections the process keeps for this one statement.

    Every unpinned request asks, so it is one round trip: no pool checkout, and on PostgreSQL in autocommit (no
    BEGIN and ROLLBACK around it; psycopg prepares it after a few runs). A thread
    takes an idle connection for the statement and puts it back: the process holds as many as ask at the same
    moment, not one per thread (most of a request's time is elsewhere, so a worker of 8 threads holds 2-3). A
    kept connection the server dropped is seen on its socket and closed before use; a failed statement drops its
    connection and asks once more through the pool, which raises as any read would.
    A forked worker opens its own connections (the pid is checked)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._idle: list[Any] = []  # connections no thread is using, the most recently used last
        self._pid = os.getpid()
        loads = tables.loads
        self._postgres = engine.dialect.name == "postgresql"
        self._libpq = self._postgres and engine.dialect.driver == "psycopg"  # psycopg 3: its libpq connection
        self._sql = (f"SELECT {loads.c.dataset.name}, max({loads.c.version.name}) FROM {loads.name} "
                     f"WHERE {loads.c.status.name} = 'committed' AND {loads.c.dataset.name} IN ({{marks}}) "
                     f"GROUP BY {loads.c.dataset.name} "
                     f"UNION ALL SELECT NULL, n FROM {tables.key_generation.name} WHERE id = 1")
        self._postgres_sql = self._sql.replace("IN ({marks})", "= ANY($1::text[])")
        # what the last answers said (hub/optimistic.py chooses from it, then checks it where it writes)
        self._seen: dict[str, int] = {}
        self._seen_generation: int | None = None

    def learn(self, versions: Mapping[str, int], generation: int) -> None:
        """Remember what the database said: the current versions of some datasets and the key generation."""
        self._seen.update(versions)
        self._seen_generation = generation

    def last_seen(self, ids: Iterable[str]) -> tuple[int, dict[str, int]] | None:
        """The key generation and the versions of `ids` last learnt, or None if any is unknown."""
        generation, seen = self._seen_generation, self._seen
        try:
            return (generation, {d: seen[d] for d in ids}) if generation is not None else None
        except KeyError:
            return None

    def __call__(self, store: Store, ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(ids))
        return self.read(store, wanted)[0] if wanted else {}

    def read(self, store: Store, ids: Iterable[str]) -> tuple[dict[str, int], int]:
        """The current versions of `ids` and the key generation, in one round trip."""
        wanted = sorted(set(ids))
        found: dict[str | None, int]
        conn = None
        try:
            conn = self._connection()
            if self._libpq:
                found = self._ask_postgres(conn, wanted)
            else:
                cursor = conn.cursor()
                try:
                    mark = "%s" if self._postgres else "?"
                    cursor.execute(self._sql.format(marks=", ".join(mark for _ in wanted) or "NULL"), wanted)
                    found = {name: int(v or 0) for name, v in cursor.fetchall()}
                finally:
                    cursor.close()
        except Exception as exc:  # noqa: BLE001 - a broken kept connection: forget it, ask through the pool instead
            log.info("current versions: the kept connection failed (%s); asking through the pool", exc)
            if conn is not None:
                _close(conn)
            return once_more_if_dropped(lambda: _versions_and_generation(store, wanted))
        with self._lock:
            if self._pid == os.getpid():
                self._idle.append(conn)
        generation = found.pop(None, 0)  # the generation's row has no dataset
        versions = {name: found.get(name, 0) for name in wanted}
        self.learn(versions, generation)
        return versions, generation

    def _ask_postgres(self, conn: Any, wanted: list[str]) -> dict[str | None, int]:
        """The statement, prepared once per connection, run through libpq directly (psycopg's cursor costs two
        thirds of the CPU of this one round trip; libpq waits without holding the GIL)."""
        pgconn = conn.pgconn
        array = "{" + ",".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in wanted) + "}"
        result = pgconn.exec_prepared(PREPARED, [array.encode()])
        if result.status != TUPLES_OK:
            raise RuntimeError((result.error_message or b"").decode(errors="replace") or "current versions failed")
        names = [result.get_value(i, 0) for i in range(result.ntuples)]
        return {name.decode() if name is not None else None: int(result.get_value(i, 1) or 0)
                for i, name in enumerate(names)}

    def _connection(self) -> Any:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the parent's connections are the parent's
                self._pid, self._idle = os.getpid(), []
            kept = self._idle.pop() if self._idle else None
        while kept is not None:
            if not dropped(kept):  # (a look at its socket: the server dropped it, e.g. restarted)
                return kept
            _close(kept)
            with self._lock:
                kept = self._idle.pop() if self._idle else None
        fairy = self.engine.raw_connection()
        raw: Any = fairy.driver_connection  # (None once detached)
        fairy.detach()  # the reader's for good: out of the pool's count, closed when it fails or with the process
        if self._postgres:
            raw.rollback()  # autocommit may be set only outside a transaction (none open: no round trip)
            raw.autocommit = True
        if self._libpq:
            prepared = raw.pgconn.prepare(PREPARED, self._postgres_sql.encode())
            if prepared.status != COMMAND_OK:
                raw.close()
                raise RuntimeError((prepared.error_message or b"").decode(errors="replace"))
        return raw


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001, S110 - already gone
        pass


_READERS: weakref.WeakKeyDictionary[Engine, VersionReader] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def version_reader(engine: Engine) -> VersionReader:
    """The engine's VersionReader (one per engine and process: apps sharing a store share its connections)."""
    with _READERS_LOCK:
        reader = _READERS.get(engine)
        if reader is None:
            reader = _READERS[engine] = VersionReader(engine)
        return reader


class ResponseCache:
    """Encoded answers: a bounded LRU by bytes in this process, and Redis (when given) shared by workers.

    With `max_bytes` 0 nothing is kept in the process (Redis, when given, still shares answers)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, redis_url: str | None = None) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}  # keys being built, held by their builder (one_builder)
        self._items: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._redis: Any = None
        self._redis_paused_until = 0.0
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def get(self, key: str) -> Entry | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        if not self._redis_usable():
            return None
        try:
            raw = self._redis.get(REDIS_PREFIX + key)
        except Exception as exc:  # noqa: BLE001 - Redis down: answer from the database instead
            self._redis_failed("read", exc)
            return None
        if raw is None:
            return None
        entry = Entry.unpack(raw)
        if entry.personal:  # never written there; refuse one that someone else put
            return None
        self._remember(key, entry)
        return entry

    @contextmanager
    def one_builder(self, key: str) -> Iterator[None]:
        """Around building the answer of `key`: the first thread of this process builds it, the others wait until
        it is done, then look in the cache again (and build their own only if it was not kept, being too large).
        When a load commits, every request for the new version misses at once, and the threads building the
        same page and count side by side held each other up for up to a second (issue 16's stall at a load's
        commit). Only for answers that are kept (a committed version)."""
        with self._lock:
            lock = self._building.get(key)
            first = lock is None
            if lock is None:
                lock = self._building[key] = threading.Lock()
                lock.acquire()
        if not first:
            with lock:  # until the first one has built it
                pass
            yield
            return
        try:
            yield
        finally:
            with self._lock:
                del self._building[key]
            lock.release()

    def put(self, key: str, entry: Entry, *, shared: bool = True) -> None:
        """Keep `entry` in the process and (with `shared`, unless personal) in Redis."""
        if entry.size > MAX_ENTRY_BYTES:
            return
        self._remember(key, entry)
        if shared and not entry.personal and self._redis_usable():
            try:
                self._redis.set(REDIS_PREFIX + key, entry.pack(), ex=REDIS_TTL_SECONDS)
            except Exception as exc:  # noqa: BLE001 - the answer was sent; only reuse is lost
                self._redis_failed("write", exc)

    def _redis_usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_paused_until

    def _redis_failed(self, what: str, exc: Exception) -> None:
        self._redis_paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
        log.warning("response cache: Redis %s failed, not used for %.0f s: %s", what, REDIS_PAUSE_SECONDS, exc)

    def _remember(self, key: str, entry: Entry) -> None:
        if self.max_bytes <= 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._items[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
