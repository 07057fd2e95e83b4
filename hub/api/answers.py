"""The HTTP side of the response cache (publish/response_cache.py): answers of committed versions served from
encoded bytes, with an ETag derived from the key, so `If-None-Match` gets 304 before anything is read.

The views call `answer()` after checking the caller, the dataset and the parameters (so refusals are never
cached) and before reading; the audit entry and the rate limit are the request pipeline's (hub/security.py) and
apply to cached answers as to any other: the view notes the dataset, rows and personal mark either way.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request

from core import json_bytes
from core.catalog import Dataset
from hub import audit
from hub.context import current_hub
from hub.headers import add_vary
from publish.access import Viewer
from publish.liveness import once_more_if_dropped
from publish.response_cache import (
    Entry,
    ResponseCache,
    VersionReader,
    cache_key,
    depends_on,
    etag_for,
    version_reader,
    visibility_class,
)

__all__ = ["Built", "answer", "known_version", "register"]


@dataclass
class Built:
    """What a view produced on a miss: the body (a JSON-able object or bytes), its type, what the audit entry
    says, and the version it was read at (stored only when that is the version in the key)."""

    body: Any
    version: int | None
    rows: int | None
    personal: bool
    mimetype: str = "application/json"


def register(app: Flask) -> None:
    hub = app.extensions["hub"]
    app.extensions["hub_answers"] = ResponseCache(hub.settings.answer_cache_mb * 1024 * 1024,
                                                  redis_url=hub.settings.redis_url)
    app.extensions["hub_versions"] = version_reader(hub.store.read_engine)


def encode_body(body: Any) -> bytes:
    """`body` as the answer's JSON bytes (core.json_bytes: what json.dumps(body, ensure_ascii=False, default=str)
    says, written compactly by orjson), a newline after, as flask-restx ends its bodies."""
    return json_bytes.dumps(body, newline=True)


def _entry(built: Built, gzip_ok: bool) -> Entry:
    body = built.body if isinstance(built.body, bytes) else encode_body(built.body)
    entry = Entry(body, None, built.mimetype, built.rows, built.personal)
    return entry.with_gzip() if gzip_ok else entry  # else made for the first caller that accepts it


def _base_url(environ: dict[str, Any]) -> list[str]:
    """What `request.base_url` is made of (the answer's links start with it), as the server gave them: the same
    parts make the same URL, and reading them skips building it (IRI decoding, IDNA) on every request."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return [environ.get("wsgi.url_scheme", ""), host, environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")]


def known_version(dataset_id: str) -> int | None:
    """The dataset's current version if this request has read it already (with the key generation, or by
    `answer`), else None: a view that needs it again (the change feed's check of `until`) asks no second time."""
    versions = g.get("current_versions")
    return versions.get(dataset_id) if versions else None


def answer(dataset: Dataset, viewer: Viewer, parts: dict[str, Any], build: Callable[[int], Built], *,
           version: int | None = None, labels: bool = False, fk_filters: bool = False,
           commune: bool = False) -> Response:
    """The answer named by `parts` for `dataset` at `version` (None: the current one): from the cache, or built
    by `build(version)` and kept."""
    hub = current_hub()
    cache: ResponseCache = current_app.extensions["hub_answers"]
    deps = depends_on(hub.catalog, dataset, labels=labels, fk_filters=fk_filters, commune=commune)
    current_versions: VersionReader = current_app.extensions["hub_versions"]
    versions: dict[str, int] = {}
    if version is None or deps:
        versions = g.get("current_versions") or {}  # read with the key generation (hub/auth.py)
        if any(d not in versions for d in (dataset.id, *deps)):
            versions = current_versions(hub.store, [dataset.id, *deps])
            g.current_versions = {**(g.get("current_versions") or {}), **versions}  # for known_version()
    pinned = version if version is not None else versions[dataset.id]
    environ = request.environ
    key = cache_key({**parts, "dataset": dataset.id, "version": pinned, "deps": {d: versions[d] for d in deps},
                     "class": visibility_class(hub.catalog, viewer), "url": _base_url(environ)})
    etag = etag_for(key)
    audit.note(dataset=dataset.id)
    if environ.get("HTTP_IF_NONE_MATCH") and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        response.set_etag(etag, weak=True)
        return response
    gzip_ok = bool(environ.get("HTTP_ACCEPT_ENCODING")) and request.accept_encodings.quality("gzip") > 0
    entry = cache.get(key)
    if entry is None:
        with cache.one_builder(key) if pinned else nullcontext():  # a committed version's answer: built once
            entry = cache.get(key) if pinned else None  # built by the thread this one waited for
            if entry is None:
                # reads only: read again on a fresh connection if the server dropped the one it had
                built = once_more_if_dropped(lambda: build(pinned))
                entry = _entry(built, gzip_ok)
                if built.version == pinned and pinned:
                    cache.put(key, entry)
            elif gzip_ok and entry.gzipped is None and entry.compressible:
                entry = entry.with_gzip()
                cache.put(key, entry)
    elif gzip_ok and entry.gzipped is None and entry.compressible:
        entry = entry.with_gzip()
        cache.put(key, entry)
    audit.note(dataset=dataset.id, rows=entry.rows, personal=entry.personal)
    zipped = gzip_ok and entry.gzipped is not None
    response = Response(entry.gzipped if zipped else entry.body, mimetype=entry.mimetype)
    response.set_etag(etag, weak=True)
    if entry.compressible:
        add_vary(response.headers, "Accept-Encoding")
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    return response
