"""Signing in to the workspace and protecting its forms.

A steward signs in with their API key once (publish.clients.resolve_key); only a random session id goes into Flask's
signed session cookie, never the key. The session itself is kept on the server (publish/sessions.py): each
request reads the client again (role, grants, disabled) and the key it signed in with, so signing out,
revoking that key, disabling the client or changing its role ends the session at once. Every form carries the
session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, g, request, session

from core.errors import AccessDenied, Unauthenticated
from hub.context import current_hub
from publish.access import Viewer
from publish.clients import resolve_key
from publish.sessions import end_session, open_session, session_viewer

ROLES = ("steward", "admin")
SESSION_KEY = "sid"

__all__ = ["ROLES", "check_csrf", "key_prefix_of", "csrf_token", "current_steward", "sign_in", "sign_out"]


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


def key_prefix_of(token: str) -> str | None:
    """The public prefix of a key as typed (hub_<prefix>_<secret>), for the audit log and the backoff."""
    parts = token.split("_")
    return parts[1][:16] if len(parts) >= 3 and parts[0] == "hub" and parts[1].isalnum() else None


def sign_in(token: str) -> Viewer:
    """Check the key and remember its client; AccessDenied for a key that is not a steward's or admin's."""
    token = token.strip()
    viewer = resolve_key(token, current_hub().store)
    if viewer.role not in ROLES:
        raise AccessDenied("Khoá này không phải của cán bộ quản lý dữ liệu", "This key is not a data steward's")
    end_session(current_hub(), session.get(SESSION_KEY))
    session.clear()
    session[SESSION_KEY] = open_session(current_hub(), viewer.name or "", viewer.role or "", token.split("_")[1])
    session.permanent = True
    csrf_token()
    return viewer


def sign_out() -> None:
    end_session(current_hub(), session.get(SESSION_KEY))
    session.clear()


def current_steward() -> Viewer | None:
    """The signed-in steward as the access rules see them, or None (the cookie then opens nothing)."""
    if "steward_viewer" in g:
        return g.steward_viewer
    viewer = session_viewer(current_hub(), session.get(SESSION_KEY), ROLES)
    if viewer is None:
        session.pop(SESSION_KEY, None)
    g.steward_viewer = viewer
    if viewer is not None:
        g.audit_client = viewer.name  # every request of a signed-in steward is audited (hub/security.py)
    return viewer


def require_steward() -> Viewer:
    viewer = current_steward()
    if viewer is None:
        raise Unauthenticated("Hãy đăng nhập bằng khoá của cán bộ quản lý dữ liệu", "Sign in with a data steward's key")
    return viewer
