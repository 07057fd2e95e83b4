"""Who is calling: turns the request's credentials into a `Viewer` for the access rules.

No credentials: an anonymous citizen. An API key (`Authorization: Bearer ...`, or raw as CKAN clients send
it): the client it belongs to (hub/keys.py); a bad, expired or revoked key is a 401, never anonymous.
"""

from __future__ import annotations

from flask import g, request

from publish.access import ANONYMOUS, Viewer


def current_viewer() -> Viewer:
    if "viewer" not in g:
        g.viewer = _from_request()
    return g.viewer


def _from_request() -> Viewer:
    token = bearer_token()
    if not token:
        return ANONYMOUS
    from hub.keys import resolve_key

    return resolve_key(token)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    # CKAN clients (ckanapi) send the token raw, in Authorization or X-CKAN-API-Key
    raw = request.headers.get("X-CKAN-API-Key") or header
    return raw.strip() or None
