"""The Flask app factory: `create_app(settings)` wires the sharing API, the catalogue site and operations.

Every part is imported here and added in `create_app`, in order: operations (/healthz...), the sharing API
(hub/api), request logging, security (keys, limits, audit), the cache of answers of committed versions, CORS, metrics, the catalogue site (hub/web), the
steward workspace (hub/steward), the CKAN API (hub/ckan) and DCAT (hub/dcat.py). A part's `register(app)`
adds its module-level blueprint and the hooks it needs.
"""

from __future__ import annotations

import logging

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from core.config import Settings
from core.errors import ConfigError
from hub import ckan, cors, dcat, metrics, observability, ops, security, steward, web
from hub.api import answers, make_blueprint
from publish.context import Hub


def create_app(settings: Settings | None = None, *, hub: Hub | None = None) -> Flask:
    settings = settings or Settings.from_env()
    refusal = settings.secret_refusal()
    if refusal:
        raise ConfigError(*refusal)
    hub = hub or Hub.open(settings, init=True)
    app = Flask("hub", static_folder=None)
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
    cors.register(app)
    metrics.register(app)
    web.register(app)
    steward.register(app)
    ckan.register(app)
    dcat.register(app)
    return app


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, less the signer Flask builds on every request before it looks for the
    cookie: API calls and most pages come without one (about 30 µs of a keyed API request's CPU)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()  # what Flask returns for a request without the cookie
        return super().open_session(app, request)

