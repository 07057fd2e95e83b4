"""The sharing API, /api/v1 (flask-restx), with its OpenAPI document at /api/v1/swagger.json.

Each module defines its namespace's resources at module level: `datasets.ns` (/api/v1/datasets) gathers
datasets, records, changes, reports and uploads; `statistics.ns` (/api/v1/reports), `jobs.ns` and `admin.ns`
are their own. `make_blueprint` adds them to a new Api, with the per-dataset documented routes built from the
hub's catalogue (`records.dataset_routes`) and the one error handler of this interface.
"""

from __future__ import annotations

from flask import Blueprint
from flask_restx import Api

from core.errors import HubError
from hub.api import admin, changes, datasets, jobs, records, reports, statistics, uploads
from hub.api.errors import handle_hub_error
from hub.api.models import error, text
from hub.api.openapi import visible_spec
from publish.context import Hub

API_DESCRIPTION = """Dữ liệu ngành văn hóa, thể thao và du lịch Đồng Nai cho các sở, ngành.
Data of the Đồng Nai culture, sports and tourism sector for other provincial departments.

Authenticate with `Authorization: Bearer <API key>`. Open datasets need no key."""

# Modules whose routes live on datasets.ns (imported for their module-level resources).
DATASET_ROUTES = (records, changes, reports, uploads)
NAMESPACES = (datasets.ns, statistics.ns, jobs.ns, admin.ns)


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
        # one tag per namespace name: records.dataset_routes adds a second "datasets" namespace
        tags=[{"name": ns.name, "description": ns.description} for ns in NAMESPACES],
    )
    for model in (text, error):
        api.models[model.name] = model
    for ns in NAMESPACES:
        api.add_namespace(ns)
    api.add_namespace(records.dataset_routes(hub.catalog))
    api.errorhandler(HubError)(handle_hub_error)  # the OpenAPI document lists it (its docstring describes it)
    bp.after_request(visible_spec)  # the document lists what the caller may see (runs before the ETag)
    return bp
