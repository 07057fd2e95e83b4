"""API clients, their keys and grants, and the one place a client becomes a `Viewer`.

A key is shown once, when issued: `hub_<prefix>_<secret>`. We store only the prefix (to find the row) and a
SHA-256 of the whole key; the secret has 256 bits of entropy, so a fast hash is enough (no password
stretching needed). Keys expire and can be revoked; a disabled client's keys all stop working.

A resolved key is remembered by each worker process (its lookup was a database round trip on every request),
with its expiry (checked on every request, no round trip) and the key generation it was read at: a counter
in the database that triggers bump on every change to keys, clients and grants, by any process or tool
(migration 0006). Each request that uses a remembered key reads the current generation, on the API in the
statement that already asks for the current versions (hub/auth.py, publish.response_cache.VersionReader); when
it moved, the key is looked up again. So a revoked, expired, disabled or downgraded key fails on its very next
request in every process. Refused keys are never remembered. On a miss, one thread per key looks it up and
the others wait for its answer (no burst of lookups when many requests find it missing at once).

`viewer_for_client` is the only builder of a client's Viewer (role and grants): an API key, a steward's
session and `hub export --client` all go through it, so a disabled client gets nothing on every path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.errors import HubError, NotFound, Unauthenticated
from publish import audit, tables
from publish.access import Viewer
from publish.db import inserted_id, locked, reading, without_waiting
from publish.liveness import once_more_if_dropped
from publish.lru import LruCache
from publish.response_cache import key_generation
from publish.store import Store, utcnow

__all__ = ["ROLES", "IssuedKey", "create_client", "issue_key", "revoke_keys", "grant", "ungrant", "set_disabled",
           "clients", "remembered", "resolve_key", "forget_keys", "viewer_for_client", "KEY_CACHE_SECONDS"]

ROLES = ("department", "steward", "admin")
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is refreshed at most this often (a write per request is too much)
# A remembered key is checked against the key generation on every use; this only bounds how stale its
# last_used_at may get (a lookup touches it), so it matches TOUCH_EVERY.
KEY_CACHE_SECONDS = TOUCH_EVERY.total_seconds()


@dataclass(frozen=True)
class IssuedKey:
    client: str
    token: str  # the only time the full key exists outside the caller's hands
    expires_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _log(store: Store, actor: str | None, action: str, client: str, **detail: object) -> None:
    """Key and grant changes go into the audit chain too: who gave whom access to what, and why."""
    forget_keys()  # every change of keys, clients or grants passes here: no stale Viewer in this process
    dataset = detail.pop("dataset", None)
    audit.append(store, client=actor or "cli", method="ADMIN", path=f"keys {action} {client}",
                 dataset=dataset, detail={"client": client, **{k: v for k, v in detail.items() if v is not None}})


def create_client(store: Store, name: str, role: str = "department", *, title: str | None = None,
                  contact: str | None = None, actor: str | None = None) -> int:
    if not name or len(name) > 100 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise HubError("Tên bên sử dụng chỉ gồm chữ, số, '-', '_', '.' (tối đa 100 ký tự)",
                       "A client name has only letters, digits, '-', '_', '.' (at most 100 characters)", field="name")
    if role not in ROLES:
        raise HubError(f"Vai trò phải là một trong {', '.join(ROLES)}", f"Role must be one of {', '.join(ROLES)}",
                       field="role")
    with store.engine.begin() as conn:
        exists = conn.execute(sa.select(tables.clients.c.id).where(tables.clients.c.name == name)).scalar()
        if exists:
            raise HubError(f"Đã có bên sử dụng «{name}»", f"Client «{name}» already exists", field="name")
        new_id = inserted_id(conn.execute(tables.clients.insert().values(
            name=name, role=role, title=title, contact=contact, created_at=utcnow(), disabled=False,
        )))
    _log(store, actor, "create-client", name, role=role)
    return new_id


def client_id(store: Store, name: str, conn: sa.Connection | None = None) -> int:
    stmt = sa.select(tables.clients.c.id).where(tables.clients.c.name == name)
    if conn is not None:
        found = conn.execute(stmt).scalar()
    else:
        with store.engine.connect() as fresh:
            found = fresh.execute(stmt).scalar()
    if found is None:
        raise NotFound(f"Không có bên sử dụng «{name}»", f"No client «{name}»", field="client")
    return int(found)


def issue_key(store: Store, client: str, *, days: int | None = 365, actor: str | None = None) -> IssuedKey:
    """A new key for `client`, valid `days` days (None: no expiry). The token is returned once, never stored."""
    if days is not None and days < 1:
        raise HubError("Số ngày hiệu lực phải lớn hơn 0", "The number of valid days must be greater than 0", field="days")
    prefix = secrets.token_hex(4)
    token = f"hub_{prefix}_{secrets.token_urlsafe(32)}"
    expires = utcnow() + timedelta(days=days) if days else None
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        conn.execute(tables.api_keys.insert().values(
            client_id=cid, prefix=prefix, hash=_digest(token), created_at=utcnow(), expires_at=expires,
        ))
    _log(store, actor, "issue", client, prefix=prefix, expires_at=expires.isoformat() if expires else None)
    return IssuedKey(client, token, expires)


def revoke_keys(store: Store, client: str, prefix: str | None = None, *, actor: str | None = None) -> int:
    """Revoke one key (by prefix) or all keys of a client. Returns how many."""
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        stmt = tables.api_keys.update().where(tables.api_keys.c.client_id == cid, tables.api_keys.c.revoked_at.is_(None))
        if prefix:
            stmt = stmt.where(tables.api_keys.c.prefix == prefix)
        count = conn.execute(stmt.values(revoked_at=utcnow())).rowcount
    _log(store, actor, "revoke", client, prefix=prefix, revoked=count)
    return count


def grant(store: Store, client: str, dataset: str, *, personal: bool = False, purpose: str | None = None,
          granted_by: str | None = None) -> None:
    """Let a client read a dataset (restricted ones need this), and with `personal` its personal fields.

    Personal data needs a recorded purpose (the legal basis the department accepted)."""
    store.catalog.dataset(dataset)
    if personal and not (purpose or "").strip():  # a blank purpose records no legal basis
        raise HubError("Cấp quyền dữ liệu cá nhân phải ghi rõ mục đích (--purpose)",
                       "Granting personal data needs a recorded purpose (--purpose)", field="purpose")
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        conn.execute(tables.grants.delete().where(tables.grants.c.client_id == cid, tables.grants.c.dataset == dataset))
        conn.execute(tables.grants.insert().values(
            client_id=cid, dataset=dataset, personal=personal, purpose=purpose, granted_at=utcnow(),
            granted_by=granted_by,
        ))
    _log(store, granted_by, "grant", client, dataset=dataset, personal=personal, purpose=purpose)


def ungrant(store: Store, client: str, dataset: str, *, actor: str | None = None) -> int:
    """Withdraw a client's grant on a dataset (and with it any personal-data grant). Returns how many."""
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        count = conn.execute(tables.grants.delete().where(tables.grants.c.client_id == cid,
                                                          tables.grants.c.dataset == dataset)).rowcount
    _log(store, actor, "ungrant", client, dataset=dataset, removed=count)
    return count


def set_disabled(store: Store, client: str, disabled: bool = True, *, actor: str | None = None) -> None:
    """Disable (or enable again) a client: while disabled, none of its keys works."""
    with store.engine.begin() as conn:
        cid = client_id(store, client, conn)
        conn.execute(tables.clients.update().where(tables.clients.c.id == cid).values(disabled=disabled))
    _log(store, actor, "disable" if disabled else "enable", client)


def clients(store: Store) -> list[dict[str, Any]]:
    """Every client with its keys (prefix, dates, state — never a hash) and grants, for `hub keys list`."""
    c, k, g = tables.clients, tables.api_keys, tables.grants
    now = utcnow()
    with store.engine.connect() as conn:
        out = {r.id: {"name": r.name, "role": r.role, "title": r.title, "contact": r.contact,
                      "created_at": r.created_at.isoformat(timespec="seconds"), "disabled": bool(r.disabled),
                      "keys": [], "grants": []}
               for r in conn.execute(sa.select(c).order_by(c.c.name))}
        for r in conn.execute(sa.select(k).order_by(k.c.id)):
            state = ("revoked" if r.revoked_at else "expired" if r.expires_at and r.expires_at < now else "active")
            out[r.client_id]["keys"].append({
                "prefix": r.prefix, "state": state, "created_at": _iso(r.created_at), "expires_at": _iso(r.expires_at),
                "revoked_at": _iso(r.revoked_at), "last_used_at": _iso(r.last_used_at)})
        for r in conn.execute(sa.select(g).order_by(g.c.dataset)):
            out[r.client_id]["grants"].append({
                "dataset": r.dataset, "personal": bool(r.personal), "purpose": r.purpose,
                "granted_at": _iso(r.granted_at), "granted_by": r.granted_by})
    return list(out.values())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@dataclass(frozen=True)
class _Known:
    viewer: Viewer
    expires_at: datetime | None
    generation: int  # the key generation when it was looked up


# (database URL, key digest) -> what the key stood for, for KEY_CACHE_SECONDS (read when put: tests shorten it)
_KNOWN: LruCache[_Known] = LruCache(10_000)


class _Flight:
    """One lookup of a key in progress; threads that miss the same key meanwhile wait for its outcome."""

    __slots__ = ("done", "viewer", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.viewer: Viewer | None = None
        self.error: BaseException | None = None


_FLIGHTS: dict[tuple[str, str], _Flight] = {}
_FLIGHTS_LOCK = threading.Lock()


def forget_keys() -> None:
    """Drop every key this process remembers (after a change to keys, clients or grants)."""
    _KNOWN.clear()


def viewer_for_client(store: Store, name: str, conn: sa.Connection | None = None) -> Viewer | None:
    """What client `name` may see: its role and its grants (restricted datasets, personal data). None for an
    unknown or disabled client: a disabled client sees nothing, whichever way it comes in."""
    c, g = tables.clients, tables.grants

    def build(conn: sa.Connection) -> Viewer | None:
        client = conn.execute(sa.select(c.c.id, c.c.role, c.c.disabled).where(c.c.name == name)).first()
        if client is None or client.disabled:
            return None
        granted = conn.execute(sa.select(g.c.dataset, g.c.personal).where(g.c.client_id == client.id)).all()
        return Viewer(name=name, role=client.role, datasets=frozenset(r.dataset for r in granted),
                      personal=frozenset(r.dataset for r in granted if r.personal))

    if conn is not None:
        return build(conn)
    with store.engine.connect() as fresh:  # the primary: a client disabled a moment ago is disabled
        return build(fresh)


def remembered(token: str, store: Store) -> tuple[Viewer, int] | None:
    """A key this process remembers, not expired: its Viewer and the key generation it was looked up at (the
    caller checks that generation still holds before its answer is sent: hub/optimistic.py). None when not
    remembered; Unauthenticated when expired."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "hub":
        return None
    known = _KNOWN.get((_database(store), _digest(token)))
    if known is None:
        return None
    if known.expires_at is not None and known.expires_at < utcnow():
        raise _expired(known.viewer.name)
    return known.viewer, known.generation


def resolve_key(token: str, store: Store, generation: Callable[[], int] | None = None) -> Viewer:
    """The Viewer a key stands for; Unauthenticated for an unknown, expired or revoked key, or a disabled
    client's. `generation` reads the current key generation, when the caller can on a round trip it makes
    anyway; without it a remembered key costs a query of its own."""
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "hub":
        raise _bad_key()
    digest = _digest(token)
    cache_key = (_database(store), digest)
    known = _KNOWN.get(cache_key)
    if known is not None:
        if known.expires_at is not None and known.expires_at < utcnow():
            raise _expired(known.viewer.name)
        if (generation or (lambda: key_generation(store)))() == known.generation:
            return known.viewer
        # a key, client or grant changed since (in any process): look it up again
    return _look_up_once(store, cache_key, parts[1], digest)


def _look_up_once(store: Store, cache_key: tuple[str, str], prefix: str, digest: str) -> Viewer:
    """The key looked up by one thread; others missing it at the same time wait for that thread's answer."""
    with _FLIGHTS_LOCK:
        flight = _FLIGHTS.get(cache_key)
        leader = flight is None
        if flight is None:
            flight = _FLIGHTS[cache_key] = _Flight()
    if not leader:
        flight.done.wait()
        if flight.error is not None:
            raise flight.error
        assert flight.viewer is not None  # noqa: S101 - set whenever error is not
        return flight.viewer
    try:
        known = _lookup(store, prefix, digest)
        _KNOWN.put(cache_key, known, ttl=KEY_CACHE_SECONDS)
        flight.viewer = known.viewer
        return known.viewer
    except BaseException as exc:
        flight.error = exc
        raise
    finally:
        with _FLIGHTS_LOCK:
            del _FLIGHTS[cache_key]
        flight.done.set()


_DATABASES: dict[int, tuple[Any, str]] = {}  # id(url) -> (url, its text): rendering it costs more than the rest


def _database(store: Store) -> str:
    """Which database the store reads (keys known in one are not known in another)."""
    url = store.read_engine.url
    known = _DATABASES.get(id(url))
    if known is None or known[0] is not url:
        if len(_DATABASES) > 64:
            _DATABASES.clear()
        known = _DATABASES[id(url)] = (url, url.render_as_string())
    return known[1]


def _lookup(store: Store, prefix: str, digest: str) -> _Known:
    k, c, gen = tables.api_keys, tables.clients, tables.key_generation
    # the generation in the key's own statement: a change committed after it is a newer generation
    generation = sa.select(gen.c.n).where(gen.c.id == 1).scalar_subquery()

    def read() -> tuple[Any, Viewer | None]:
        # no transaction (publish.db.reading): under READ COMMITTED each of the three statements had its own
        # snapshot anyway. A change committed between them bumps the generation past the one read with the key,
        # so the next request looks the key up again.
        with reading(store.read_engine) as conn:
            rows = conn.execute(
                sa.select(k.c.id.label("key_id"), k.c.hash, k.c.expires_at, k.c.revoked_at, k.c.last_used_at,
                          c.c.name, generation.label("generation"))
                .join(c, c.c.id == k.c.client_id).where(k.c.prefix == prefix)
            ).all()
            mine = [r for r in rows if hmac.compare_digest(r.hash, digest)]
            if not mine:
                raise _bad_key()
            return mine[0], viewer_for_client(store, mine[0].name, conn)

    match, viewer = once_more_if_dropped(read)  # a read: again on a fresh connection if the server dropped it
    if match.revoked_at is not None or viewer is None:
        raise _bad_key(match.name)
    if match.expires_at is not None and match.expires_at < utcnow():
        raise _expired(match.name)
    now = utcnow()
    if match.last_used_at is None or now - match.last_used_at > TOUCH_EVERY:
        _touch(store, match.key_id, now)
    return _Known(viewer, match.expires_at, int(match.generation or 0))


def _touch(store: Store, key_id: int, now: datetime) -> None:
    """Record when a key was last used, without ever waiting for a load: on SQLite a load holds the database's
    write lock for as long as it writes, and a keyed request must not wait for it for a bookkeeping date. A
    busy database skips it; the next lookup of the key (KEY_CACHE_SECONDS later at most) tries again."""
    k = tables.api_keys
    with store.engine.connect() as conn, without_waiting(conn, store.lock_timeout * 1000):
        try:
            with conn.begin():
                conn.execute(k.update().where(k.c.id == key_id).values(last_used_at=now))
        except sa.exc.OperationalError as exc:
            if not locked(exc):
                raise


def _expired(client: str | None) -> Unauthenticated:
    refused = Unauthenticated("Khoá API đã hết hạn", "The API key has expired")
    refused.client = client
    return refused


def _bad_key(client: str | None = None) -> Unauthenticated:
    refused = Unauthenticated("Khoá API không hợp lệ hoặc đã bị thu hồi", "The API key is not valid or has been revoked")
    # whose key it was, for the audit log only (not in the answer): known only when the whole key matched
    refused.client = client
    return refused
