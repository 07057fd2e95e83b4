"""The audit log: who read or changed what, when, and with what result — append-only, chained by hashes.

Each entry's hash is sha256(previous entry's hash + canonical JSON of the entry), so editing, removing or
reordering an entry breaks the chain from that entry on, and `verify()` names the first broken one. The
database itself refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of hub_audit through triggers
(`ensure_append_only`, run by `Store.init`): changing the log needs someone who can drop triggers, and the
chain still shows what they did. Cutting entries off the end is visible only against a head hash kept
elsewhere, which is why `verify()` returns it (`hub audit --verify` prints it for the operator's records).

Appending takes a lock (PostgreSQL advisory transaction lock; SQLite's write lock via BEGIN IMMEDIATE) and
reads the last hash inside the same transaction, so several gunicorn workers never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from publish import tables
from publish.store import Store, utcnow

__all__ = ["GENESIS", "FIELDS", "Verification", "append", "canonical", "entry_hash", "entries", "verify",
           "ensure_append_only", "append_only_in_place", "note", "counted"]

GENESIS = "0" * 64
# What an entry says, in the order it is hashed (canonical JSON sorts keys anyway; this fixes the set).
FIELDS = ("at", "request_id", "client", "ip", "method", "path", "dataset", "query", "status", "rows", "personal",
          "detail")
_LOCK_KEY = zlib.crc32(b"hub_audit")  # the PostgreSQL advisory lock serialising appends
_TRIGGERS = ("hub_audit_no_update", "hub_audit_no_delete")


# -- what views tell the request's audit entry (hub/security.py writes it after the answer) ------------------

def note(*, dataset: str | None = None, rows: int | None = None, personal: bool | None = None) -> None:
    """Record what this request read — dataset, rows returned, whether personal fields were among them."""
    from flask import g

    if dataset is not None:
        g.audit_dataset = dataset
    if rows is not None:
        g.audit_rows = rows
    if personal is not None:
        g.audit_personal = personal


class _Counter:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def counted(rows: Iterable[Any]) -> Iterator[Any]:
    """Pass `rows` through, counting them for the audit entry of a streamed answer (written when it ends)."""
    from flask import g

    counter = g.audit_counter = _Counter()  # set now, before the answer starts: the hook looks for it

    def counting() -> Iterator[Any]:
        for row in rows:
            counter.n += 1
            yield row

    return counting()


# -- the chain ---------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def canonical(entry: dict[str, Any]) -> str:
    """The entry as the hash sees it: the FIELDS only, sorted keys, no spaces, text as is (UTF-8)."""
    return json.dumps({k: _plain(entry.get(k)) for k in FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode("utf-8")).hexdigest()


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown audit fields: {sorted(unknown)}")
    entry = {k: fields.get(k) for k in FIELDS}
    if entry["query"] is not None:
        entry["query"] = str(entry["query"])[:2000]
    if entry["detail"] is not None and not isinstance(entry["detail"], str):
        entry["detail"] = json.dumps(entry["detail"], ensure_ascii=False, sort_keys=True, default=str)
    if entry["personal"] is not None:
        entry["personal"] = bool(entry["personal"])
    return entry


def append(store: Store, **fields: Any) -> str:
    """Write one entry at the end of the chain; returns its hash. Fields: see FIELDS (`at` is set here)."""
    entry = _clean(fields)
    t = tables.audit_log
    with store.engine.connect() as conn:
        conn.info["sqlite_begin"] = "IMMEDIATE"  # SQLite: take the write lock before reading the last hash
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                prev = conn.execute(sa.select(t.c.hash).order_by(t.c.id.desc()).limit(1)).scalar() or GENESIS
                entry["at"] = utcnow()  # inside the lock, so time order is chain order
                digest = entry_hash(prev, entry)
                conn.execute(t.insert().values(**entry, prev_hash=prev, hash=digest))
        finally:
            conn.info.pop("sqlite_begin", None)
    return digest


def _entry(row: Any) -> dict[str, Any]:
    out = {"id": row.id}
    out.update({k: getattr(row, k) for k in FIELDS})
    out["at"] = row.at.isoformat(timespec="microseconds") if row.at else None
    if out["detail"]:
        try:
            out["detail"] = json.loads(out["detail"])
        except ValueError:
            pass
    return out


def entries(store: Store, *, client: str | None = None, dataset: str | None = None, since: datetime | None = None,
            until: datetime | None = None, status: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Entries newest first, filtered; for `hub audit` and the admin API."""
    t = tables.audit_log
    stmt = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if client:
        stmt = stmt.where(t.c.client == client)
    if dataset:
        stmt = stmt.where(t.c.dataset == dataset)
    if since:
        stmt = stmt.where(t.c.at >= since)
    if until:
        stmt = stmt.where(t.c.at < until)
    if status:
        stmt = stmt.where(t.c.status == status)
    with store.engine.connect() as conn:
        return [_entry(r) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # entries read
    head: str  # hash of the last entry (GENESIS for an empty log): keep it elsewhere to detect truncation
    broken_id: int | None = None  # first entry that does not fit the chain
    reason: str | None = None
    append_only: bool = True  # the database's triggers are in place

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head": self.head, "broken_id": self.broken_id,
                "reason": self.reason, "append_only": self.append_only}


def _rows(store: Store, batch: int = 5000) -> Iterator[Any]:
    t = tables.audit_log
    last = 0
    with store.engine.connect() as conn:  # keyset pages: flat memory however long the log
        while True:
            rows = conn.execute(sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(batch)).all()
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].id


def verify(store: Store) -> Verification:
    """Walk the chain from the start; report the first entry whose links or content do not match."""
    prev, checked = GENESIS, 0
    in_place = append_only_in_place(store.engine)
    for row in _rows(store):
        checked += 1
        entry = {k: getattr(row, k) for k in FIELDS}
        if row.prev_hash != prev:
            return Verification(False, checked, prev, row.id, "prev_hash does not match the entry before "
                                "(an entry was removed or reordered)", in_place)
        if entry_hash(prev, entry) != row.hash:
            return Verification(False, checked, prev, row.id, "hash does not match the content "
                                "(the entry was edited)", in_place)
        prev = row.hash
    return Verification(True, checked, prev, None, None, in_place)


_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {op} ON hub_audit "
    "BEGIN SELECT RAISE(ABORT, 'hub_audit is append-only / nhật ký kiểm toán chỉ được ghi thêm'); END"
    for name, op in zip(_TRIGGERS, ("UPDATE", "DELETE"), strict=True)
]
_PG_FUNCTION = """CREATE OR REPLACE FUNCTION hub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hub_audit is append-only / nhật ký kiểm toán chỉ được ghi thêm'; END $$"""
_PG_TRIGGERS = [
    "CREATE OR REPLACE TRIGGER hub_audit_no_update BEFORE UPDATE ON hub_audit "
    "FOR EACH ROW EXECUTE FUNCTION hub_audit_append_only()",
    "CREATE OR REPLACE TRIGGER hub_audit_no_delete BEFORE DELETE ON hub_audit "
    "FOR EACH ROW EXECUTE FUNCTION hub_audit_append_only()",
    "CREATE OR REPLACE TRIGGER hub_audit_no_truncate BEFORE TRUNCATE ON hub_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION hub_audit_append_only()",
]


def append_only_in_place(engine: Engine | sa.Connection) -> bool:
    """Whether the triggers refusing UPDATE and DELETE on hub_audit exist."""
    if engine.dialect.name == "sqlite":
        sql = "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND tbl_name='hub_audit' AND name IN ({})"
    else:
        sql = ("SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass('hub_audit') "
               "AND NOT tgisinternal AND tgname IN ({})")
    sql = sql.format(", ".join(f"'{n}'" for n in _TRIGGERS))
    if isinstance(engine, sa.Connection):
        return engine.exec_driver_sql(sql).scalar() == len(_TRIGGERS)
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar() == len(_TRIGGERS)


def ensure_append_only(engine: Engine) -> None:
    """Create the triggers that make hub_audit append-only, if missing (idempotent; cheap when present)."""
    if append_only_in_place(engine):
        return
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for sql in _SQLITE_TRIGGERS:
                conn.exec_driver_sql(sql)
            return
        # several workers may start at once: one creates, the others find it done
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        if append_only_in_place(conn):
            return
        conn.exec_driver_sql(_PG_FUNCTION)
        for sql in _PG_TRIGGERS:
            conn.exec_driver_sql(sql)
