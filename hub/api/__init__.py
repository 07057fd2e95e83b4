"""The sharing API, /api/v1 (flask-restx), with its OpenAPI document at /api/v1/swagger.json."""

from __future__ import annotations

from flask import Blueprint
from flask_restx import Api

from core.errors import HubError
from hub.api import datasets, records
from hub.api.errors import error_body, status_for
from publish.context import Hub

API_DESCRIPTION = """Dữ liệu ngành văn hóa, thể thao và du lịch Đồng Nai cho các sở, ngành.
Data of the Đồng Nai culture, sports and tourism sector for other provincial departments.

Authenticate with `Authorization: Bearer <API key>`. Open datasets need no key."""


def make_blueprint(hub: Hub) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    api = Api(
        bp,
        version="1",
        title="Đồng Nai culture, sports and tourism data hub — sharing API",
        description=API_DESCRIPTION,
        doc="/docs",
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization",
                                   "description": "Bearer <API key>"}},
        security=[{"bearer": []}],
    )

    @api.errorhandler(HubError)
    def handle_hub_error(exc: HubError):  # noqa: ANN202
        return error_body(exc), status_for(exc)

    datasets.register(api, hub)
    records.register(api, hub)
    for extra in _extra_namespaces():
        extra(api, hub)
    return bp


def _extra_namespaces():  # noqa: ANN202
    """Namespaces added by later capabilities (uploads, keys, audit, changes...), if present."""
    out = []
    for name in ("hub.api.uploads", "hub.api.changes", "hub.api.reports", "hub.api.statistics", "hub.api.jobs", "hub.api.admin"):
        try:
            module = __import__(name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        out.append(module.register)
    return out
