"""Uploads in the steward workspace: validate first, then publish or discard.

An upload lives in its own folder, storage/uploads/steward/<token>/: the file as sent (source/), its state
(state.json, rewritten atomically) and, once checked, report.json, report.html and rows-to-fix.xlsx. The
check is `publish.pipeline.run(load=False)` and publishing is `publish.pipeline.run(load=True)` on the kept
file, both run as background jobs (hub.jobs: the `steward-check` and `steward-publish` kinds, on `hub worker`
with Redis, inline without), so a page can show progress; the state lives in the folder, not in the process,
so any gunicorn worker can show it, and a check whose process died shows as stale (no heartbeat for
STALE_SECONDS) and can be discarded. Discarding deletes the folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from core.errors import HubError, NotFound, ShrinkRefused
from publish.context import Hub
from publish.redaction import redact_report, redact_row
from publish.sessions import client_viewer
from publish.store import utcnow
from publish.uploads import save_upload

log = logging.getLogger("publish.workspace")

RUNNING = ("validating", "publishing")
STALE_SECONDS = 120
ROWS_KEPT = 200_000  # rejected rows written to rows-to-fix.xlsx
_TOKEN_CHARS = set("0123456789abcdef")

STEPS = ("validate", "publish")

__all__ = ["STEPS", "Upload", "begin", "create", "discard", "failed", "get", "list_uploads", "publish", "run",
           "validate"]


@dataclass
class Upload:
    token: str
    dataset: str
    source_name: str  # the name the steward's file had
    file: str  # path inside the upload folder
    created_by: str
    created_at: str
    status: str = "validating"  # validating, validated, publishing, published, failed
    rows_read: int = 0
    updated_at: float = field(default_factory=time.time)
    summary: dict[str, Any] = field(default_factory=dict)  # of the check: valid, blocked, rows, score...
    load: dict[str, Any] | None = None  # the load publishing made
    error: dict[str, Any] | None = None
    allow_shrink: bool = False  # the steward confirmed a load removing more than the shrink limit

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def stale(self) -> bool:
        return self.running and time.time() - self.updated_at > STALE_SECONDS


def root(hub: Hub) -> Path:
    return Path(hub.settings.storage_dir) / "uploads" / "steward"


def folder(hub: Hub, token: str) -> Path:
    if len(token) != 32 or not set(token) <= _TOKEN_CHARS:
        raise NotFound("Không có tệp tải lên này", "No such upload", field="upload")
    return root(hub) / token


def _save(hub: Hub, upload: Upload) -> None:
    upload.updated_at = time.time()
    path = folder(hub, upload.token) / "state.json"
    partial = path.with_name(f".state.{os.getpid()}.{threading.get_ident()}.part")
    partial.write_text(json.dumps(asdict(upload), ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(partial, path)


def get(hub: Hub, token: str) -> Upload:
    path = folder(hub, token) / "state.json"
    try:
        return Upload(**json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        raise NotFound("Không có tệp tải lên này", "No such upload", field="upload") from None


def list_uploads(hub: Hub, created_by: str | None = None) -> list[Upload]:
    """Uploads not yet discarded, newest first (of one steward when `created_by` is given)."""
    found = []
    base = root(hub)
    if not base.is_dir():
        return []
    for entry in base.iterdir():
        try:
            upload = get(hub, entry.name)
        except NotFound:
            continue
        if created_by is None or upload.created_by == created_by:
            found.append(upload)
    return sorted(found, key=lambda u: u.created_at, reverse=True)


def create(hub: Hub, dataset_id: str, stream: IO[bytes], filename: str, created_by: str) -> Upload:
    """Keep the uploaded file in a new upload folder (not checked yet: see start()). A file the hub cannot read
    or an empty one is refused here, as the API refuses it (publish.uploads.save_upload)."""
    dataset = hub.catalog.dataset(dataset_id)
    token = uuid.uuid4().hex
    try:
        saved = save_upload(stream, filename, folder(hub, token) / "source")
    except HubError:
        shutil.rmtree(folder(hub, token), ignore_errors=True)
        raise
    upload = Upload(token=token, dataset=dataset.id, source_name=saved.source_name, file=f"source/{saved.path.name}",
                    created_by=created_by, created_at=utcnow().isoformat(timespec="seconds"))
    _save(hub, upload)
    return upload


def _progress(hub: Hub, upload: Upload, also: Callable[[int], None] | None = None) -> Callable[[int], None]:
    last = [0.0]

    def update(rows: int) -> None:
        if also is not None:
            also(rows)
        upload.rows_read = rows
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            _save(hub, upload)

    return update


def validate(hub: Hub, upload: Upload, progress: Callable[[int], None] | None = None) -> Upload:
    """Check the kept file without loading it; write the report files next to it."""
    from publish import pipeline
    from validate.render_files import write_report_files
    from validate.render_xlsx import rows_from_frame

    base = folder(hub, upload.token)
    dataset = hub.catalog.dataset(upload.dataset)
    try:
        outcome = pipeline.run(hub.store, dataset.id, base / upload.file, load=False, source_name=upload.source_name,
                               user=upload.created_by, progress=_progress(hub, upload, progress), keep_rejected=ROWS_KEPT)
        # the files are the uploader's alone, blanked as the uploader may see them (personal data needs a grant)
        viewer = client_viewer(hub, upload.created_by)
        report = redact_report(dataset, viewer, outcome.report)
        rows = [(n, redact_row(dataset, viewer, data, [])[0]) for n, data in rows_from_frame(outcome.rejected)]
        write_report_files(report, base, rows, schema=dataset.schema, dataset_title=dataset.title("vi"))
    except HubError as exc:
        return _failed(hub, upload, exc.to_dict())
    except Exception as exc:  # noqa: BLE001 - shown to the steward, logged for the operator
        log.exception("steward upload %s: check failed", upload.token)
        return _failed(hub, upload, {"code": "internal-error", "message": {
            "vi": f"Lỗi khi kiểm tra tệp: {type(exc).__name__}", "en": f"The check failed: {type(exc).__name__}"}})
    shrink = outcome.refusal if isinstance(outcome.refusal, ShrinkRefused) else None
    refused = outcome.refused or (outcome.refusal is not None and shrink is None)  # or no valid row
    upload.status = "validated"
    upload.rows_read = outcome.rows_read
    upload.summary = {"valid": outcome.valid, "blocked": outcome.blocked, "refused": refused,
                      "rows_read": outcome.rows_read, "rows_valid": outcome.rows_valid,
                      "rows_rejected": outcome.rows_rejected, "quality_score": outcome.quality_score,
                      "policy": dataset.policy, "impact": _impact(outcome),
                      "refusal": outcome.refusal.to_dict() if outcome.refusal is not None else None,
                      "needs_confirmation": shrink is not None}
    _save(hub, upload)
    return upload


def _impact(outcome: Any) -> dict[str, Any] | None:
    if outcome.impact is None:
        return None
    from publish.guard import display_key

    impact: dict[str, Any] = outcome.impact.to_dict()
    impact["removed_keys"] = [display_key(k) for k in impact["removed_keys"]]
    return impact


def publish(hub: Hub, upload: Upload, progress: Callable[[int], None] | None = None) -> Upload:
    """Load the kept file as the dataset's next version (the pipeline checks it again: data may have moved).

    A load the shrink guard refuses (it would remove more of the published records than the dataset allows,
    and the steward did not confirm: `upload.allow_shrink`) goes back to `validated` with the refusal, so the
    steward can confirm."""
    from publish import pipeline

    try:
        outcome = pipeline.run(hub.store, upload.dataset, folder(hub, upload.token) / upload.file,
                               source_name=upload.source_name, user=upload.created_by,
                               progress=_progress(hub, upload, progress), allow_shrink=upload.allow_shrink,
                               shrink_limit=hub.settings.shrink_limit)
    except HubError as exc:
        return _failed(hub, upload, exc.to_dict())
    except Exception as exc:  # noqa: BLE001
        log.exception("steward upload %s: publishing failed", upload.token)
        return _failed(hub, upload, {"code": "internal-error", "message": {
            "vi": f"Lỗi khi nạp: {type(exc).__name__}", "en": f"Publishing failed: {type(exc).__name__}"}})
    if isinstance(outcome.refusal, ShrinkRefused):
        upload.status = "validated"
        upload.error = outcome.refusal.to_dict()
        upload.summary = {**upload.summary, "impact": _impact(outcome), "refusal": upload.error,
                          "needs_confirmation": True}
        _save(hub, upload)
        return upload
    if outcome.refusal is not None:
        return _failed(hub, upload, outcome.refusal.to_dict())
    load = outcome.load.to_dict() if outcome.load is not None else {}
    load.pop("report", None)
    upload.status = "published"
    upload.error = None
    upload.load = load
    _save(hub, upload)
    return upload


def _failed(hub: Hub, upload: Upload, error: dict[str, Any]) -> Upload:
    upload.status = "failed"
    upload.error = error
    _save(hub, upload)
    return upload


def begin(hub: Hub, upload: Upload, step: str, *, allow_shrink: bool = False) -> None:
    """Mark the upload as going into `step` ('validate' or 'publish') before its job is submitted: only a checked
    file can be published; `allow_shrink` is the steward's confirmation of a load over the shrink limit."""
    if step not in STEPS:
        raise ValueError(step)
    if step == "publish":
        if upload.status != "validated":
            raise HubError("Chỉ nạp được tệp đã kiểm tra xong", "Only a checked file can be published", field="upload")
        upload.status = "publishing"
        upload.rows_read = 0
        upload.allow_shrink = allow_shrink
        _save(hub, upload)


def run(hub: Hub, upload: Upload, step: str, progress: Callable[[int], None] | None = None) -> Upload:
    """Do `step` ('validate' or 'publish') now; the job runners call this."""
    if step not in STEPS:
        raise ValueError(step)
    return (validate if step == "validate" else publish)(hub, upload, progress)


def failed(hub: Hub, upload: Upload, error: dict[str, Any]) -> Upload:
    """Record that the step could not run (its job could not be queued, say)."""
    return _failed(hub, upload, error)


def discard(hub: Hub, upload: Upload) -> None:
    """Delete the upload's folder (the file, its reports). A running check must finish or go stale first."""
    if upload.running and not upload.stale:
        raise HubError("Tệp đang được xử lý; hãy đợi xong rồi huỷ", "The file is being processed; wait, then discard",
                       field="upload")
    shutil.rmtree(folder(hub, upload.token), ignore_errors=True)
