"""The sharing API, /api/v1 (flask-restx), with its OpenAPI document at /api/v1/swagger.json.

Each module defines its namespace's resources at module level: `datasets.ns` (/api/v1/datasets) gathers
datasets, records, changes, reports and uploads; `statistics.ns` (/api/v1/reports), `jobs.ns` and `admin.ns`
are their own. `make_blueprint` adds them to a new Api, with the per-dataset documented routes built from the
hub's catalogue (`records.dataset_routes`) and the one error handler of this interface.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
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


TITLE = "Đồng Nai culture, sports and tourism data hub — sharing API"


def docs_page() -> str:
    """/api/v1/docs: Swagger UI with the page's language, a viewport for phones and a link home
    (hub/api/templates/api-docs.html; swagger-ui's files come from flask-restx's package, no CDN)."""
    return render_template("api-docs.html", title=TITLE, specs_url=url_for("api.specs"),
                           home_url=url_for("web.home"))


def make_blueprint(hub: Hub) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
    # the per-dataset page models refer to their record and feature models, which no operation names itself
    bp.record_once(lambda state: state.app.config.setdefault("RESTX_INCLUDE_ALL_MODELS", True))
    api = Api(
        bp,
        version="1",
        title=TITLE,
        description=API_DESCRIPTION,
        doc="/docs",
        authorizations={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization",
                                   "description": "Bearer <API key>"}},
        # open data needs no key ({}: no requirement); keyed operations say security=[{"bearer": []}] themselves
        security=[{}, {"bearer": []}],
        # one tag per namespace name: records.dataset_routes adds a second "datasets" namespace
        tags=[{"name": ns.name, "description": ns.description} for ns in NAMESPACES],
    )
    api.documentation(docs_page)
    for model in (text, error):
        api.models[model.name] = model
    for ns in NAMESPACES:
        api.add_namespace(ns)
    api.add_namespace(records.dataset_routes(hub.catalog, max_page_size=hub.settings.max_page_size))
    api.errorhandler(HubError)(handle_hub_error)  # the OpenAPI document lists it (its docstring describes it)
    bp.after_request(visible_spec)  # the document lists what the caller may see (runs before the ETag)
    return bp
