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
from hub.api.models import error, text
from hub.auth import current_viewer
from hub.context import current_hub
from publish.access import Viewer, owns
from publish.context import Hub
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


ns = Namespace("jobs", description="Công việc chạy nền / Background jobs")
job_error = ns.model("JobError", {"code": fields.String, "message": fields.Nested(text), "context": fields.Raw})
job_model = ns.model("Job", {
    "id": fields.String(description="Mã công việc / job id"),
    "kind": fields.String(enum=list(jobs.KINDS), description="Loại / kind"),
    "status": fields.String(enum=["queued", "running", "finished", "failed"],
                            description="Trạng thái / status"),
    "dataset": fields.String(description="Bộ dữ liệu / dataset id"),
    "progress": fields.Float(description="Tiến độ 0–1 / progress from 0 to 1 (estimated while running)"),
    "message": fields.String(description="Đang làm gì / what it is doing, or why it failed"),
    "params": fields.Raw(description="Tham số khi gửi / parameters it was submitted with"),
    "result": fields.Raw(description="Kết quả (nạp: phiên bản, số dòng, báo cáo kiểm tra) / result (ingest: "
                                     "version, row counts, validation report)"),
    "error": fields.Nested(job_error, allow_null=True, description="Lỗi / error, when failed"),
    "load_id": fields.Integer(description="Lần nạp tạo ra / the load it made"),
    "created_by": fields.String, "created_at": fields.String, "started_at": fields.String,
    "finished_at": fields.String, "worker": fields.String(description="host:pid that ran it"),
    "heartbeat_at": fields.String(description="Tín hiệu cuối / last heartbeat (UTC)"),
    "links": fields.Raw,
})


@ns.route("")
class JobList(Resource):
    @ns.doc("list_jobs", params={
        "status": "queued, running, finished or failed",
        "dataset": "Mã bộ dữ liệu / dataset id",
        "limit": "Số công việc / how many (default 50, at most 500)",
    })
    @ns.response(200, "Công việc mới nhất trước / newest first", fields.List(fields.Nested(job_model)))
    @ns.response(401, "Cần khoá API / API key required", error)
    def get(self) -> Any:
        """Các công việc chạy nền của mình (admin: mọi công việc) / your background jobs (admins: all)"""
        viewer = current_viewer()
        require_client(viewer)
        limit = max(1, min(request.args.get("limit", 50, type=int) or 50, 500))
        found = jobs.list_jobs(current_hub().store, status=request.args.get("status"),
                               dataset=request.args.get("dataset"), limit=limit,
                               created_by=None if viewer.is_admin else viewer.name)
        return [job_body(j, viewer) for j in found]


@ns.route("/<string:job_id>", endpoint="job")
@ns.param("job_id", "Mã công việc / job id (from the upload's answer or its Location header)")
class JobItem(Resource):
    @ns.doc("get_job")
    @ns.response(200, "Công việc / the job", job_model)
    @ns.response(401, "Cần khoá API / API key required", error)
    @ns.response(404, "Không có / no such job (or not yours)", error)
    def get(self, job_id: str) -> Any:
        """Trạng thái, tiến độ và kết quả của một công việc / a job's status, progress and result"""
        viewer = current_viewer()
        return job_body(visible_job(current_hub(), job_id, viewer), viewer)
