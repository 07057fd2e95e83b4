"""Steward workspace sessions, kept on the server so that they can end.

The cookie holds only a random session id (signed by Flask); what it stands for lives in
storage/sessions/<sha256 of the id>.json (any gunicorn worker, and any host sharing the storage folder, reads
it): the client, its role when it signed in, and the prefix of the key it signed in with. Every request
checks, in one query, that the client is not disabled, its role has not changed and that key is neither
revoked nor expired; anything else, the 8 hours' limit, or signing out removes the file, and the cookie opens
nothing any more (ASVS V3.3: logout, revocation, disabling and role change end sessions at once).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from publish import tables
from publish.access import Viewer
from publish.clients import viewer_for_client
from publish.context import Hub
from publish.store import utcnow

__all__ = ["LIFETIME_SECONDS", "SIGN_IN_PATH", "client_viewer", "sign_in_wait", "end_session", "end_sessions_of", "open_session", "session_viewer"]

LIFETIME_SECONDS = 8 * 3600
SIGN_IN_PATH = "/steward/login"
FREE_FAILURES = 5  # wrong keys before the backoff starts (per address and per key prefix)
WINDOW = timedelta(minutes=15)
MAX_WAIT = 900


def _folder(hub: Hub) -> Path:
    return Path(hub.settings.storage_dir) / "sessions"


def _path(hub: Hub, sid: str) -> Path:
    return _folder(hub) / (hashlib.sha256(sid.encode("utf-8")).hexdigest() + ".json")


def open_session(hub: Hub, client: str, role: str, key_prefix: str) -> str:
    """A new session of `client` (signed in with the key of `key_prefix`); returns its id for the cookie."""
    sid = secrets.token_urlsafe(32)
    folder = _folder(hub)
    folder.mkdir(parents=True, exist_ok=True)
    path = _path(hub, sid)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps({"client": client, "role": role, "key": key_prefix, "at": time.time()}),
                       encoding="utf-8")
    os.replace(partial, path)
    return sid


def end_session(hub: Hub, sid: str | None) -> None:
    if sid:
        _path(hub, sid).unlink(missing_ok=True)


def end_sessions_of(hub: Hub, client: str) -> int:
    """End every session of a client (sessions also end by themselves at their next request once the client
    is disabled, its role changed or its key revoked; this frees the files at once). Returns how many."""
    ended = 0
    folder = _folder(hub)
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.json"):
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("client") == client:
                path.unlink(missing_ok=True)
                ended += 1
        except (OSError, ValueError):
            continue
    return ended


def session_viewer(hub: Hub, sid: str | None, roles: tuple[str, ...]) -> Viewer | None:
    """The signed-in client of session `sid` as the access rules see it, or None (and the session ended)
    when it is unknown, too old, or its client, role or key no longer allow it."""
    if not sid:
        return None
    path = _path(hub, sid)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - float(state.get("at") or 0) > LIFETIME_SECONDS:
        path.unlink(missing_ok=True)
        return None
    k = tables.api_keys
    now = utcnow()
    with hub.store.engine.connect() as conn:  # the primary: a revocation a moment ago must count
        viewer = viewer_for_client(hub.store, str(state.get("client") or ""), conn)
        key_alive = viewer is not None and conn.execute(
            sa.select(sa.func.count()).select_from(k).join(tables.clients, tables.clients.c.id == k.c.client_id)
            .where(tables.clients.c.name == viewer.name, k.c.prefix == state.get("key"), k.c.revoked_at.is_(None),
                   sa.or_(k.c.expires_at.is_(None), k.c.expires_at > now))).scalar()
    if viewer is None or viewer.role != state.get("role") or viewer.role not in roles or not key_alive:
        path.unlink(missing_ok=True)
        return None
    return viewer


def client_viewer(hub: Hub, name: str) -> Viewer:
    """A client as the access rules see it, from its name (an anonymous Viewer for an unknown or disabled one):
    what the steward who sent an upload may see of its report."""
    return viewer_for_client(hub.store, name) or Viewer()


def sign_in_wait(hub: Hub, ip: str | None, key_prefix: str | None) -> int:
    """Seconds a sign-in from `ip` (or for the key of `key_prefix`) must still wait, 0 when it may try.

    Counted from the audit log, where every refused sign-in is written (status 401, the key's prefix in
    `detail`), so every worker and every host sees the same count: after FREE_FAILURES refusals within 15
    minutes, from one address or for one key, each further try waits 2, 4, 8... seconds after the last
    refusal, up to 15 minutes (then the count runs out with the window)."""
    a = tables.audit_log
    since = utcnow() - WINDOW
    with hub.store.audit_engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.at, a.c.ip, a.c.detail).where(
            a.c.at >= since, a.c.path == SIGN_IN_PATH, a.c.status == 401)).all()
    marker = json.dumps({"refused_key": key_prefix}) if key_prefix else None
    mine = [r.at for r in rows if (ip and r.ip == ip) or (marker and r.detail == marker)]
    if len(mine) < FREE_FAILURES:
        return 0
    wait = min(MAX_WAIT, 2 ** (len(mine) - FREE_FAILURES + 1))
    left = wait - (utcnow() - max(mine)).total_seconds()
    return max(0, int(left + 0.999))
