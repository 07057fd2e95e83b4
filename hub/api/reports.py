"""/api/v1/datasets/<id>/loads: the loads of a dataset, a load's validation report and its rejected rows.

For data stewards and admins only (401 without a key, 403 for other roles, decided before the dataset is
looked up). Reports and rejected rows hold the source file's cells, personal data included, so what a
caller may not see is blanked exactly as in the records: personal fields unless the caller is granted the
dataset's personal data, `personalWhen` fields on the rows where the condition holds (or cannot be told).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_restx import Resource, fields

from core.catalog import Dataset
from hub import audit
from hub.api.datasets import ns, visible_dataset
from hub.api.errors import responses
from hub.api.models import error as error_model
from hub.api.models import nullable
from hub.auth import require_role
from hub.context import current_hub
from publish import versions
from publish.access import Viewer, sees_personal
from publish.context import Hub
from publish.query import QueryError
from publish.redaction import HIDDEN, redact_report, redact_row  # noqa: F401 - re-exported

__all__ = ["Loads", "LoadReport", "RejectedRows", "redact_report", "redact_row"]

ROLES = ("steward", "admin")
MAX_LOAD_ID = 2**31 - 1  # load ids are the databases' 32-bit integers: a larger one names no load (404, not a 500)


# -- lookups -----------------------------------------------------------------------------------------------------

def _limit(default: int, most: int) -> int:
    raw = request.args.get("limit", str(default))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= most:
        raise QueryError(f"«limit» phải từ 1 đến {most}", f"«limit» must be between 1 and {most}", field="limit")
    return value


def _dataset_for_steward(dataset_id: str) -> tuple[Hub, Dataset, Viewer]:
    viewer = require_role(*ROLES)  # before the dataset: a department learns nothing about which ids exist
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, viewer)
    audit.note(dataset=dataset.id)
    return hub, dataset, viewer


# -- endpoints ---------------------------------------------------------------------------------------------------

load = ns.model("Load", {
    "id": fields.Integer(description="Mã lần nạp / load id"),
    "dataset": fields.String,
    "version": nullable(fields.Integer(description="Phiên bản tạo ra (nếu có) / version it produced, if any")),
    "status": fields.String(description="committed, unchanged, rejected, failed, running...",
                            enum=["running", "committed", "unchanged", "rejected", "failed", "pending", "discarded"]),
    "source_name": nullable(fields.String(description="Tệp nguồn / source file")),
    "source_sha256": nullable(fields.String()),
    "source_size": nullable(fields.Integer()),
    "format": nullable(fields.String()),
    "encoding": nullable(fields.String()),
    "created_by": nullable(fields.String(description="Người nạp / who loaded it")),
    "started_at": nullable(fields.String()),
    "finished_at": nullable(fields.String()),
    "rows_read": nullable(fields.Integer()),
    "rows_loaded": nullable(fields.Integer()),
    "rows_rejected": nullable(fields.Integer()),
    "rows_unchanged": nullable(fields.Integer()),
    "rows_added": nullable(fields.Integer()),
    "rows_changed": nullable(fields.Integer()),
    "rows_removed": nullable(fields.Integer()),
    "quality_score": nullable(fields.Float()),
    "error": nullable(fields.String()),
})
load_list = ns.model("LoadList", {"dataset": fields.String, "loads": fields.List(fields.Nested(load))})
load_report = ns.inherit("LoadReport", load, {
    "report": fields.Raw(description="Báo cáo kiểm tra (dạng frictionless) / validation report (frictionless shape)"),
})
rejected = ns.model("RejectedRow", {
    "row": fields.Integer(description="Số dòng trong tệp nguồn / row number in the source file"),
    "data": fields.Raw(description="Các ô của dòng / the row's cells by field"),
    "errors": fields.List(fields.Raw, description="Lỗi / errors (Vietnamese messages)"),
})
rejected_page = ns.model("RejectedRows", {
    "dataset": fields.String, "load": fields.Integer, "rows_rejected": fields.Integer,
    "rows": fields.List(fields.Nested(rejected)),
})

guarded = responses(ns, error_model, 400, 401, 403, 404, 429)


@ns.route("/<string:dataset_id>/loads")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class Loads(Resource):
    @ns.doc("list_loads", security=[{"bearer": []}],
            params={"limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100,
                              "description": "Số lần nạp / how many, newest first"}})
    @ns.response(200, "Các lần nạp, mới nhất trước / loads, newest first", load_list)
    @guarded
    def get(self, dataset_id: str) -> dict[str, Any]:
        """Các lần nạp của bộ dữ liệu / the loads of a dataset (stewards, admins)"""
        hub, dataset, _ = _dataset_for_steward(dataset_id)
        rows = versions.loads(hub.store, dataset.id, limit=_limit(100, 1000))
        return {"dataset": dataset.id, "loads": rows}


@ns.route(f"/<string:dataset_id>/loads/<int(max={MAX_LOAD_ID}):load_id>")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
@ns.param("load_id", "Mã lần nạp / load id", maximum=MAX_LOAD_ID)
class LoadReport(Resource):
    @ns.doc("get_load_report", security=[{"bearer": []}])
    @ns.response(200, "Lần nạp và báo cáo kiểm tra / the load and its validation report", load_report)
    @guarded
    def get(self, dataset_id: str, load_id: int) -> dict[str, Any]:
        """Báo cáo kiểm tra của một lần nạp / a load's validation report (stewards, admins)"""
        hub, dataset, viewer = _dataset_for_steward(dataset_id)
        out = versions.load_summary(hub.store, load_id, dataset.id)
        out["report"] = redact_report(dataset, viewer, versions.load_report(hub.store, load_id) or {})
        return out


@ns.route(f"/<string:dataset_id>/loads/<int(max={MAX_LOAD_ID}):load_id>/rejected")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
@ns.param("load_id", "Mã lần nạp / load id", maximum=MAX_LOAD_ID)
class RejectedRows(Resource):
    @ns.doc("list_rejected_rows", security=[{"bearer": []}],
            params={"limit": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000,
                              "description": "Số dòng / how many rows, in source order"}})
    @ns.response(200, "Các dòng bị loại và lỗi / rejected rows and their errors", rejected_page)
    @guarded
    def get(self, dataset_id: str, load_id: int) -> dict[str, Any]:
        """Các dòng bị loại của một lần nạp / a load's rejected rows (stewards, admins)"""
        hub, dataset, viewer = _dataset_for_steward(dataset_id)
        summary = versions.load_summary(hub.store, load_id, dataset.id)
        rows = []
        for item in versions.rejected_rows(hub.store, load_id, limit=_limit(1000, 10_000)):
            data, errors = redact_row(dataset, viewer, item["data"], item["errors"])
            rows.append({"row": item["row"], "data": data, "errors": errors})
        audit.note(rows=len(rows), personal=sees_personal(dataset, viewer))
        return {"dataset": dataset.id, "load": load_id, "rows_rejected": summary["rows_rejected"], "rows": rows}
