"""A CKAN-compatible Action API (`/api/3/action/...`, `/api/action/...`), so CKAN clients, harvesters and the
national open-data portal can read our catalogue, and trusted peers can federate their packages into it.

Modules: `api` (HTTP: envelope, request data, statuses), `registry` (the action table), `read` and `write`
(the actions), `packages` and `metadata` (our datasets in CKAN's words), `search` and `query_parser`
(package_search), `datastore` (records), `federation`, `organizations` and `uploads` (what peers push).
"""

from __future__ import annotations

from flask import Flask

from hub.ckan import downloads, read, write  # noqa: F401 - their module-level @action functions and routes
from hub.ckan.api import blueprint

__all__ = ["register"]


def register(app: Flask) -> None:
    app.register_blueprint(blueprint)
