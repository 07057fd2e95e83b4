"""/api/v1/datasets/<id>/records: filtered, searchable, paged records as JSON, GeoJSON or CSV."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Response, request, stream_with_context
from flask_restx import Namespace, Resource, fields

from core.catalog import Dataset
from hub import audit
from hub.api.answers import Built, answer
from hub.api.datasets import ns, visible_dataset
from hub.api.errors import responses
from hub.api.models import error, model_for
from hub.api.params import parse_query
from hub.auth import current_viewer
from hub.context import current_hub
from publish import query as q
from publish.access import conditional_personal, sees_personal
from publish.context import Hub
from publish.exports.csv import csv_chunks
from publish.exports.geojson import feature, geojson_chunks
from publish.filters import OPERATORS_TEXT
from publish.labels import add_labels, label_fields, resolve_filters

FORMATS = ("json", "geojson", "csv")

RECORD_PARAMS = {
    "q": "Tìm kiếm không dấu / full-text search, ignores case and diacritics ('khach san' finds 'Khách sạn')",
    "<field>": f"Lọc bằng / equals; also <field>{OPERATORS_TEXT} (in: a,b; null: true/false); "
               "any other parameter is refused (400). A foreign key also takes the referenced record's name, accents optional (commune_code=Tran Bien)",
    "bbox": "min_lon,min_lat,max_lon,max_lat (WGS84)",
    "near": "lat,lon,radius_m: records within radius_m metres; each gets distance_m (metres, WGS84 ellipsoid), "
            "and sort=distance_m (or -distance_m) orders by it",
    "commune": "Mã xã/phường / code of a commune or ward whose boundary contains the record",
    "sort": "field or -field, comma-separated",
    "fields": "Các trường cần lấy / fields to return, comma-separated",
    "limit": "Số bản ghi mỗi trang / page size (default 100, at most the server's maximum)",
    "cursor": "Con trỏ trang tiếp / next page cursor from the previous answer (pinned to one version)",
    "as_of": "Đọc theo phiên bản / read as of this version",
    "format": "json (default), geojson or csv",
    "labels": "on (vi) or en: thêm nhãn / add `<field>_label` after each enum field and the referenced record's name "
              "after each foreign key (commune_code -> commune_name)",
}


any_record = ns.model("Record", {"*": fields.Wildcard(fields.Raw)})
page = ns.model("RecordPage", {
    "dataset": fields.String,
    "version": fields.Integer(description="Phiên bản đang đọc / version being read"),
    "total": fields.Integer(description="Tổng số bản ghi khớp / matching records"),
    "limit": fields.Integer,
    "fields": fields.List(fields.String),
    "next_cursor": fields.String(description="null on the last page"),
    "next": fields.String(description="URL of the next page"),
    "records": fields.List(fields.Nested(any_record)),
})


def list_records(dataset_id: str) -> Any:
    hub = current_hub()
    viewer = current_viewer()
    dataset = visible_dataset(hub, dataset_id, viewer)
    audit.note(dataset=dataset.id)
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise q.QueryError(f"Định dạng không hỗ trợ «{fmt}»", f"Unsupported format «{fmt}»", field="format")
    query = parse_query(request.args, dataset, max_page_size=hub.settings.max_page_size
                        if fmt != "csv" else max(hub.settings.max_page_size, 100_000))
    _refuse_blanked_filters(dataset, viewer, query)
    if fmt == "csv":
        resolve_filters(hub.store, dataset, query.filters, viewer)  # commune_code=Trấn Biên: by the ward's name
        if "limit" not in request.args:
            query.limit = 10_000_000  # the whole (filtered) dataset, streamed
        return _csv(hub, dataset, query, viewer)
    lang = _labels_lang()
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
            "limit": query.limit, "offset": query.offset}


@ns.route("/<string:dataset_id>/records", doc=False)
class Records(Resource):
    def get(self, dataset_id: str) -> Any:
        return list_records(dataset_id)


@ns.route("/<string:dataset_id>/records/<path:key>")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
@ns.param("key", "Khoá chính / primary key (parts joined with ',')")
class Record(Resource):
    @ns.doc("get_record", params={"as_of": RECORD_PARAMS["as_of"], "format": "json (default) or geojson",
                                  "labels": RECORD_PARAMS["labels"]})
    @ns.response(200, "Một bản ghi / one record", any_record)
    @responses(ns, error, 400, 401, 404, 429)
    def get(self, dataset_id: str, key: str) -> Any:
        """Một bản ghi theo khoá chính / one record by its primary key"""
        hub = current_hub()
        viewer = current_viewer()
        dataset = visible_dataset(hub, dataset_id, viewer)
        version = request.args.get("as_of", type=int)
        if version is None and request.args.get("as_of"):
            raise q.QueryError("«as_of» phải là số phiên bản", "«as_of» must be a version number", field="as_of")
        lang = _labels_lang()
        fmt = "geojson" if request.args.get("format") == "geojson" else "json"

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


def dataset_routes(catalog: Iterable[Dataset]) -> Namespace:
    """One documented route per dataset, so the OpenAPI document carries each dataset's own record model and
    filters, derived from its schema; restricted datasets are served (by `Records`) but not advertised.

    Built from a hub's catalogue, so each Api gets its own namespace (same name and path as `ns`)."""
    documented = Namespace("datasets", path="/datasets")
    for dataset in catalog:
        if dataset.access != "restricted":
            _document_dataset_route(documented, dataset)
    return documented


def _document_dataset_route(ns: Namespace, dataset: Dataset) -> None:
    record = model_for(ns, dataset)
    dataset_page = ns.inherit(f"Page_{dataset.id.replace('-', '_')}", page, {
        "records": fields.List(fields.Nested(record)),
    })
    params = dict(RECORD_PARAMS)
    params.pop("<field>")
    for f in dataset.schema.fields:
        params[f.name] = f"{f.title('vi')} / {f.title('en')}: lọc bằng / equals; also {f.name}{OPERATORS_TEXT}"

    def get(self: Resource) -> Any:
        return list_records(dataset.id)

    get.__doc__ = f"{dataset.title('vi')} / {dataset.title('en')}"
    get = ns.doc(f"list_{dataset.id.replace('-', '_')}_records", params=params)(get)
    get = ns.response(200, "Một trang bản ghi / one page of records", dataset_page)(get)
    get = responses(ns, error, 400, 401, 404, 429)(get)
    resource = type(f"Records_{dataset.id.replace('-', '_')}", (Resource,), {"get": get})
    ns.route(f"/{dataset.id}/records", endpoint=f"records_{dataset.id}")(resource)


def _labels_lang() -> str | None:
    """`labels=on` (or 1, true, vi): labels in Vietnamese; `labels=en`: in English; absent or off: none."""
    raw = (request.args.get("labels") or "").strip().lower()
    if raw in ("", "off", "0", "false"):
        return None
    if raw in ("on", "1", "true", "vi", "en"):
        return "en" if raw == "en" else "vi"
    raise q.QueryError(f"«labels» phải là on, en hoặc off, không phải «{raw}»",
                       f"«labels» must be on, en or off, not «{raw}»", field="labels")


def _refuse_blanked_filters(dataset: Any, viewer: Any, query: q.Query) -> None:
    """A field blanked on some rows for this viewer (personalWhen) must not be filtered or sorted on: the
    matching rows and their order would reveal the hidden values one question at a time."""
    blanked = {name for name, _, _ in conditional_personal(dataset, viewer)}
    for name in [f.field for f in query.filters] + [name for name, _ in query.sort]:
        if name in blanked:
            raise q.QueryError(f"Không lọc hay sắp xếp được theo «{name}» (dữ liệu cá nhân)",
                               f"Cannot filter or sort by «{name}» (personal data)", field=name)
    if query.q and not sees_personal(dataset, viewer) and any(
            dataset.schema.field(name).personal for name in dataset.schema.search_fields):
        raise q.QueryError("Bộ dữ liệu này chỉ tìm kiếm được với quyền dữ liệu cá nhân",
                           "Full-text search of this dataset needs its personal-data grant", field="q")


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
    bom = request.args.get("bom") in ("1", "true")
    response = Response(stream_with_context(csv_chunks(names, rows, bom=bom)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset.id}.csv"'
    return response


def _take(rows: Any, n: int) -> Any:
    for i, row in enumerate(rows):
        if i >= n:
            return
        yield row


__all__ = ["dataset_routes", "geojson_chunks"]
