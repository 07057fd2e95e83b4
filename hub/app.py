"""The Flask app factory: `create_app(settings)` wires the sharing API, the catalogue site and operations.

Every part is imported here and added in `create_app`, in order: operations (/healthz...), the sharing API
(hub/api), request logging, security (keys, limits, audit), the cache of answers of committed versions, CORS, metrics, the catalogue site (hub/web), the
steward workspace (hub/steward), the CKAN API (hub/ckan) and DCAT (hub/dcat.py). A part's `register(app)`
adds its module-level blueprint and the hooks it needs.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.datastructures import ImmutableMultiDict

from core.config import Settings
from core.errors import ConfigError
from hub import ckan, cors, dcat, metrics, observability, ops, optimistic, security, steward, web
from hub.api import answers, make_blueprint
from publish.context import Hub


def create_app(settings: Settings | None = None, *, hub: Hub | None = None) -> Flask:
    settings = settings or Settings.from_env()
    refusal = settings.secret_refusal()
    if refusal:
        raise ConfigError(*refusal)
    hub = hub or Hub.open(settings, init=True)
    app = _Hub("hub", static_folder=None)
    app.session_interface = _SessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        JSON_SORT_KEYS=False,
        RESTX_MASK_SWAGGER=False,
        RESTX_JSON={"ensure_ascii": False},
        RESTX_ERROR_404_HELP=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Flask's DefaultJSONProvider has both
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["hub"] = hub
    logging.getLogger("hub").setLevel(settings.log_level.upper())

    app.register_blueprint(ops.blueprint)
    app.register_blueprint(make_blueprint(hub))
    observability.register(app)
    security.register(app)
    answers.register(app)
    optimistic.register(app)
    cors.register(app)
    metrics.register(app)
    web.register(app)
    steward.register(app)
    ckan.register(app)
    dcat.register(app)
    return app


def freeze_startup() -> None:
    """Once the app is built, before the server forks its workers (deploy/gunicorn.conf.py's `when_ready`): the
    garbage of building it collected, every object left (modules, the catalogue, schemas, flask-restx's models:
    about 180,000) moved to the interpreter's permanent generation. A worker's full collections then scan only
    what it made itself: each scanned them all, 72-86 ms of CPU on the bench machine (one in about 20,000 hot
    requests in steady state, more while caches fill), a stall for the request it fell on. Forked workers also
    keep sharing those objects' memory pages, which a full collection wrote to (it marks each object it visits)."""
    gc.collect()
    gc.freeze()


class _Params(ImmutableMultiDict[str, str]):
    """Query and form parameters whose `get` of an absent name returns the default without raising (and
    building) werkzeug's BadRequestKeyError first: a page request asks for a dozen parameters it was not given."""

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]  # noqa: A002 - werkzeug's overloads, one body
        if key not in self:
            return default
        return super().get(key, default, type)


class _Request(Request):
    parameter_storage_class = _Params


_SYNC_MEMO = 4096  # functions remembered as plain `def`s (hooks, views; bound methods by their function)


class _Hub(Flask):
    """Flask, less the per-request checks of work that never changes: whether each hook and view is a coroutine
    function (asked a dozen times a request) is remembered."""

    request_class = _Request

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        plain = getattr(func, "__func__", func)  # a bound method (flask-restx's Resource.get): a new object each time
        try:
            if plain in self._plain:
                return func
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        if len(self._plain) >= _SYNC_MEMO:  # (per-request closures, after_this_request: never unbounded)
            self._plain.clear()
        self._plain.add(plain)
        return func


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, less the signer Flask builds on every request before it looks for the
    cookie: API calls and most pages come without one (about 30 µs of a keyed API request's CPU). A request
    without a Cookie header is not parsed for one, and an untouched empty session is not saved (Flask would
    read the seven cookie settings and then do nothing)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (not request.environ.get("HTTP_COOKIE")
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()  # what Flask returns for a request without the cookie
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # what Flask's save_session does for it: no Vary, no cookie
        super().save_session(app, session, response)

