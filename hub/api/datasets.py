"""/api/v1/datasets: the catalogue as other departments see it (restricted datasets stay hidden)."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource, fields

from core.catalog import Dataset
from core.errors import DatasetNotFound
from hub.api.errors import responses
from hub.api.models import error, nullable, text
from hub.auth import current_viewer
from hub.context import current_hub
from publish import query as q
from publish import versions
from publish.access import Viewer, can_see_dataset, visible_fields
from publish.context import Hub
from publish.listing import listed


def visible_dataset(hub: Hub, dataset_id: str, viewer: Viewer) -> Dataset:
    """The dataset, or 404 when it does not exist *or* the viewer may not know it exists."""
    dataset = hub.catalog.dataset(dataset_id)
    if not can_see_dataset(dataset, viewer):
        raise DatasetNotFound(f"Không có bộ dữ liệu «{dataset_id}»", f"No dataset «{dataset_id}»", dataset=dataset_id)
    return dataset


def schema_for_viewer(dataset: Dataset, viewer: Viewer) -> dict[str, Any]:
    shown = set(visible_fields(dataset, viewer))
    descriptor = dict(dataset.schema.descriptor)
    descriptor["fields"] = [f for f in descriptor["fields"] if f["name"] in shown]
    return descriptor


def dataset_summary(hub: Hub, dataset: Dataset, *, full: bool = False, viewer: Viewer | None = None) -> dict[str, Any]:
    latest = versions.latest_load(hub.store, dataset.id)
    listed = versions.versions(hub.store, dataset.id) if full else None
    # the current version: the newest committed one of the list when it is read anyway, else its own statement
    current = (listed[0]["version"] if listed else None) if listed is not None else hub.store.current_version(dataset.id)
    out: dict[str, Any] = {
        "id": dataset.id,
        "title": dataset.entry.get("title"),
        "description": dataset.entry.get("description"),
        "publisher": dataset.publisher,
        "access": dataset.access,
        "licence": dataset.licence,
        "themes": dataset.themes,
        "keywords": dataset.entry.get("keywords"),
        "frequency": dataset.entry.get("frequency"),
        "version": current,
        "records": q.count_current(hub.store, dataset),
        "last_updated": latest["finished_at"] if latest else None,
        "quality_score": latest["quality_score"] if latest else None,
        "geometry": dataset.schema.geometry_kind,
        "links": {
            "self": f"/api/v1/datasets/{dataset.id}",
            "records": f"/api/v1/datasets/{dataset.id}/records",
        },
    }
    if full:
        out["schema"] = schema_for_viewer(dataset, viewer or Viewer())
        out["versions"] = listed
    return out


# /api/v1/datasets: this module, records, changes, reports and uploads add their routes to it
ns = Namespace("datasets", description="Bộ dữ liệu / Datasets")
summary = ns.model("DatasetSummary", {
    "id": fields.String(description="Mã bộ dữ liệu / dataset id"),
    "title": fields.Nested(text),
    "description": nullable(fields.Nested(text)),
    "publisher": fields.String,
    "access": fields.String(enum=["open", "shared", "restricted"]),
    "licence": fields.String,
    "themes": fields.List(fields.String),
    "frequency": nullable(fields.String()),
    "version": nullable(fields.Integer(description="Phiên bản hiện hành / current version (null before the first load)")),
    "records": fields.Integer(description="Số bản ghi hiện hành / current records"),
    "last_updated": nullable(fields.String()),
    "quality_score": nullable(fields.Float()),
    "geometry": nullable(fields.String(enum=["point", "polygon"], description="null: no location")),
})
listing = ns.model("DatasetList", {"datasets": fields.List(fields.Nested(summary))})


@ns.route("")
class DatasetList(Resource):
    @ns.doc("list_datasets")
    @ns.response(200, "Các bộ dữ liệu người gọi được xem / datasets the caller may see", listing)
    @responses(ns, error, 401, 429)
    def get(self) -> dict[str, Any]:
        """Các bộ dữ liệu người gọi được xem / the datasets the caller may see"""
        hub = current_hub()
        viewer = current_viewer()
        shown = listed(hub.store, [ds for ds in hub.catalog if can_see_dataset(ds, viewer)])
        return {"datasets": [dataset_summary(hub, ds) for ds in shown]}


@ns.route("/<string:dataset_id>")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class DatasetDetail(Resource):
    @ns.doc("get_dataset")
    @ns.response(200, "Siêu dữ liệu, lược đồ và phiên bản / metadata, schema and versions", summary)
    @responses(ns, error, 401, 404, 429)
    def get(self, dataset_id: str) -> dict[str, Any]:
        """Siêu dữ liệu, lược đồ và phiên bản của bộ dữ liệu / a dataset's metadata, schema and versions"""
        hub = current_hub()
        viewer = current_viewer()
        dataset = visible_dataset(hub, dataset_id, viewer)
        return dataset_summary(hub, dataset, full=True, viewer=viewer)
