"""Signing in to the workspace and protecting its forms.

A steward signs in with their API key once (hub.keys.resolve_key); only the client's name goes into Flask's
signed session cookie, never the key. Each request reads the client again (role, grants, disabled), so a
disabled client or a changed role takes effect at once. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets

import sqlalchemy as sa
from flask import abort, request, session

from core.errors import AccessDenied, Unauthenticated
from hub.context import current_hub
from publish import tables
from publish.access import Viewer

ROLES = ("steward", "admin")
SESSION_KEY = "steward"

__all__ = ["ROLES", "check_csrf", "csrf_token", "current_steward", "sign_in", "sign_out"]


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a POST whose form token is not this session's (400: the page is old or not ours)."""
    sent = request.form.get("csrf_token", "")
    kept = session.get("csrf", "")
    if not kept or not hmac.compare_digest(sent, kept):
        abort(400)


def sign_in(token: str) -> Viewer:
    """Check the key and remember its client; AccessDenied for a key that is not a steward's or admin's."""
    from hub.keys import resolve_key

    viewer = resolve_key(token.strip(), current_hub().store)
    if viewer.role not in ROLES:
        raise AccessDenied("Khoá này không phải của cán bộ quản lý dữ liệu", "This key is not a data steward's")
    session.clear()
    session[SESSION_KEY] = viewer.name
    session.permanent = True
    csrf_token()
    return viewer


def sign_out() -> None:
    session.clear()


def current_steward() -> Viewer | None:
    """The signed-in steward as the access rules see them, or None."""
    name = session.get(SESSION_KEY)
    if not name:
        return None
    c, g = tables.clients, tables.grants
    with current_hub().store.read_engine.connect() as conn:
        client = conn.execute(sa.select(c.c.id, c.c.role, c.c.disabled).where(c.c.name == name)).first()
        if client is None or client.disabled or client.role not in ROLES:
            session.pop(SESSION_KEY, None)
            return None
        granted = conn.execute(sa.select(g.c.dataset, g.c.personal).where(g.c.client_id == client.id)).all()
    return Viewer(name=name, role=client.role, datasets=frozenset(r.dataset for r in granted),
                  personal=frozenset(r.dataset for r in granted if r.personal))


def require_steward() -> Viewer:
    viewer = current_steward()
    if viewer is None:
        raise Unauthenticated("Hãy đăng nhập bằng khoá của cán bộ quản lý dữ liệu", "Sign in with a data steward's key")
    return viewer
