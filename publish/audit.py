"""The audit log: who read or changed what, when, and with what result — append-only, chained by hashes.

Each entry's hash is HMAC-SHA256(key, previous entry's hash + canonical JSON of the entry), the key being
HUB_AUDIT_KEY (or one derived from HUB_SECRET_KEY), which lives in the service's environment and never in the
database. Editing, removing or reordering an entry breaks the chain from that entry on, and `verify()` names
the first broken one; someone with the database but not the key cannot recompute the hashes after a change.
The database itself refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of hub_audit through triggers, and the
head is anchored outside the database by signed checkpoints (both in publish/audit_guard.py, whose names this
module re-exports); `verify(anchors=...)` checks the chain, reports missing triggers (it never recreates them)
and checks that every signed checkpoint's entry is still there with the same hash (a cut tail or a rewritten
chain fails, naming the checkpoint).

Appending takes a lock (PostgreSQL advisory transaction lock; SQLite's write lock via BEGIN IMMEDIATE) and
reads the last hash inside the same transaction, so several gunicorn workers never fork the chain. On SQLite the
log is a database file of its own beside the main one (publish/audit_store.py, `Store.audit_engine`), so that
lock is never the one a load holds.

Appends are written by publish/audit_writer.py: group commit (the threads of one process that append at the
same time share one transaction) on one long-lived connection per process. Nothing is buffered past the
caller's return: a clean shutdown loses no entry, a crash loses none whose answer was sent (a request whose
entry is not committed is refused by the interface), and a crash mid-batch rolls the whole batch back, before
any of its answers was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from publish import tables
from publish.audit_guard import (
    anchor,
    anchors_path,
    append_only_in_place,
    ensure_append_only,
    keep_anchor,
    read_anchors,
)
from publish.audit_guard import signed as _signed
from publish.store import Store, utcnow

__all__ = ["GENESIS", "FIELDS", "Verification", "anchor", "append", "append_if", "canonical", "chain", "entry_hash", "entries",
           "verify", "ensure_append_only", "append_only_in_place", "read_anchors", "key_of", "anchors_path",
           "keep_anchor", "pads"]

GENESIS = "0" * 64
# What an entry says, in the order it is hashed (canonical JSON sorts keys anyway; this fixes the set).
FIELDS = ("at", "request_id", "client", "ip", "method", "path", "dataset", "query", "status", "rows", "personal",
          "detail")


# -- the chain ---------------------------------------------------------------------------------------------------

NUL_STAND_IN = "\ufffd"  # PostgreSQL text cannot hold NUL: the log stores (and hashes) this in its place


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", NUL_STAND_IN)  # an entry restored from SQLite into PostgreSQL hashes alike
    return value


# json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False), made once (every append asks)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(entry: dict[str, Any]) -> str:
    """The entry as the hash sees it: the FIELDS only, sorted keys, no spaces, text as is (UTF-8)."""
    return _CANONICAL.encode({k: _plain(entry.get(k)) for k in FIELDS})


# the key of a store opened without settings (tests, tools): the one derived from the default secret
_DEFAULT_KEY = hashlib.sha256(b"hub-audit-key\0" + b"dev-only-change-me").digest()


def key_of(store: Store) -> bytes:
    return store.audit_key or _DEFAULT_KEY


def entry_hash(prev_hash: str, entry: dict[str, Any], key: bytes = _DEFAULT_KEY) -> str:
    return hmac.new(key, (prev_hash + canonical(entry)).encode("utf-8"), hashlib.sha256).hexdigest()


def pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys (RFC 2104), for the server to compute the same HMAC with sha256()."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


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
    for name, value in entry.items():  # what one backend stores, the other must too (backup and restore)
        if isinstance(value, str) and "\x00" in value:
            entry[name] = value.replace("\x00", NUL_STAND_IN)
    return entry


def append(store: Store, **fields: Any) -> str:
    """Write one entry at the end of the chain; returns its hash. Fields: see FIELDS (`at` is set here).

    Returns once the entry is committed (possibly in one transaction with other threads' entries: group commit,
    publish/audit_writer.py)."""
    from publish import audit_writer  # it builds on this module's chain

    return audit_writer.append(store.audit_engine, _clean(fields), key_of(store))


def append_if(store: Store, generation: int, versions: dict[str, int],
              **fields: Any) -> tuple[str | None, tuple[int, dict[str, int]] | None]:
    """Write one entry only if the key generation and the current versions of `versions`' datasets are still
    those given when it is written (in the same transaction): an answer chosen from them is then the answer
    they give now. Its hash or None (not written), and the generation and versions found (None where the
    database cannot check, PostgreSQL's append function only: nothing is written there). See
    publish.audit_writer.append_if."""
    from publish import audit_writer

    return audit_writer.append_if(store.audit_engine, _clean(fields), key_of(store), (generation, versions))


def chain(prev: str, batch: list[dict[str, Any]], key: bytes) -> list[dict[str, Any]]:
    """The batch's rows, each hashed on the one before (`at` stamped now); called holding the chain's lock,
    right after reading `prev`."""
    rows = []
    for fields in batch:
        entry = dict(fields)
        entry["at"] = utcnow()  # inside the lock, so time order is chain order
        digest = entry_hash(prev, entry, key)
        rows.append({**entry, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


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
    with store.audit_engine.connect() as conn:
        return [_entry(r) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # entries read
    head: str  # hash of the last entry (GENESIS for an empty log): keep it elsewhere to detect truncation
    broken_id: int | None = None  # first entry that does not fit the chain
    reason: str | None = None
    append_only: bool = True  # the database's triggers are in place
    head_id: int = 0  # id of the last entry
    anchors_checked: int = 0  # signed checkpoints found outside the database and matched

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head": self.head, "head_id": self.head_id,
                "broken_id": self.broken_id, "reason": self.reason, "append_only": self.append_only,
                "anchors_checked": self.anchors_checked}


def _rows(store: Store, batch: int = 5000) -> Iterator[Any]:
    t = tables.audit_log
    last = 0
    with store.audit_engine.connect() as conn:  # keyset pages: flat memory however long the log
        while True:
            rows = conn.execute(sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(batch)).all()
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].id


def verify(store: Store, anchors: list[dict[str, Any]] | None = None) -> Verification:
    """Walk the chain from the start; report the first entry whose links or content do not match, then check
    the signed checkpoints kept outside the database (`anchors`): each one's entry must still be there with
    the same hash. Never changes the database (missing triggers are reported, not recreated)."""
    key = key_of(store)
    prev, checked, head_id = GENESIS, 0, 0
    in_place = append_only_in_place(store.audit_engine)
    wanted: dict[int, str] = {}
    for item in anchors or []:
        if not _signed(key, item):
            return Verification(False, 0, GENESIS, None, f"checkpoint of entry {item.get('id')} has a bad "
                                "signature (forged, or made with another HUB_AUDIT_KEY)", in_place)
        wanted[int(item["id"])] = str(item["hash"])
    found = 0
    for row in _rows(store):
        checked += 1
        entry = {k: getattr(row, k) for k in FIELDS}
        if row.prev_hash != prev:
            return Verification(False, checked, prev, row.id, "prev_hash does not match the entry before "
                                "(an entry was removed or reordered)", in_place, head_id)
        if entry_hash(prev, entry, key) != row.hash:
            return Verification(False, checked, prev, row.id, "hash does not match the content "
                                "(the entry was edited, or the chain was made with another key)", in_place, head_id)
        if row.id in wanted:
            if wanted[row.id] != row.hash:
                return Verification(False, checked, prev, row.id, "the entry differs from its signed checkpoint "
                                    "(the chain was rewritten)", in_place, head_id)
            found += 1
        prev, head_id = row.hash, row.id
    missing = sorted(i for i in wanted if i > head_id)
    if missing:
        return Verification(False, checked, prev, missing[0], f"entry {missing[0]} of a signed checkpoint is "
                            f"gone: the log ends at {head_id} (entries were cut off the end)", in_place, head_id, found)
    absent = len(wanted) - found
    if absent:
        return Verification(False, checked, prev, None, f"{absent} signed checkpoint(s) name entries not in the log",
                            in_place, head_id, found)
    return Verification(True, checked, prev, None, None, in_place, head_id, found)
