"""flask-restx models derived from the schemas, for the OpenAPI document only.

Rows are serialised directly (marshal_with costs more than half the throughput); these models describe
them. Each field's description is its Vietnamese and English title, from the schema.
"""

from __future__ import annotations

from flask_restx import Api, Namespace, fields

from core.catalog import Dataset

_TYPES = {
    "integer": fields.Integer,
    "number": fields.Float,
    "boolean": fields.Boolean,
    "date": fields.Date,
    "datetime": fields.DateTime,
}


def model_name(dataset: Dataset) -> str:
    return "Record_" + dataset.id.replace("-", "_")


def model_for(ns: Namespace, dataset: Dataset):  # noqa: ANN201 - a flask_restx Model
    props = {}
    for f in dataset.schema.fields:
        kind = _TYPES.get(f.type, fields.String)
        description = f"{f.title('vi')} / {f.title('en')}"
        if f.personal:
            description += " — dữ liệu cá nhân, chỉ trả cho bên được cấp quyền / personal data, only for granted clients"
        extra = {}
        if f.enum:
            extra["enum"] = list(f.enum)
        props[f.name] = kind(description=description, required=f.constraints.get("required", False), **extra)
    return ns.model(model_name(dataset), props)


def namespace(api: Api, name: str, description: str) -> Namespace:
    """The API's namespace called `name`, created on first use, so several modules can add routes to it."""
    for ns in api.namespaces:
        if ns.name == name:
            return ns
    return api.namespace(name, description=description)
