"""A keyed read in one round trip on PostgreSQL: the answer is chosen from what the process last saw, and its
audit entry (written anyway) is written only if that still holds (issue 20).

A keyed request read the current versions with the key generation (one round trip), then wrote its audit entry
(another). Here a request that may (a GET of records, a record or changes, not CSV; a key this process
remembers, not expired, looked up at the generation the process last saw; the current versions of every
dataset its answers may read known from an earlier request) takes its viewer and the versions from memory
without asking. Its audit entry is then written on condition (publish.audit.append_if): in the append's own
transaction, only if the key generation and those versions are still the ones the answer was chosen from.
If they are, the answer is exactly what a request that asked first would have got, checked later than that
one would have checked; the entry says what was sent. If not (a key, client or grant changed; a load
committed), nothing was written and nothing is sent: the request runs again from the start the ordinary way
(the key looked up again: a revoked, expired or disabled key gets its 401; a new version is read), with what
the database held learnt for the next requests.

The check is made before any `after_request` hook runs (so metrics, CORS and logging see only the answer that
is sent); a 5xx from Flask's last-resort handler cannot run again, so its key is checked the ordinary way first.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request

from publish import audit, audit_writer
from publish.context import Hub
from publish.response_cache import VersionReader, depends_on

__all__ = ["expect", "register"]

log = logging.getLogger("hub.optimistic")


class _AgainTheOrdinaryWay(Exception):  # noqa: N818 - not an error: the request runs again
    """The answer was chosen from a state that no longer holds: nothing was written or sent."""


def _eligible(hub: Hub) -> bool:
    if request.method != "GET" or g.get("ordinary") or request.args.get("format") == "csv":
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(getattr(view, "view_class", None), "optimistic", False):
        return False
    store = hub.store
    return store.audit_engine is store.read_engine and audit_writer.conditional(store.audit_engine)


def expect(hub: Hub, generation: int) -> bool:
    """For a remembered key looked up at `generation`: whether this request is answered from what the process
    last saw (then `g.current_versions` holds the versions its answer is chosen from)."""
    if not _eligible(hub):
        return False
    reader: VersionReader | None = current_app.extensions.get("hub_versions")
    dataset = hub.catalog.datasets.get((request.view_args or {}).get("dataset_id") or "")
    if reader is None or dataset is None:
        return False
    ids = [dataset.id, *depends_on(hub.catalog, dataset, labels=True, fk_filters=True, commune=True)]
    seen = reader.last_seen(ids)
    if seen is None or seen[0] != generation:  # (a key changed since this one was looked up: ask first)
        return False
    g.current_versions = seen[1]
    g.expected = (generation, seen[1])
    return True


def _check(hub: Hub, response: Response) -> Response:
    """Before the after_request hooks: the entry of an answer chosen from memory, written if that still holds."""
    from hub.security import audit_entry, unaudited, would_change  # (hub.security calls nothing here)

    expected = g.pop("expected")
    if response.is_streamed or would_change(response):
        raise _AgainTheOrdinaryWay
    entry = audit_entry(hub, response)
    if entry is None:  # (every keyed request has one: nothing to check it with)
        raise _AgainTheOrdinaryWay
    try:
        digest, state = audit.append_if(hub.store, *expected, **entry)
    except Exception:  # noqa: BLE001 - as the ordinary way: refused, never written twice (it may have been)
        log.exception("audit entry could not be written: %s", entry)
        g.audited = True
        return unaudited()
    reader: VersionReader | None = current_app.extensions.get("hub_versions")
    if state is not None and reader is not None:
        reader.learn(state[1], state[0])
    if digest is None:
        raise _AgainTheOrdinaryWay
    g.audited = True
    return response


def register(app: Flask) -> None:
    hub: Hub = app.extensions["hub"]
    process_response = app.process_response
    full_dispatch_request = app.full_dispatch_request

    def checked(response: Response) -> Response:
        if "expected" in g:
            if response.status_code >= 500:
                _confirm()
            else:
                response = _check(hub, response)
        return process_response(response)

    def dispatch() -> Response:
        try:
            return full_dispatch_request()
        except _AgainTheOrdinaryWay:
            kept = {name: g.get(name) for name in ("request_id", "request_started", "metrics_started", "rate_limit")}
            g.__dict__.clear()
            g.__dict__.update({k: v for k, v in kept.items() if v is not None}, ordinary=True)
            return full_dispatch_request()

    app.process_response = checked  # type: ignore[method-assign]  # this app's own, around Flask's
    app.full_dispatch_request = dispatch  # type: ignore[method-assign]


def _confirm() -> None:
    """The key checked the ordinary way (an answer that cannot run again): a refused key is audited as such."""
    from hub.auth import confirm_viewer

    confirm_viewer()  # (drops `expected`: the entry is then written as any other)
