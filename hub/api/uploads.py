"""POST /api/v1/datasets/<id>/uploads: a steward sends a source file; it is ingested, validated and loaded.

The file is kept under storage/uploads/<dataset>/ (it is the load's provenance). On the embedded default
the ingest runs during the request and the answer carries the load and its validation report; with Redis
configured it runs as a background job and the answer is 202 with the job to follow (Location header).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from flask import Response, g, request
from flask_restx import Resource, fields, inputs, reqparse
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import AccessDenied, HubError, InputError, Unauthenticated, ValidationFailed
from hub import jobs
from hub.api.datasets import ns
from hub.api.errors import error_body, handle_hub_error
from hub.api.jobs import job_body
from hub.api.models import error, nullable
from hub.auth import current_viewer
from hub.context import current_hub
from publish.guard import LoadPlan
from publish.store import utcnow
from publish.uploads import READABLE, save_upload

UPLOAD_ROLES = ("steward", "admin")

parser = reqparse.RequestParser()
parser.add_argument("file", location="files", type=FileStorage, required=True,
                    help="Tệp nguồn / the source file (" + ", ".join(READABLE) + ")")
parser.add_argument("encoding", location="form", help="Bảng mã / text encoding (utf-8, cp1258, tcvn3, vni...); "
                    "detected if omitted")
parser.add_argument("sheet", location="form", help="Trang tính Excel / Excel sheet name")
parser.add_argument("format", location="form", choices=READABLE, help="Định dạng / format; from the file name if omitted")
parser.add_argument("mode", location="form", choices=("full", "upsert"), default="full",
                    help="full: tệp là toàn bộ bộ dữ liệu / the file is the whole dataset (records it lacks are removed); "
                         "upsert: chỉ thêm và sửa / only adds and updates its own records, removes nothing")
parser.add_argument("scope", location="form", help="Phạm vi tệp đầy đủ / the scope the file is complete for, "
                    "FIELD=V1,V2 (e.g. commune_code=26068): removal only inside it")
parser.add_argument("allow_shrink", location="form", type=inputs.boolean, default=False,
                    help="Cho phép xoá nhiều / publish even when the load removes more than the dataset's shrink "
                         "limit of its current records (true/false)")


class UploadTooLarge(HubError):
    code = "upload-too-large"
    http_status = 413


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "có")


def _allowed(viewer: Any) -> None:
    if not viewer.authenticated:
        raise Unauthenticated("Cần khoá API của cán bộ quản lý dữ liệu để gửi tệp",
                              "Uploading needs the API key of a data steward")
    if viewer.role not in UPLOAD_ROLES:
        raise AccessDenied("Chỉ cán bộ quản lý dữ liệu (steward) hoặc quản trị (admin) được gửi tệp",
                           "Only data stewards and admins may upload files")


def _inline_answer(job: jobs.Job, viewer: Any) -> Response:
    shown = job_body(job, viewer)
    result = shown.get("result") or {}
    status = result.get("status")
    body: dict[str, Any] = {"job": shown, "load": result.get("load"), "report": result.get("report"),
                            "impact": result.get("impact")}
    code = 201 if status == "committed" else 200
    if result.get("refusal"):  # no valid row, or too many records removed: the current version stays
        body = {**result["refusal"], **body}
        code = 422
    elif status == "rejected":
        refused = ValidationFailed("Tệp bị từ chối vì dữ liệu không đạt quy tắc của bộ dữ liệu (xem báo cáo)",
                                   "The file was refused: its data breaks the dataset's rules (see the report)",
                                   dataset=job.dataset)
        body = {**error_body(refused), **body}
        code = refused.http_status
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=code, mimetype="application/json")


answer = ns.model("UploadResult", {
    "job": fields.Raw(description="Công việc nạp / the ingest job (GET /api/v1/jobs/<id>)"),
    "load": nullable(fields.Raw(description="Lần nạp: phiên bản, số dòng thêm/đổi/xoá / the load: version, rows "
                                            "added, changed, removed, rejected")),
    "report": nullable(fields.Raw(description="Báo cáo kiểm tra (dạng frictionless, tối đa 100 lỗi) / validation "
                                              "report (frictionless shape, first 100 errors)")),
    "impact": nullable(fields.Raw(description="Thêm, đổi, xoá so với phiên bản hiện hành / added, changed and "
                                              "removed against the current version")),
})
queued = ns.model("UploadQueued", {
    "job": fields.Raw(description="Công việc đã xếp hàng / the queued job"),
    "status": fields.String(description="queued"),
    "url": fields.String(description="Theo dõi tại / follow it at (also the Location header)"),
})


@ns.route("/<string:dataset_id>/uploads")
@ns.param("dataset_id", "Mã bộ dữ liệu / dataset id")
class Uploads(Resource):
    @ns.doc("upload_source_file", security=[{"bearer": []}], produces=["application/json"])
    @ns.expect(parser)
    @ns.response(201, "Đã nạp phiên bản mới / loaded as a new version", answer)
    @ns.response(200, "Không đổi gì / nothing changed (same data as the current version)", answer)
    @ns.response(202, "Đang chạy nền / accepted: the ingest runs as a background job", queued)
    @ns.response(400, "Không đọc được tệp / unreadable file or bad parameter", error)
    @ns.response(401, "Cần khoá API / API key required", error)
    @ns.response(403, "Chỉ steward hoặc admin / stewards and admins only", error)
    @ns.response(404, "Không có bộ dữ liệu / no such dataset", error)
    @ns.response(409, "Đang có lần nạp khác / another load of this dataset is running", error)
    @ns.response(413, "Tệp quá lớn / file larger than HUB_MAX_UPLOAD_MB", error)
    @ns.response(422, "Dữ liệu bị từ chối / data refused by validation (report included), no valid row "
                      "(code no-valid-rows) or the load would remove more than the dataset's shrink limit "
                      "(code shrink-refused: context names the counts and the first removed keys; send "
                      "allow_shrink=true to confirm)", answer)
    @ns.response(503, "Hàng đợi hoặc CSDL không trả lời / queue or database unavailable", error)
    @ns.response(507, "Đĩa đầy hoặc chỉ đọc / storage full or read-only (nothing half-written is kept)", error)
    def post(self, dataset_id: str) -> Any:
        """Gửi tệp nguồn để kiểm tra và nạp / send a source file to validate and load as the next version"""
        hub = current_hub()
        viewer = current_viewer()
        _allowed(viewer)
        hub.catalog.dataset(dataset_id)  # 404 before reading the body
        try:
            upload = request.files.get("file")
            form = request.form
        except RequestEntityTooLarge:
            too_big = UploadTooLarge(f"Tệp lớn hơn giới hạn {hub.settings.max_upload_mb} MB",
                                     f"The file is larger than the {hub.settings.max_upload_mb} MB limit")
            return handle_hub_error(too_big)
        if upload is None or not upload.filename:
            raise InputError("Thiếu tệp (trường «file» của biểu mẫu multipart)",
                             "No file sent (the multipart form field «file»)", field="file")
        fmt = form.get("format") or None
        mode = form.get("mode") or "full"
        scope = form.get("scope") or None
        LoadPlan.make(hub.catalog.dataset(dataset_id), mode=mode, scope=scope)  # a bad mode or scope: 400 now
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        storage = Path(hub.settings.storage_dir)
        saved = save_upload(upload.stream, upload.filename, storage / "uploads" / dataset_id,
                            prefix=f"{stamp}-{uuid.uuid4().hex[:8]}-", format=fmt)
        params = {"dataset": dataset_id, "path": str(saved.path.relative_to(storage)),
                  "source_name": saved.source_name, "format": fmt,
                  "encoding": form.get("encoding") or None, "sheet": form.get("sheet") or None,
                  "request_id": g.get("request_id"), "mode": mode, "scope": scope,
                  "allow_shrink": _truthy(form.get("allow_shrink"))}
        job = jobs.submit(hub, "ingest", params, created_by=viewer.name)
        if job.status in jobs.DONE:
            return _inline_answer(job, viewer)
        url = f"{request.script_root}/api/v1/jobs/{job.id}"
        body = {"job": job_body(job, viewer), "status": job.status, "url": url}
        return body, 202, {"Location": url}
