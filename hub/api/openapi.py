"""The OpenAPI document as the caller may see it: datasets the caller cannot see are not documented (their
routes and record models are left out, and `dataset_id` lists only the others), a record model lists only the
fields the caller may read, and filters, `sort` and `fields` only what the caller may ask. The document
flask-restx builds covers every dataset; this trims it per request (ASVS V14: no information exposure through
documentation). Also here, once for every operation: a text parameter may not hold control characters (the
edge refuses them, hub/security.py)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from core.catalog import Dataset
from core.errors import HubError
from hub.api.models import feature_name, model_name, page_name
from hub.api.params import TEXT_PATTERN
from hub.api.records import search_needs_grant
from hub.auth import current_viewer
from hub.context import current_hub
from publish.access import ANONYMOUS, Viewer, can_see_dataset, visible_fields
from publish.labels import label_key
from publish.query import queryable_fields

__all__ = ["visible_spec"]

SPEC_PATH = "/api/v1/swagger.json"


def visible_spec(response: Response) -> Response:
    """after_request of the API blueprint: trim swagger.json for the caller (before the ETag is computed)."""
    if request.path != SPEC_PATH or request.method != "GET" or response.status_code != 200 or response.is_streamed:
        return response
    try:
        viewer = current_viewer()
    except HubError:
        viewer = ANONYMOUS
    spec = json.loads(response.get_data())
    definitions = spec.get("definitions") or {}
    catalog = list(current_hub().catalog)
    for ds in catalog:
        if not can_see_dataset(ds, viewer):
            spec["paths"] = {p: v for p, v in (spec.get("paths") or {}).items() if f"/datasets/{ds.id}/" not in p + "/"}
            for name in (model_name(ds), page_name(ds), feature_name(ds)):
                definitions.pop(name, None)
        else:
            _trim_dataset(spec, ds, viewer)
    visible_ids = [ds.id for ds in catalog if can_see_dataset(ds, viewer)]
    for parameter in _parameters(spec):
        if parameter.get("in") == "path" and parameter.get("name") == "dataset_id":
            parameter["enum"] = visible_ids
        _no_control_characters(parameter)
    response.set_data(json.dumps(spec, ensure_ascii=False))
    response.vary.add("Authorization")
    return response


def _trim_dataset(spec: dict[str, Any], ds: Dataset, viewer: Viewer) -> None:
    shown = set(visible_fields(ds, viewer))
    hidden = set(ds.schema.field_names) - shown
    askable = queryable_fields(ds, viewer)  # a field blanked on some rows (personalWhen) is shown, not askable
    unaskable = set(ds.schema.field_names) - askable
    derived = {k for h in hidden for k in (h, f"{h}_label", label_key(h))}  # labels follow their field
    record = (spec.get("definitions") or {}).get(model_name(ds))
    if record and isinstance(record.get("properties"), dict):
        record["properties"] = {k: v for k, v in record["properties"].items() if k not in derived}
    for path, item in (spec.get("paths") or {}).items():
        if f"/datasets/{ds.id}/" not in path + "/":
            continue
        for operation in [item, *(v for v in item.values() if isinstance(v, dict))]:
            if not isinstance(operation.get("parameters"), list):
                continue
            kept = []
            for p in operation["parameters"]:
                name = str(p.get("name", ""))
                if name.partition("__")[0] in unaskable or (name == "q" and search_needs_grant(ds, viewer)):
                    continue
                items = p.get("items") or {}
                if name == "sort" and "enum" in items:
                    items["enum"] = [s for s in items["enum"] if s.lstrip("-") in askable]
                if name == "fields" and "enum" in items:
                    items["enum"] = [s for s in items["enum"] if s in shown]
                kept.append(p)
            operation["parameters"] = kept


def _parameters(spec: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in (spec.get("paths") or {}).values():
        for operation in [item, *(v for v in item.values() if isinstance(v, dict))]:
            out += [p for p in operation.get("parameters") or [] if isinstance(p, dict)]
    return out


def _no_control_characters(parameter: dict[str, Any]) -> None:
    """A free text parameter of the URI (query or path) is documented as refusing control characters."""
    if parameter.get("in") not in ("query", "path"):
        return
    for schema in (parameter, parameter.get("items") or {}):
        if schema.get("type") == "string" and not ({"enum", "pattern", "format"} & set(schema)):
            schema["pattern"] = TEXT_PATTERN
