"""Who is calling: turns the request's credentials into a `Viewer` for the access rules.

No credentials: an anonymous citizen. An API key (`Authorization: Bearer ...`, or raw as CKAN clients send
it): the client it belongs to (publish/clients.py); a bad, expired or revoked key is a 401, never anonymous.
The Viewer is looked up once per request and kept on `flask.g`.
"""

from __future__ import annotations

from flask import g, request

from core.errors import AccessDenied, Unauthenticated
from hub.context import current_hub
from publish.access import ANONYMOUS, Viewer
from publish.clients import resolve_key

__all__ = ["current_viewer", "bearer_token", "key_prefix", "require_role"]


def current_viewer() -> Viewer:
    if "viewer" not in g:
        if "refused" in g:  # asked again after a refusal (rate limiter, then the view): no second lookup
            raise g.refused
        try:
            g.viewer = _from_request()
        except Unauthenticated as exc:
            g.refused = exc
            raise
    return g.viewer


def _from_request() -> Viewer:
    token = bearer_token()
    if not token:
        return ANONYMOUS
    try:
        return resolve_key(token, current_hub().store)
    except Unauthenticated as exc:
        g.refused_client = getattr(exc, "client", None)  # a revoked or expired key's owner, for the audit log
        raise


def bearer_token() -> str | None:
    environ = request.environ  # read as WSGI gives them: asked several times a request, most often absent
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    # CKAN clients (ckanapi) send the token raw, in Authorization or X-CKAN-API-Key
    raw = environ.get("HTTP_X_CKAN_API_KEY") or header
    return raw.strip() or None


def key_prefix(token: str | None) -> str | None:
    """The public part of a hub key (`hub_<prefix>_...`), to name a refused key in the audit log."""
    parts = (token or "").split("_")
    if len(parts) >= 3 and parts[0] == "hub" and len(parts[1]) <= 16 and parts[1].isalnum():
        return parts[1]
    return None


def require_role(*roles: str) -> Viewer:
    """The caller, if its role is one of `roles`: 401 without a key, 403 with a key of another role.

    Checked before anything is looked up, so the answer never depends on whether a dataset exists."""
    viewer = current_viewer()
    if not viewer.authenticated:
        raise Unauthenticated("Cần khoá API (Authorization: Bearer ...)", "An API key is required (Authorization: Bearer ...)")
    if viewer.role not in roles:
        raise AccessDenied(f"Vai trò «{viewer.role}» không được dùng chức năng này (cần: {', '.join(roles)})",
                           f"Role «{viewer.role}» may not use this (needs: {', '.join(roles)})")
    return viewer
