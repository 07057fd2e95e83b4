"""API clients and their keys.

A key is shown once, when issued: `hub_<prefix>_<secret>`. We store only the prefix (to find the row) and a
SHA-256 of the whole key; the secret has 256 bits of entropy, so a fast hash is enough (no password
stretching needed). Keys expire and can be revoked; a disabled client's keys all stop working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hub.errors import HubError, NotFound, Unauthenticated
from publish import tables
from publish.access import Viewer
from publish.store import Store, utcnow

ROLES = ("department", "steward", "admin")


@dataclass(frozen=True)
class IssuedKey:
    client: str
    token: str  # the only time the full key exists outside the caller's hands
    expires_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_client(store: Store, name: str, role: str = "department", *, title: str | None = None,
                  contact: str | None = None) -> int:
    if role not in ROLES:
        raise HubError(f"Vai trò phải là một trong {', '.join(ROLES)}", f"Role must be one of {', '.join(ROLES)}",
                       field="role")
    with store.engine.begin() as conn:
        exists = conn.execute(sa.select(tables.clients.c.id).where(tables.clients.c.name == name)).scalar()
        if exists:
            raise HubError(f"Đã có bên sử dụng «{name}»", f"Client «{name}» already exists", field="name")
        return conn.execute(tables.clients.insert().values(
            name=name, role=role, title=title, contact=contact, created_at=utcnow(), disabled=False,
        )).inserted_primary_key[0]


def client_id(store: Store, name: str, conn: sa.Connection | None = None) -> int:
    def lookup(c: sa.Connection) -> int | None:
        return c.execute(sa.select(tables.clients.c.id).where(tables.clients.c.name == name)).scalar()

    found = lookup(conn) if conn is not None else _with(store, lookup)
    if found is None:
        raise NotFound(f"Không có bên sử dụng «{name}»", f"No client «{name}»", field="client")
    return found


def _with(store: Store, fn):  # noqa: ANN001, ANN202
    with store.engine.connect() as conn:
        return fn(conn)


def issue_key(store: Store, client: str, *, days: int | None = 365) -> IssuedKey:
    prefix = secrets.token_hex(4)
    token = f"hub_{prefix}_{secrets.token_urlsafe(32)}"
    expires = utcnow() + timedelta(days=days) if days else None
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        conn.execute(tables.api_keys.insert().values(
            client_id=cid, prefix=prefix, hash=_digest(token), created_at=utcnow(), expires_at=expires,
        ))
    return IssuedKey(client, token, expires)


def revoke_keys(store: Store, client: str, prefix: str | None = None) -> int:
    """Revoke one key (by prefix) or all keys of a client. Returns how many."""
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        stmt = tables.api_keys.update().where(tables.api_keys.c.client_id == cid, tables.api_keys.c.revoked_at.is_(None))
        if prefix:
            stmt = stmt.where(tables.api_keys.c.prefix == prefix)
        return conn.execute(stmt.values(revoked_at=utcnow())).rowcount


def grant(store: Store, client: str, dataset: str, *, personal: bool = False, purpose: str | None = None,
          granted_by: str | None = None) -> None:
    """Let a client read a dataset (restricted ones need this), and with `personal` its personal fields.

    Personal data needs a recorded purpose (the legal basis the department accepted)."""
    store.catalog.dataset(dataset)
    if personal and not purpose:
        raise HubError("Cấp quyền dữ liệu cá nhân phải ghi rõ mục đích (--purpose)",
                       "Granting personal data needs a recorded purpose (--purpose)", field="purpose")
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        conn.execute(tables.grants.delete().where(tables.grants.c.client_id == cid, tables.grants.c.dataset == dataset))
        conn.execute(tables.grants.insert().values(
            client_id=cid, dataset=dataset, personal=personal, purpose=purpose, granted_at=utcnow(),
            granted_by=granted_by,
        ))


def resolve_key(token: str, store: Store | None = None) -> Viewer:
    """The Viewer a key stands for; Unauthenticated for an unknown, expired or revoked key."""
    if store is None:
        from hub.context import current_hub

        store = current_hub().store
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "hub":
        raise _bad_key()
    prefix = parts[1]
    k, c = tables.api_keys, tables.clients
    with store.read_engine.connect() as conn:
        rows = conn.execute(
            sa.select(k.c.hash, k.c.expires_at, k.c.revoked_at, c.id, c.name, c.role, c.disabled)
            .join(c, c.c.id == k.c.client_id).where(k.c.prefix == prefix)
        ).all()
        match = next((r for r in rows if hmac.compare_digest(r.hash, _digest(token))), None)
        if match is None or match.revoked_at is not None or match.disabled:
            raise _bad_key()
        if match.expires_at is not None and match.expires_at < utcnow():
            raise Unauthenticated("Khoá API đã hết hạn", "The API key has expired")
        granted = conn.execute(
            sa.select(tables.grants.c.dataset, tables.grants.c.personal).where(tables.grants.c.client_id == match.id)
        ).all()
    return Viewer(
        name=match.name,
        role=match.role,
        datasets=frozenset(g.dataset for g in granted),
        personal=frozenset(g.dataset for g in granted if g.personal),
    )


def _bad_key() -> Unauthenticated:
    return Unauthenticated("Khoá API không hợp lệ hoặc đã bị thu hồi", "The API key is not valid or has been revoked")
