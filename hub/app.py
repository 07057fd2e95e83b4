"""The Flask app factory: `create_app(settings)` wires the sharing API, the catalogue site and operations."""

from __future__ import annotations

import logging

from flask import Flask

from core.config import Settings
from core.errors import ConfigError
from publish.context import Hub


def create_app(settings: Settings | None = None, *, hub: Hub | None = None) -> Flask:
    settings = settings or Settings.from_env()
    refusal = settings.secret_refusal()
    if refusal:
        raise ConfigError(*refusal)
    hub = hub or Hub.open(settings, init=True)
    app = Flask("hub", static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        JSON_SORT_KEYS=False,
        RESTX_MASK_SWAGGER=False,
        RESTX_JSON={"ensure_ascii": False},
        RESTX_ERROR_404_HELP=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["hub"] = hub
    logging.getLogger("hub").setLevel(settings.log_level.upper())

    from hub import ops
    from hub.api import make_blueprint

    app.register_blueprint(ops.blueprint)
    app.register_blueprint(make_blueprint(hub))
    for register in _optional_parts():
        register(app)
    return app


def _optional_parts():  # noqa: ANN202
    """Parts that register themselves on the app (web site, CKAN API, DCAT, metrics...), in order."""
    parts = []
    for module_name in ("hub.observability", "hub.security", "hub.cors", "hub.metrics", "hub.web", "hub.steward", "hub.ckan", "hub.dcat"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        parts.append(module.register)
    return parts
