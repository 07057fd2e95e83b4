"""flask-restx models derived from the schemas, for the OpenAPI document only.

Rows are serialised directly (marshal_with costs more than half the throughput); these models describe
them. Each field's description is its Vietnamese and English title, from the schema.
"""

from __future__ import annotations

from flask_restx import Model, Namespace, fields

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


# The two models every namespace answers with; hub/api/__init__.py adds them to the Api.
text = Model("Text", {"vi": fields.String, "en": fields.String})
error = Model("Error", {"code": fields.String, "message": fields.Nested(text), "context": fields.Raw})
