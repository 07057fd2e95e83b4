"""The OpenAPI document as the caller may see it: datasets the caller cannot see are not documented (their
routes and record models are left out), and a record model lists only the fields the caller may read. The
document flask-restx builds covers every dataset; this trims it per request (ASVS V14: no information
exposure through documentation)."""

from __future__ import annotations

import json

from flask import Response, request

from core.errors import HubError
from hub.auth import current_viewer
from hub.context import current_hub
from publish.access import ANONYMOUS, can_see_dataset, visible_fields

__all__ = ["visible_spec"]

SPEC_PATH = "/api/v1/swagger.json"


def visible_spec(response: Response) -> Response:
    """after_request of the API blueprint: trim swagger.json for the caller (before the ETag is computed)."""
    if request.path != SPEC_PATH or response.status_code != 200 or response.is_streamed:
        return response
    try:
        viewer = current_viewer()
    except HubError:
        viewer = ANONYMOUS
    spec = json.loads(response.get_data())
    definitions = spec.get("definitions") or {}
    for ds in current_hub().catalog:
        suffix = "_" + ds.id.replace("-", "_")
        models = [name for name in definitions if name.endswith(suffix) and name.split("_", 1)[0] in ("Record", "Page")]
        if not can_see_dataset(ds, viewer):
            spec["paths"] = {p: v for p, v in (spec.get("paths") or {}).items() if f"/datasets/{ds.id}/" not in p + "/"}
            for name in models:
                definitions.pop(name, None)
            continue
        shown = set(visible_fields(ds, viewer))
        hidden = set(ds.schema.field_names) - shown
        for path, item in (spec.get("paths") or {}).items():
            if f"/datasets/{ds.id}/" not in path + "/" or not hidden:
                continue
            for operation in [item, *(v for v in item.values() if isinstance(v, dict))]:
                if isinstance(operation.get("parameters"), list):  # the filters on fields the caller cannot see
                    operation["parameters"] = [p for p in operation["parameters"]
                                               if str(p.get("name", "")).partition("__")[0] not in hidden]
        record = definitions.get("Record" + suffix)
        if record and isinstance(record.get("properties"), dict):
            record["properties"] = {k: v for k, v in record["properties"].items() if k in shown}
            if isinstance(record.get("required"), list):
                record["required"] = [k for k in record["required"] if k in shown]
    response.set_data(json.dumps(spec, ensure_ascii=False))
    response.vary.add("Authorization")
    return response
