"""Connecting to the store: SQLite + SpatiaLite (embedded default) or PostgreSQL + PostGIS.

The machine's Python `sqlite3` cannot load extensions, so SQLite goes through `sqlean` (a drop-in DB-API
module that can), and each new connection loads Debian's `mod_spatialite`. WAL mode lets readers keep reading
the previous version while a load writes the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from core.config import DEFAULT_LOCK_TIMEOUT
from core.errors import StorageError, StoreError
from publish.liveness import check_on_checkout

SPATIALITE = "mod_spatialite"


def create_engine(url: str, *, readonly: bool = False, lock_timeout: int = DEFAULT_LOCK_TIMEOUT, spatial: bool = True,
                  **kw: Any) -> Engine:
    """An engine for `url` with the spatial extension ready on every connection (unless not `spatial`: a SQLite
    file holding no geometry, such as the audit log's); on SQLite a writer waits `lock_timeout` seconds for
    another's write lock."""
    if url.startswith("sqlite"):
        import sqlean

        sqlean.extensions.enable("text")  # text_lower: SQLite's own lower() changes ASCII letters only
        engine = sa.create_engine(url, module=sqlean, connect_args={"timeout": lock_timeout, "check_same_thread": False},
                                  **kw)
        event.listen(engine, "connect", partial(_sqlite_on_connect, busy_ms=lock_timeout * 1000, spatial=spatial))
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a write transaction
        # takes the lock at its start (BEGIN IMMEDIATE) and readers get a consistent snapshot.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql"):
        # no pre-ping (a round trip per checkout): a dropped connection is seen on its socket (publish/liveness.py)
        engine = sa.create_engine(url, connect_args={"options": _without_jit(url)}, **kw)
        event.listen(engine, "checkout", check_on_checkout)
        return engine
    raise StoreError(f"Không hỗ trợ cơ sở dữ liệu {url!r}", f"Unsupported database URL {url!r}")


def _without_jit(url: str) -> str:
    """The connection's `options`: PostgreSQL's JIT off, then whatever the URL's own `options` say (later wins).

    The hub's statements are short reads and batched loads, but a radius search's plan is costed high (ST_DWithin
    over geography: ~470,000, above jit_above_cost), and PostgreSQL then compiled each such statement for 40-70 ms
    of its 100-170: a `near` page of 100 (100,000 rows, 50 km) took 129-145 ms with JIT, 80-93 ms without."""
    own = sa.engine.make_url(url).query.get("options")
    given = " ".join(own) if isinstance(own, tuple) else own
    return "-c jit=off" + (f" {given}" if given else "")


def _sqlite_on_connect(dbapi_conn: Any, _record: Any, busy_ms: int = DEFAULT_LOCK_TIMEOUT * 1000,
                       spatial: bool = True) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    if not spatial:
        _sqlite_pragmas(dbapi_conn, busy_ms).close()
        return
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(SPATIALITE)
        dbapi_conn.enable_load_extension(False)
    except Exception as exc:  # noqa: BLE001 - turned into a clear message
        raise StoreError(
            "Không nạp được SpatiaLite (cài gói libsqlite3-mod-spatialite)",
            f"Cannot load SpatiaLite (install the Debian package libsqlite3-mod-spatialite): {exc}",
        ) from exc
    cur = _sqlite_pragmas(dbapi_conn, busy_ms)
    if not cur.execute("SELECT 1 FROM sqlite_master WHERE name='spatial_ref_sys'").fetchone():
        cur.execute("SELECT InitSpatialMetadata(1)")
    cur.close()


def _sqlite_pragmas(dbapi_conn: Any, busy_ms: int) -> Any:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    return cur


# the execution option of a connection from `reading`: on SQLite its statements run without BEGIN
_NO_BEGIN = "hub_no_begin"


def _sqlite_begin(conn: sa.Connection) -> None:
    if conn.get_execution_options().get(_NO_BEGIN):
        return  # each statement its own snapshot (reading)
    mode = conn.info.get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def driver(conn: sa.Connection) -> Any:
    """The DB-API connection under `conn` (sqlite3 / sqlean or psycopg), for COPY, executemany and PRAGMAs.

    SQLAlchemy types it as optional (None once the connection is invalidated); ours are checked out and live."""
    return conn.connection.driver_connection


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row a one-row INSERT added (SQLAlchemy types it as optional: None for other
    statements)."""
    key = result.inserted_primary_key
    assert key is not None, "not a one-row INSERT"
    return int(key[0])


@contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A transaction that will write after reading: on SQLite it takes the write lock at BEGIN (IMMEDIATE),
    waiting for another writer (busy_timeout) instead of failing with "database is locked" when its read
    snapshot cannot be upgraded. On PostgreSQL, an ordinary transaction."""
    with engine.connect() as conn:
        conn.info["sqlite_begin"] = "IMMEDIATE"
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop("sqlite_begin", None)


@contextmanager
def without_waiting(conn: sa.Connection, busy_ms: int) -> Iterator[sa.Connection]:
    """On SQLite, statements on `conn` fail at once ("database is locked", see `locked`) instead of waiting for
    another connection's write lock; `busy_ms` (the engine's wait) is put back afterwards. Nothing on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield conn
        return
    driver(conn).execute("PRAGMA busy_timeout = 0")
    try:
        yield conn
    finally:
        driver(conn).execute(f"PRAGMA busy_timeout = {int(busy_ms)}")


def locked(exc: BaseException) -> bool:
    """Whether a database error is SQLite's "database is locked" (another connection holds the write lock)."""
    return "database is locked" in str(getattr(exc, "orig", exc)).lower()


_FULL = ("database or disk is full", "no space left on device", "disk full", "could not extend file")
_READ_ONLY = ("attempt to write a readonly database", "read-only file system", "readonly database")


def storage_full(exc: BaseException) -> StorageError | None:
    """The StorageError a database error means when the disk under the database is full or read-only (SQLite's
    "database or disk is full", PostgreSQL's "could not extend file ... No space left on device"), else None."""
    text = str(getattr(exc, "orig", exc)).lower()
    if any(needle in text for needle in _FULL):
        return StorageError("Cơ sở dữ liệu không ghi được: đĩa đã đầy; không có thay đổi nào được lưu",
                            "The database cannot write: the disk is full; no change was saved")
    if any(needle in text for needle in _READ_ONLY):
        return StorageError("Cơ sở dữ liệu không ghi được: ổ đĩa hoặc tệp chỉ cho đọc; không có thay đổi nào được lưu",
                            "The database cannot write: the disk or the file is read-only; no change was saved")
    return None


def is_sqlite(engine: Engine | sa.Connection) -> bool:
    return engine.dialect.name == "sqlite"


def reading(engine: Engine) -> sa.Connection:
    """A pooled connection for reads only. On PostgreSQL in autocommit: psycopg would otherwise send BEGIN before
    the first statement and the pool ROLLBACK when it is returned, two round trips. The hub's transactions are
    READ COMMITTED (the server's default; nothing sets another level), where every statement of a transaction
    takes its own snapshot anyway: without one, the reads see what they would have seen, and only stop holding
    their tables' share locks between statements (nothing the API reads is dropped or altered while it serves: a
    first load's table swap happens only to a table with no committed rows, publish/direct_load.py). Only for
    callers whose statements are each right on their own, or whose rows cannot change between them.
    On SQLite without BEGIN (and so without the pool's ROLLBACK), each statement reading its own snapshot, as on
    PostgreSQL: two calls into SQLite fewer, about 30 µs of a cold page's CPU. Not through pysqlite's AUTOCOMMIT
    switch: it would leave the pooled connection in the driver's own transaction mode, which _sqlite_on_connect
    turns off."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    elif engine.dialect.name == "sqlite":
        conn = conn.execution_options(**{_NO_BEGIN: True})
    return conn


def ping(engine: Engine) -> None:
    """One round trip to the database; raises the driver's error when it does not answer."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def check_connection(engine: Engine) -> None:
    """Connect once, turning a driver error into one clear line."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            if engine.dialect.name == "postgresql":
                _ensure_postgis(conn)
                conn.commit()
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(
            f"Không kết nối được cơ sở dữ liệu {engine.url.render_as_string(hide_password=True)}: {reason}",
            f"Cannot connect to the database {engine.url.render_as_string(hide_password=True)}: {reason}",
        ) from None


def _ensure_postgis(conn: sa.Connection) -> None:
    have = conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname='postgis'")).first()
    if not have:
        try:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except Exception as exc:  # noqa: BLE001
            raise StoreError(
                "Cơ sở dữ liệu chưa có PostGIS (cài postgresql-15-postgis-3 và chạy CREATE EXTENSION postgis)",
                "The database has no PostGIS (install postgresql-15-postgis-3 and run CREATE EXTENSION postgis)",
            ) from exc


class unicode_lower(GenericFunction[str]):  # noqa: N801 - named as SQL functions are
    """lower() of every letter ('ĐÌNH' -> 'đình') on both backends: PostgreSQL's lower() with a UTF-8 ctype,
    sqlean's text_lower() on SQLite, whose built-in lower() leaves non-ASCII letters as they are."""

    type = sa.Text()
    inherit_cache = True


@compiles(unicode_lower, "sqlite")
def _unicode_lower_sqlite(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"text_lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower)
def _unicode_lower(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"
