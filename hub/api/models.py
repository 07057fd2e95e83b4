"""flask-restx models derived from the schemas, for the OpenAPI document only.

Rows are serialised directly (marshal_with costs more than half the throughput); these models describe
them. A record's model is written from its Table Schema as JSON Schema (OpenAPI 2 has no `nullable`: a field
that may be empty is `x-nullable`, which validators and generators of OpenAPI 2 read); each property's
description is the field's Vietnamese and English title. No property is required: `fields=` picks some.
"""

from __future__ import annotations

from typing import Any

from flask_restx import Model, Namespace, fields

from core.catalog import Dataset, Field
from publish.labels import label_key
from publish.query import DISTANCE

__all__ = ["error", "feature_name", "field_schema", "model_name", "nullable", "page_name", "record_models", "text"]

_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "time": {"type": "string"},
    "year": {"type": "integer"},
    "geojson": {"type": "string", "format": "geojson"},  # the geometry's GeoJSON as text (as stored)
    "object": {"type": "object"},
    "array": {"type": "array", "items": {}},
}
# Table Schema constraints that are JSON Schema keywords of the same meaning (the stored values passed them)
_KEPT = ("minimum", "maximum", "minLength", "maxLength")
_FORMATS = {"email": "email", "uri": "uri"}


def model_name(dataset: Dataset) -> str:
    return "Record_" + dataset.id.replace("-", "_")


def page_name(dataset: Dataset) -> str:
    return "Page_" + dataset.id.replace("-", "_")


def feature_name(dataset: Dataset) -> str:
    return "Feature_" + dataset.id.replace("-", "_")


def field_schema(f: Field) -> dict[str, Any]:
    """One field as a JSON Schema property of an answer: its type, format, enum and range; `x-nullable` unless
    required, and for a field blanked on some rows for callers without the personal grant (personalWhen)."""
    out: dict[str, Any] = {**_TYPES.get(f.type, {"type": "string"})}
    description = f"{f.title('vi')} / {f.title('en')}"
    if f.personal or f.personal_when:
        description += " — dữ liệu cá nhân, chỉ trả cho bên được cấp quyền / personal data, only for granted clients"
    out["description"] = description
    constraints = f.constraints
    out.update({k: constraints[k] for k in _KEPT if k in constraints})
    if f.type == "string" and f.descriptor.get("format") in _FORMATS:
        out["format"] = _FORMATS[f.descriptor["format"]]
    if f.type == "string" and constraints.get("pattern"):
        out["pattern"] = f"^(?:{constraints['pattern']})$"  # Table Schema patterns match the whole value
    if f.enum:
        out["enum"] = list(f.enum)
    if not constraints.get("required") or f.personal_when:
        out["x-nullable"] = True
    return out


def _record_schema(dataset: Dataset) -> dict[str, Any]:
    props: dict[str, Any] = {}
    fk_fields = [name for fk in dataset.schema.foreign_keys
                 for name in ([fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"])]
    for f in dataset.schema.fields:
        props[f.name] = field_schema(f)
        if f.name in fk_fields:
            props[label_key(f.name)] = {"type": "string", "x-nullable": True,
                                        "description": f"labels=on: tên bản ghi được tham chiếu / the referenced "
                                                       f"record's name ({f.name})"}
    for f in dataset.schema.fields:
        if f.enum:
            props[f"{f.name}_label"] = {"type": "string", "x-nullable": True,
                                        "description": f"labels=on: nhãn của / label of {f.name}"}
    if dataset.schema.geometry_kind:
        props[DISTANCE] = {"type": "number", "description": "near=: khoảng cách / metres from the point (WGS84)"}
    return {"type": "object", "description": f"{dataset.title('vi')} / {dataset.title('en')}", "properties": props}


def _page_schema(dataset: Dataset) -> dict[str, Any]:
    record = {"$ref": f"#/definitions/{model_name(dataset)}"}
    nullable_text = {"type": "string", "x-nullable": True}
    return {
        "type": "object",
        "description": "format=json: dataset … records; format=geojson: a GeoJSON FeatureCollection (type, features) "
                       "with the same version, total, next_cursor and next",
        "required": ["version", "total", "next_cursor", "next"],
        "properties": {
            "dataset": {"type": "string"},
            "version": {"type": "integer", "x-nullable": True, "description": "Phiên bản đang đọc / version being "
                                                                              "read (null before the first load)"},
            "total": {"type": "integer", "x-nullable": True, "description": "Tổng số bản ghi khớp / matching records"},
            "limit": {"type": "integer", "description": "Cỡ trang đã dùng / page size used"},
            "fields": {"type": "array", "items": {"type": "string"}},
            "next_cursor": {**nullable_text, "description": "null on the last page"},
            "next": {**nullable_text, "description": "URL of the next page; null on the last page"},
            "records": {"type": "array", "items": record},
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": f"#/definitions/{feature_name(dataset)}"}},
        },
    }


def _feature_schema(dataset: Dataset) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"description": "Khoá chính / the primary key, when it is one field"},
            "geometry": {"type": "object", "x-nullable": True, "description": "GeoJSON geometry (WGS84)"},
            "properties": {"$ref": f"#/definitions/{model_name(dataset)}"},
        },
    }


def record_models(ns: Namespace, dataset: Dataset) -> Any:
    """The record, GeoJSON feature and page models of `dataset` on `ns`; returns the page's (the answer of
    its records operation). The Api includes every registered model in the document (RESTX_INCLUDE_ALL_MODELS),
    so the page's references resolve."""
    ns.schema_model(model_name(dataset), _record_schema(dataset))
    ns.schema_model(feature_name(dataset), _feature_schema(dataset))
    return ns.schema_model(page_name(dataset), _page_schema(dataset))


# The two models every namespace answers with; hub/api/__init__.py adds them to the Api.
text = Model("Text", {"vi": fields.String, "en": fields.String})
error = Model("Error", {"code": fields.String, "message": fields.Nested(text), "context": fields.Raw})


def nullable(field: Any) -> Any:
    """`field` (a flask-restx field instance) documented as possibly null: OpenAPI 2 has no `nullable`, so the
    `x-nullable` extension, which OpenAPI 2 validators and generators read."""
    field.__dict__["__schema__"] = {**field.__schema__, "x-nullable": True}
    return field
