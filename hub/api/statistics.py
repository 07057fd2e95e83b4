"""/api/v1/reports: the periodic reports and their statistics (every produced period's figures, one row per
indicator × breakdown category × period), with the Table Schema generated from the report's definition.

Access: a report's statistics are as restricted as the most restricted dataset it reads, unless its definition
is aggregate-only (then open, figures under the minimum cell size withheld): publish/reports/statistics.py.
A report the caller may not see answers 404, like one that does not exist.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, request
from flask_restx import Namespace, Resource, fields

from core.errors import NotFound
from core.reports import ReportDefinition
from hub.api.errors import responses
from hub.api.models import error
from hub.auth import current_viewer
from hub.context import current_hub
from publish.access import Viewer, can_see_dataset
from publish.context import Hub
from publish.query import QueryError
from publish.reports import statistics


def visible_reports(hub: Hub, viewer: Viewer) -> list[ReportDefinition]:
    out = []
    for definition in hub.catalog.reports.values():
        if statistics.access_of(hub.catalog, definition) == "open" or all(
                can_see_dataset(hub.catalog.dataset(ds), viewer) for ds in definition.datasets):
            out.append(definition)
    return out


def _summary(hub: Hub, definition: ReportDefinition) -> dict[str, Any]:
    return {"id": definition.id, "form": definition.form,
            "title": {"vi": definition.title("vi"), "en": definition.title("en")},
            "period": definition.period_kind, "deadline_days": definition.deadline_days,
            "datasets": definition.datasets, "access": statistics.access_of(hub.catalog, definition),
            "min_cell": definition.min_cell if definition.aggregate_only else 0,
            "links": {"statistics": f"/api/v1/reports/{definition.id}/statistics",
                      "csv": f"/api/v1/reports/{definition.id}/statistics?format=csv",
                      "page": f"/reports/{definition.id}"}}


ns = Namespace("reports", description="Báo cáo định kỳ / Periodic reports")
report_model = ns.model("PeriodicReport", {
    "id": fields.String, "form": fields.String(description="Biểu số / form code"), "title": fields.Raw,
    "period": fields.String(enum=["month", "quarter", "half-year", "year"]), "deadline_days": fields.Integer,
    "datasets": fields.List(fields.String), "access": fields.String(enum=["open", "shared", "restricted"]),
    "min_cell": fields.Integer(description="Ô ít hơn số bản ghi này không công bố / cells under this are withheld"),
    "links": fields.Raw,
})


@ns.route("")
class ReportList(Resource):
    @ns.doc("list_reports")
    @ns.response(200, "Các báo cáo định kỳ / the periodic reports", fields.List(fields.Nested(report_model)))
    @responses(ns, error, 401, 429)
    def get(self) -> Any:
        """Các báo cáo định kỳ mình được xem / the periodic reports you may see"""
        hub_ = current_hub()
        return [_summary(hub_, d) for d in visible_reports(hub_, current_viewer())]


@ns.route("/<string:report_id>/statistics", endpoint="report_statistics")
@ns.param("report_id", "Mã báo cáo / report id")
class ReportStatistics(Resource):
    @ns.doc("report_statistics", params={"format": {"description": "json (mặc định / default) hoặc / or csv",
                                                     "type": "string", "enum": ["json", "csv"]}},
            produces=["application/json", "text/csv"])
    @ns.response(200, "Số liệu mọi kỳ đã lập và lược đồ / every produced period's figures and their schema")
    @responses(ns, error, 401, 404, 429)
    def get(self, report_id: str) -> Any:
        """Số liệu thống kê của một báo cáo / a report's statistics"""
        hub_ = current_hub()
        found = [d for d in visible_reports(hub_, current_viewer()) if d.id == report_id]
        if not found:
            raise NotFound(f"Không có báo cáo «{report_id}»", f"No report «{report_id}»", field="report")
        definition = found[0]
        rows = statistics.rows(hub_.store, definition)
        schema = statistics.schema(definition)
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "csv"):
            raise QueryError(f"Định dạng không hỗ trợ «{fmt}» (json, csv)", f"Unsupported format «{fmt}» (json, csv)",
                             field="format")
        if fmt == "csv":
            out = io.StringIO()
            names = [f["name"] for f in schema["fields"]]
            writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{report_id}.csv"'})
        return {**_summary(hub_, definition), "schema": schema, "rows": rows}
