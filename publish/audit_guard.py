"""What guards the audit chain (publish/audit.py) from outside the chain itself: signed checkpoints of its head
kept outside the database (anchors), and the triggers that make `hub_audit` append-only in the database.

Cutting entries off the end leaves a valid, shorter chain: it shows only against a head kept elsewhere.
`anchor()` gives a checkpoint (entry id, its hash, HMAC signature) that goes into every backup's manifest, into
the JSON log, and into storage/audit-anchors.jsonl at each `hub audit --verify`; `audit.verify(anchors=...)`
checks each one with `signed()`. The triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of
hub_audit; `ensure_append_only` (run by `Store.init`) creates them, `append_only_in_place` reports them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import zlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from publish import tables
from publish.store import Store

__all__ = ["LOCK_KEY", "anchor", "signed", "read_anchors", "anchors_path", "keep_anchor", "append_only_in_place",
           "ensure_append_only"]

LOCK_KEY = zlib.crc32(b"hub_audit")  # the PostgreSQL advisory lock serialising appends (and trigger creation)
_TRIGGERS = ("hub_audit_no_update", "hub_audit_no_delete")


# -- anchors: the head, signed, kept outside the database ------------------------------------------------------

def _signature(key: bytes, entry_id: int, digest: str) -> str:
    return hmac.new(key, f"hub-audit-anchor:{entry_id}:{digest}".encode(), hashlib.sha256).hexdigest()


def signed(key: bytes, item: dict[str, Any]) -> bool:
    """Whether a checkpoint carries the signature `key` gives its id and hash."""
    try:
        expected = _signature(key, int(item["id"]), str(item["hash"]))
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, str(item.get("sig", "")))


def anchor(store: Store, conn: sa.Connection | None = None) -> dict[str, Any]:
    """A signed checkpoint of the chain's head: {id, hash, at, sig} (id 0 for an empty log)."""
    from publish.audit import GENESIS, key_of

    t = tables.audit_log
    stmt = sa.select(t.c.id, t.c.hash, t.c.at).order_by(t.c.id.desc()).limit(1)
    if conn is None:
        with store.audit_engine.connect() as own:
            row = own.execute(stmt).first()
    else:
        row = conn.execute(stmt).first()
    entry_id, digest = (row.id, row.hash) if row is not None else (0, GENESIS)
    at = row.at.isoformat(timespec="seconds") if row is not None and row.at else None
    return {"id": entry_id, "hash": digest, "at": at, "sig": _signature(key_of(store), entry_id, digest)}


def read_anchors(path: Any) -> list[dict[str, Any]]:
    """Checkpoints kept one JSON object a line (storage/audit-anchors.jsonl), or none when there is no file."""
    file = Path(path)
    if not file.is_file():
        return []
    out = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"id": -1, "hash": "", "sig": ""})  # unreadable: counts as a bad signature
    return [a for a in out if a.get("id") != 0]


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
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        if append_only_in_place(conn):
            return
        conn.exec_driver_sql(_PG_FUNCTION)
        for sql in _PG_TRIGGERS:
            conn.exec_driver_sql(sql)


def anchors_path(storage_dir: Any) -> Any:
    """Where `hub audit --verify` keeps the signed checkpoints (copy it off the server too)."""
    return Path(storage_dir) / "audit-anchors.jsonl"


def keep_anchor(store: Store, storage_dir: Any) -> dict[str, Any]:
    """Append the head's signed checkpoint to storage/audit-anchors.jsonl and the JSON log; returns it."""
    item = anchor(store)
    path = anchors_path(storage_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(item) + "\n")
    logging.getLogger("hub.audit").info("audit head %s at entry %s", item["hash"], item["id"],
                                        extra={"audit_anchor": item})
    return item
