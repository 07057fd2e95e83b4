"""What each kind of background job does: ingest a stored file, write an export file, push to CKAN, check or
publish a steward's upload.

Each runner takes the hub, the job (its `params` as submitted) and a progress reporter, and returns the
result to record with the job plus the load it made (if any). They call the same library functions as the
CLI and the API (publish.pipeline.run, publish.exports.export_stream); a HubError they raise is the job's error.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError, InputError
from core.files import atomic_write
from publish import ckan_push, workspace
from publish.context import Hub

if TYPE_CHECKING:
    from hub.jobs import Job, Progress

REPORT_ERRORS_KEPT = 100  # errors copied into the job's result; the load keeps the whole report


def storage_path(hub: Hub, relative: str) -> Path:
    """A path inside the storage folder; params hold paths relative to it, so every host resolves them."""
    root = Path(hub.settings.storage_dir).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise InputError(f"Đường dẫn nằm ngoài thư mục lưu trữ: {relative}", f"Path outside the storage folder: {relative}",
                         file=relative)
    return path


# -- ingest -------------------------------------------------------------------------------------------------
def estimate_rows(path: Path) -> int | None:
    """Rows in a text table (lines less the header), for a progress fraction; None for other formats."""
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return None
    lines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(lines - 1, 1)


def compact_report(report: dict[str, Any], limit: int = REPORT_ERRORS_KEPT) -> dict[str, Any]:
    """The validation report with at most `limit` errors and normalisation changes (counts kept)."""
    out = dict(report)
    out["tasks"] = []
    for task in report.get("tasks", []):
        task = dict(task)
        task["errors_total"] = len(task.get("errors", []))
        task["errors"] = task.get("errors", [])[:limit]
        out["tasks"].append(task)
    if isinstance(report.get("hub"), dict):
        out["hub"] = dict(report["hub"])
        out["hub"]["changes"] = out["hub"].get("changes", [])[:limit]
    return out


def ingest_result(outcome: Any) -> dict[str, Any]:
    load = outcome.load.to_dict() if outcome.load is not None else None
    if load:
        load.pop("report", None)
    return {"status": outcome.status, "dataset": outcome.dataset, "valid": outcome.valid,
            "rows_read": outcome.rows_read, "rows_valid": outcome.rows_valid, "rows_rejected": outcome.rows_rejected,
            "load": load, "report": compact_report(outcome.report),
            "impact": outcome.impact.to_dict() if outcome.impact is not None else None,
            "refusal": outcome.refusal.to_dict() if outcome.refusal is not None else None}


def run_ingest(hub: Hub, job: Job, progress: Progress) -> tuple[dict[str, Any], int | None]:
    from publish import pipeline

    p = job.params
    path = storage_path(hub, p["path"])
    total = estimate_rows(path)
    progress.update(0.0, f"Bắt đầu đọc {p.get('source_name') or path.name} / reading started", force=True)
    outcome = pipeline.run(hub.store, p["dataset"], path, encoding=p.get("encoding"), sheet=p.get("sheet"),
                           format=p.get("format"), user=job.created_by, source_name=p.get("source_name"),
                           progress=lambda rows: progress.rows(rows, total), mode=p.get("mode"),
                           scope=p.get("scope"), allow_shrink=bool(p.get("allow_shrink")),
                           shrink_limit=hub.settings.shrink_limit)
    return ingest_result(outcome), outcome.load.load_id if outcome.load is not None else None


# -- export -------------------------------------------------------------------------------------------------
def run_export(hub: Hub, job: Job, progress: Progress) -> tuple[dict[str, Any], int | None]:
    """Write the export to storage/exports: public/ (anonymous viewer: what nginx serves at /exports/) or
    private/<job id>/ (a named viewer's export, which may hold internal or personal fields)."""
    from publish.access import ANONYMOUS, Viewer
    from publish.exports import FORMATS, export_filename, export_stream

    p = job.params
    viewer = ANONYMOUS
    if p.get("viewer"):
        v = p["viewer"]
        viewer = Viewer(name=v.get("name"), role=v.get("role"), datasets=frozenset(v.get("datasets", [])),
                        personal=frozenset(v.get("personal", [])))
    dataset = hub.catalog.dataset(p["dataset"])
    fmt = p.get("format", "csv")
    version = p.get("version") or hub.store.current_version(dataset.id)
    chunks = export_stream(hub.store, dataset, fmt, viewer, version=version, bom=bool(p.get("bom")))
    public = viewer == ANONYMOUS
    folder = Path("exports") / ("public" if public else f"private/{job.id}")
    name = export_filename(dataset, fmt, version)
    target = storage_path(hub, str(folder / name))
    digest, size = hashlib.sha256(), 0
    # readers see the whole file or the previous one, never half; a full disk: StorageError, no .part left
    with atomic_write(target, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            progress.update(None, f"Đã ghi {size:,} byte / wrote {size:,} bytes")
    result = {"dataset": dataset.id, "format": fmt, "version": version, "file": str(folder / name), "bytes": size,
              "sha256": digest.hexdigest(), "mimetype": FORMATS[fmt][0]}
    if public:
        result["url"] = f"{hub.settings.base_url.rstrip('/')}/exports/{name}"
    return result, None


# -- CKAN push ----------------------------------------------------------------------------------------------
CKAN_KEY_ENV = "HUB_CKAN_API_KEY"  # read where the job runs: the key never goes into hub_jobs or Redis


def run_ckan_push(hub: Hub, job: Job, progress: Progress) -> tuple[dict[str, Any], int | None]:
    """publish.ckan_push.push for params {url, dataset?, dry_run?, name_prefix?}."""
    api_key = os.environ.get(CKAN_KEY_ENV)
    if not api_key:
        raise ConfigError(f"Thiếu khoá API của cổng CKAN: đặt {CKAN_KEY_ENV} trong môi trường của worker",
                          f"No CKAN API key: set {CKAN_KEY_ENV} in the worker's environment")
    p = job.params
    progress.update(0.0, f"Đang đẩy lên / pushing to {p['url']}", force=True)
    result = ckan_push.push(hub.store, p["url"], api_key, dataset=p.get("dataset"), dry_run=bool(p.get("dry_run")),
                            name_prefix=p.get("name_prefix") or "", settings=hub.settings,
                            progress=lambda ds: progress.update(None, f"Đang đẩy / pushing {ds}", force=True))
    return result, None


# -- the steward workspace's check and publish ---------------------------------------------------------------
def _steward_step(step: str) -> Callable[[Hub, Job, Progress], tuple[dict[str, Any], int | None]]:
    def run_step(hub: Hub, job: Job, progress: Progress) -> tuple[dict[str, Any], int | None]:
        """publish.workspace.run for params {upload, dataset}: the upload's own state follows it too."""
        upload = workspace.get(hub, job.params["upload"])
        total = estimate_rows(workspace.folder(hub, upload.token) / upload.file)
        done = workspace.run(hub, upload, step, lambda rows: progress.rows(rows, total))
        result = {"upload": done.token, "dataset": done.dataset, "status": done.status, "summary": done.summary,
                  "load": done.load, "error": done.error}
        return result, (done.load or {}).get("load_id")

    return run_step


RUNNERS = {"ingest": run_ingest, "export": run_export, "ckan-push": run_ckan_push,
           "steward-check": _steward_step("validate"), "steward-publish": _steward_step("publish")}
