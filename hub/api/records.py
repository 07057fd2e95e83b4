"""/api/v1/datasets/<id>/records: filtered, searchable, paged records as JSON, GeoJSON or CSV."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Response, request, stream_with_context
from flask_restx import Namespace, Resource

from core.catalog import Dataset
from hub import audit
from hub.api.answers import Built, answer
from hub.api.datasets import ns, visible_dataset
from hub.api.errors import responses
from hub.api.models import error, record_models
from hub.api.params import (
    FORMATS,
    LABELS,
    MAX_VERSION,
    TEXT_PATTERN,
    parse_flag,
    parse_labels,
    parse_query,
    parse_version,
    record_parameters,
)
from hub.auth import current_viewer
from hub.context import current_hub
from publish import query as q
from publish.access import conditional_personal, sees_personal
from publish.context import Hub
from publish.exports.csv import csv_chunks
from publish.exports.geojson import feature, geojson_chunks
from publish.labels import add_labels, label_fields, resolve_filters

RECORD_DESCRIPTION = ("Trả một bản ghi: JSON, hoặc với format=geojson một Feature GeoJSON có properties là bản ghi / "
                      "the record as JSON (its dataset's Record_<id> model), or with format=geojson a GeoJSON "
                      "Feature whose properties are the record")
any_record = ns.schema_model("Record", {"type": "object", "description": RECORD_DESCRIPTION})


def list_records(dataset_id: str) -> Any:
    hub = current_hub()
    viewer = current_viewer()
    dataset = visible_dataset(hub, dataset_id, viewer)
    audit.note(dataset=dataset.id)
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise q.QueryError(f"Định dạng không hỗ trợ «{fmt}»", f"Unsupported format «{fmt}»", field="format")
    query = parse_query(request.args, dataset, max_page_size=hub.settings.max_page_size, fmt=fmt)
    _refuse_blanked_filters(dataset, viewer, query)
    if fmt == "csv":
        resolve_filters(hub.store, dataset, query.filters, viewer)  # commune_code=Trấn Biên: by the ward's name
        if "limit" not in request.args:
            query.limit = 10_000_000  # the whole (filtered) dataset, streamed
        return _csv(hub, dataset, query, viewer)
    lang = parse_labels(request.args)
    fk_fields = {f for fk in dataset.schema.foreign_keys for f in _fk_fields(fk)}
    parts = {"what": "records", "format": fmt, "labels": lang, "query": _canonical(query)}

    def build(version: int) -> Built:
        resolve_filters(hub.store, dataset, query.filters, viewer)  # commune_code=Trấn Biên: by the ward's name
        query.with_geometry = fmt == "geojson"
        result = q.records(hub.store, dataset, query, viewer)
        personal = _personal_returned(dataset, viewer, result.fields)
        audit.note(dataset=dataset.id, rows=len(result.rows), personal=personal)
        if lang:
            result.rows = list(add_labels(hub.store, dataset, result.rows, viewer, lang))
            result.fields = label_fields(hub.store, dataset, result.fields, viewer)
        next_url = None
        if result.next_cursor:
            args = {k: v for k, v in sorted(request.args.items()) if k not in ("cursor", "offset")}
            args["cursor"] = result.next_cursor
            next_url = request.base_url + "?" + urlencode(args)
        if fmt == "geojson":
            geo: dict[str, Any] = {"type": "FeatureCollection", "version": result.version, "total": result.total,
                    "next_cursor": result.next_cursor, "next": next_url,
                    "features": [feature(r, _id_field(dataset)) for r in result.rows]}
            return Built(geo, result.version, len(result.rows), personal, "application/geo+json")
        body: dict[str, Any] = {"dataset": dataset.id, "version": result.version, "total": result.total, "limit": query.limit,
                "fields": result.fields, "next_cursor": result.next_cursor, "next": next_url,
                "records": result.rows}
        return Built(body, result.version, len(result.rows), personal)

    return answer(dataset, viewer, parts, build, version=query.version, labels=lang is not None,
                  fk_filters=any(f.field in fk_fields for f in query.filters), commune=bool(query.commune))


def _fk_fields(fk: dict[str, Any]) -> list[str]:
    names = fk.get("fields") or []
    return [names] if isinstance(names, str) else list(names)


def _canonical(query: q.Query) -> dict[str, Any]:
    """The parsed query with defaults filled and filters sorted: what the answer follows from."""
    return {"filters": sorted([f.field, f.op, f.value] for f in query.filters), "q": query.q, "bbox": query.bbox,
            "near": query.near, "commune": query.commune, "sort": query.sort, "fields": query.fields,
            "limit": query.limit, "offset": query.offset, "after": query.after}


@ns.route("/<string:dataset_id>/records", doc=False)
class Records(Resource):
    optimistic = True  # a keyed GET may be answered from what the process last saw (hub/optimistic.py)

    def get(self, dataset_id: str) -> Any:
        return list_records(dataset_id)


@ns.route("/<string:dataset_id>/records/<path:key>")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
@ns.param("key", "Khoá chính / primary key (parts joined with ',')", pattern=TEXT_PATTERN)
class Record(Resource):
    optimistic = True

    @ns.doc("get_record", params={
        "as_of": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION,
                  "description": "Đọc theo phiên bản / read as of this version (404 if it does not exist)"},
        "format": {"type": "string", "enum": ["json", "geojson"], "default": "json",
                   "description": "json or geojson (application/geo+json: a Feature)"},
        "labels": {"type": "string", "enum": list(LABELS), "description": "Nhãn / on (vi) or en: `<field>_label` "
                   "after each enum field, the referenced record's name after each foreign key; off: none"}},
        produces=["application/json", "application/geo+json"])
    @ns.response(200, "Một bản ghi / one record", any_record)
    @responses(ns, error, 400, 401, 404, 429)
    def get(self, dataset_id: str, key: str) -> Any:
        """Một bản ghi theo khoá chính / one record by its primary key"""
        hub = current_hub()
        viewer = current_viewer()
        dataset = visible_dataset(hub, dataset_id, viewer)
        version = parse_version(request.args)
        lang = parse_labels(request.args)
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "geojson"):
            raise q.QueryError(f"Định dạng không hỗ trợ «{fmt}» (json, geojson)", f"Unsupported format «{fmt}» "
                               "(json, geojson)", field="format")

        def build(pinned: int) -> Built:
            row = q.get_record(hub.store, dataset, key, viewer, version=pinned or None)
            personal = _personal_returned(dataset, viewer, list(row))
            audit.note(dataset=dataset.id, rows=1, personal=personal)
            if lang:
                row = next(add_labels(hub.store, dataset, [row], viewer, lang))
            if fmt == "geojson":
                return Built(feature(row, _id_field(dataset)), pinned, 1, personal, "application/geo+json")
            return Built(row, pinned, 1, personal)

        parts = {"what": "record", "key": key, "format": fmt, "labels": lang}
        return answer(dataset, viewer, parts, build, version=version, labels=lang is not None)


def dataset_routes(catalog: Iterable[Dataset], *, max_page_size: int) -> Namespace:
    """One documented route per dataset, so the OpenAPI document carries each dataset's own record model and
    typed filters, derived from its schema; restricted datasets are served (by `Records`) but not advertised.

    Built from a hub's catalogue, so each Api gets its own namespace (same name and path as `ns`)."""
    documented = Namespace("datasets", path="/datasets")
    for dataset in catalog:
        if dataset.access != "restricted":
            _document_dataset_route(documented, dataset, max_page_size)
    return documented


def _document_dataset_route(ns: Namespace, dataset: Dataset, max_page_size: int) -> None:
    dataset_page = record_models(ns, dataset)

    def get(self: Resource, dataset_id: str) -> Any:
        return list_records(dataset_id)

    get.__doc__ = f"{dataset.title('vi')} / {dataset.title('en')}"
    if not dataset.is_open:  # 404 rather than 401 without a key: whether it exists is not for anyone to know
        get.__doc__ += ("\n\nCần khoá được cấp quyền; không có khoá: 404 / needs the key of a client allowed to see it; "
                        "without a key the answer is 404")
    get = ns.doc(f"list_{dataset.id.replace('-', '_')}_records", params=record_parameters(
        dataset, max_page_size=max_page_size), produces=["application/json", "application/geo+json", "text/csv"])(get)
    get = ns.response(200, "Một trang bản ghi (JSON, GeoJSON) hoặc CSV / one page of records (JSON, GeoJSON) or CSV",
                      dataset_page)(get)
    get = responses(ns, error, 400, 401, 404, 429)(get)
    resource = type(f"Records_{dataset.id.replace('-', '_')}", (Resource,), {"get": get, "optimistic": True})
    # the URL names its dataset as every dataset route does (view_args): the key check reads that dataset's
    # current version with the key generation, and the answer cache needs no second round trip for it
    ns.route(f"/{dataset.id}/records", endpoint=f"records_{dataset.id}", defaults={"dataset_id": dataset.id})(resource)


def _refuse_blanked_filters(dataset: Any, viewer: Any, query: q.Query) -> None:
    """A field blanked on some rows for this viewer (personalWhen) must not be filtered or sorted on: the
    matching rows and their order would reveal the hidden values one question at a time."""
    blanked = {name for name, _, _ in conditional_personal(dataset, viewer)}
    for name in [f.field for f in query.filters] + [name for name, _ in query.sort]:
        if name in blanked:
            raise q.QueryError(f"Không lọc hay sắp xếp được theo «{name}» (dữ liệu cá nhân)",
                               f"Cannot filter or sort by «{name}» (personal data)", field=name)
    if query.q and search_needs_grant(dataset, viewer):
        raise q.QueryError("Bộ dữ liệu này chỉ tìm kiếm được với quyền dữ liệu cá nhân",
                           "Full-text search of this dataset needs its personal-data grant", field="q")


def search_needs_grant(dataset: Dataset, viewer: Any) -> bool:
    """Whether `q` is refused to `viewer`: the dataset's search text holds personal fields it is not granted."""
    return not sees_personal(dataset, viewer) and any(
        dataset.schema.field(name).personal for name in dataset.schema.search_fields)


def _personal_returned(dataset: Any, viewer: Any, names: list[str]) -> bool:
    return sees_personal(dataset, viewer) and any(f.personal for f in dataset.schema.fields if f.name in names)


def _id_field(dataset: Any) -> str | None:
    pk = dataset.schema.primary_key
    return pk[0] if len(pk) == 1 else None


def _csv(hub: Hub, dataset: Any, query: q.Query, viewer: Any) -> Response:
    names, _ = q.select_columns(hub.store, dataset, query, viewer)
    rows = q.iter_records(hub.store, dataset, query, viewer)
    if query.limit < 10_000_000:
        rows = _take(rows, query.limit)
    audit.note(dataset=dataset.id, personal=_personal_returned(dataset, viewer, names))
    rows = audit.counted(rows)
    bom = parse_flag(request.args, "bom")
    response = Response(stream_with_context(csv_chunks(names, rows, bom=bom)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset.id}.csv"'
    return response


def _take(rows: Any, n: int) -> Any:
    for i, row in enumerate(rows):
        if i >= n:
            return
        yield row


__all__ = ["dataset_routes", "geojson_chunks", "search_needs_grant"]
