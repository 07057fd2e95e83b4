"""Where the audit chain (publish/audit.py) is kept: beside the main database on SQLite, inside it on PostgreSQL.

SQLite has one write lock per database file. A load holds the main file's for as long as it writes (minutes for
a large one), and every request that presents a key appends an audit entry before its answer is sent: with the
log in the main file, each such request waited behind the whole load (23.8 s during a 200,000-row apply,
issue 16). So on SQLite the log lives in its own file, `hub.db` -> `hub-audit.db` (same folder, WAL mode like
the main one), and an append takes only that file's lock. On PostgreSQL the log stays the main database's
`hub_audit` table: appends there take an advisory lock of their own and never wait for a load.

`Store.audit_engine` is the engine of the log (the main engine on PostgreSQL and in-memory SQLite). Alembic's
first revision still creates `hub_audit` in the main file; `settle` (run by `Store.init`, and by `hub audit`)
creates the table in the audit file and moves any entries an older hub wrote into the main file there, ids and
hashes unchanged, then drops the main file's table. A later change of the `hub_audit` table must be made in
the audit file on SQLite (tables.audit_log is its definition on both backends).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from publish import tables
from publish.db import create_engine, write_transaction

__all__ = ["audit_file", "engine_for", "settle", "separate"]

SUFFIX = "-audit"
_MOVE_BATCH = 5000


def audit_file(engine: Engine) -> Path | None:
    """The audit log's own file for a SQLite main database file (`hub.db` -> `hub-audit.db`); None on
    PostgreSQL and for an in-memory database."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    main = Path(database)
    return main.with_name(f"{main.stem}{SUFFIX}{main.suffix}")


def engine_for(engine: Engine, lock_timeout: int) -> Engine:
    """The engine the audit log is written with: one on its own file beside a SQLite main file, else `engine`."""
    path = audit_file(engine)
    if path is None:
        return engine
    return create_engine(f"sqlite:///{path}", lock_timeout=lock_timeout, spatial=False)


def separate(main: Engine, audit: Engine) -> bool:
    return audit is not main


def settle(main: Engine, audit: Engine, *, triggers: bool = True) -> None:
    """Make the audit file ready: its table, and entries an older hub wrote into the main file moved there.

    A new log gets the append-only triggers; a log moved from the main file gets them only if it had them
    there (a removed guard stays visible to `hub audit --verify`); `triggers` puts them back in any case
    (what starting the hub does, as before)."""
    from publish.audit import append_only_in_place, ensure_append_only

    if not separate(main, audit):
        if triggers:
            ensure_append_only(main)
        return
    t = tables.audit_log
    with write_transaction(audit) as target:  # the audit file's lock: several workers starting at once take turns
        fresh = not sa.inspect(target).has_table(t.name)
        t.create(target, checkfirst=True)
        legacy = sa.inspect(main).has_table(t.name)
        guarded = legacy and append_only_in_place(main)
        if legacy:
            _copy(main, target)
    if legacy:  # only once the copy is committed: a crash in between copies the rest next time
        with write_transaction(main) as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t.name}")  # its triggers go with it
    if triggers or guarded or (fresh and not legacy):
        ensure_append_only(audit)


def _copy(main: Engine, target: sa.Connection) -> None:
    """Copy the main file's entries past the audit file's last id, ids and hashes as they are."""
    t = tables.audit_log
    last = target.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0
    with main.connect() as source:
        while True:
            rows = source.execute(sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(_MOVE_BATCH)).all()
            if not rows:
                return
            target.execute(t.insert(), [row._asdict() for row in rows])
            last = rows[-1].id
