"""Who is calling: turns the request's credentials into a `Viewer` for the access rules.

No credentials: an anonymous citizen. An API key (`Authorization: Bearer ...`, or raw as CKAN clients send
it): the client it belongs to (publish/clients.py); a bad, expired or revoked key is a 401, never anonymous.
The Viewer is looked up once per request and kept on `flask.g`. A key this process remembers is checked against
the key generation (publish/clients.py) read in the statement that asks for the current versions of the datasets
the request names: the answer cache needs them anyway (hub/api/answers.py takes them from `g.current_versions`),
so a keyed request makes no round trip for it.
"""

from __future__ import annotations

from flask import current_app, g, request

from core.errors import AccessDenied, Unauthenticated
from hub import optimistic
from hub.context import current_hub
from publish.access import ANONYMOUS, Viewer
from publish.clients import remembered, resolve_key
from publish.response_cache import VersionReader, depends_on, version_reader

__all__ = ["confirm_viewer", "current_viewer", "bearer_token", "key_prefix", "require_role"]


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
    hub = current_hub()
    try:
        known = remembered(token, hub.store)
        if known is not None and optimistic.expect(hub, known[1]):
            return known[0]  # checked when its audit entry is written (hub/optimistic.py)
        return resolve_key(token, hub.store, _generation)
    except Unauthenticated as exc:
        g.refused_client = getattr(exc, "client", None)  # a revoked or expired key's owner, for the audit log
        raise


def confirm_viewer() -> None:
    """Check the request's key the ordinary way now (an answer chosen from memory that cannot run again): a key
    refused since is then audited as refused."""
    g.ordinary = True
    for name in ("viewer", "refused", "expected"):
        g.pop(name, None)
    try:
        current_viewer()
    except Unauthenticated:
        pass


def _generation() -> int:
    """The key generation, read with the current versions of the dataset the URL names and of those its answers
    may also read (kept on `g` for the answer cache)."""
    hub = current_hub()
    reader: VersionReader | None = current_app.extensions.get("hub_versions")
    if reader is None:
        reader = version_reader(hub.store.read_engine)
    ids: list[str] = []
    dataset = hub.catalog.datasets.get((request.view_args or {}).get("dataset_id") or "")
    if dataset is not None:
        # every dataset an answer of it may read: the widest depends_on, so the answer cache finds them all
        ids = [dataset.id, *depends_on(hub.catalog, dataset, labels=True, fk_filters=True, commune=True)]
    g.current_versions, generation = reader.read(hub.store, ids)
    return generation


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
