"""/api/v1/jobs: background jobs (uploads, exports, CKAN pushes), their progress and their result.

A job is its submitter's: a client sees (and lists) only the jobs it submitted, admins see every job, other
stewards none of another's; anonymous callers none. A job someone may not see answers 404, like a job that
does not exist. A job's result passes the personal-field redaction of stored reports (publish/redaction.py):
an ingest's validation report holds the source file's cells.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_restx import Namespace, Resource, fields

from core.errors import NotFound, Unauthenticated
from hub import jobs
from hub.api.models import error, nullable, text
from hub.auth import current_viewer
from hub.context import current_hub
from publish.access import Viewer, owns
from publish.context import Hub
from publish.query import QueryError
from publish.redaction import redact_job_result


def require_client(viewer: Viewer) -> None:
    if not viewer.authenticated:
        raise Unauthenticated("Cần khoá API (Authorization: Bearer ...)", "An API key is required (Authorization: Bearer ...)")


def job_body(job: jobs.Job, viewer: Viewer) -> dict[str, Any]:
    """The job as `viewer` may see it (its result's report blanked of what the viewer may not see)."""
    body = job.to_dict()
    body["result"] = redact_job_result(current_hub().catalog, job.dataset, body["result"], viewer)
    body["params"] = {k: v for k, v in body["params"].items() if k not in ("viewer", "request_id")}
    body["links"] = {"self": f"/api/v1/jobs/{job.id}"}
    if job.dataset:
        body["links"]["dataset"] = f"/api/v1/datasets/{job.dataset}"
    return body


def visible_job(hub: Hub, job_id: str, viewer: Viewer) -> jobs.Job:
    require_client(viewer)
    job = jobs.get(hub.store, job_id)
    if not owns(job.created_by, viewer):
        raise NotFound(f"Không có công việc «{job_id}»", f"No job «{job_id}»", field="job")
    return job


STATUSES = ("queued", "running", "finished", "failed")
KEYED: list[dict[str, list[str]]] = [{"bearer": []}]  # no job is anyone's without a key

ns = Namespace("jobs", description="Công việc chạy nền / Background jobs")
job_error = ns.model("JobError", {"code": fields.String, "message": fields.Nested(text), "context": fields.Raw})
job_model = ns.model("Job", {
    "id": fields.String(description="Mã công việc / job id"),
    "kind": fields.String(enum=list(jobs.KINDS), description="Loại / kind"),
    "status": fields.String(enum=list(STATUSES),
                            description="Trạng thái / status"),
    "dataset": nullable(fields.String(description="Bộ dữ liệu / dataset id")),
    "progress": nullable(fields.Float(description="Tiến độ 0–1 / progress from 0 to 1 (estimated while running)")),
    "message": nullable(fields.String(description="Đang làm gì / what it is doing, or why it failed")),
    "params": fields.Raw(description="Tham số khi gửi / parameters it was submitted with"),
    "result": nullable(fields.Raw(description="Kết quả (nạp: phiên bản, số dòng, báo cáo kiểm tra) / result "
                                              "(ingest: version, row counts, validation report)")),
    "error": nullable(fields.Nested(job_error, description="Lỗi / error, when failed")),
    "load_id": nullable(fields.Integer(description="Lần nạp tạo ra / the load it made")),
    "created_by": nullable(fields.String()), "created_at": fields.String, "started_at": nullable(fields.String()),
    "finished_at": nullable(fields.String()), "worker": nullable(fields.String(description="host:pid that ran it")),
    "heartbeat_at": nullable(fields.String(description="Tín hiệu cuối / last heartbeat (UTC)")),
    "links": fields.Raw,
})


@ns.route("")
class JobList(Resource):
    @ns.doc("list_jobs", security=KEYED, params={
        "status": {"type": "string", "enum": list(STATUSES), "description": "Trạng thái / status"},
        "dataset": {"type": "string", "description": "Mã bộ dữ liệu / dataset id"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50,
                  "description": "Số công việc / how many, newest first"},
    })
    @ns.response(200, "Công việc mới nhất trước / newest first", fields.List(fields.Nested(job_model)))
    @ns.response(401, "Cần khoá API / API key required", error)
    def get(self) -> Any:
        """Các công việc chạy nền của mình (admin: mọi công việc) / your background jobs (admins: all)"""
        viewer = current_viewer()
        require_client(viewer)
        limit = request.args.get("limit", "50").strip()
        if not limit.isdigit() or not 1 <= int(limit) <= 500:
            raise QueryError("«limit» phải là số nguyên từ 1 đến 500", "«limit» must be an integer from 1 to 500",
                             field="limit")
        status = request.args.get("status")
        if status is not None and status not in STATUSES:
            raise QueryError(f"«status» phải là một trong: {', '.join(STATUSES)}",
                             f"«status» must be one of: {', '.join(STATUSES)}", field="status")
        found = jobs.list_jobs(current_hub().store, status=status,
                               dataset=request.args.get("dataset"), limit=int(limit),
                               created_by=None if viewer.is_admin else viewer.name)
        return [job_body(j, viewer) for j in found]


@ns.route("/<string:job_id>", endpoint="job")
@ns.param("job_id", "Mã công việc / job id (from the upload's answer or its Location header)")
class JobItem(Resource):
    @ns.doc("get_job", security=KEYED)
    @ns.response(200, "Công việc / the job", job_model)
    @ns.response(401, "Cần khoá API / API key required", error)
    @ns.response(404, "Không có / no such job (or not yours)", error)
    def get(self, job_id: str) -> Any:
        """Trạng thái, tiến độ và kết quả của một công việc / a job's status, progress and result"""
        viewer = current_viewer()
        return job_body(visible_job(current_hub(), job_id, viewer), viewer)
