"""The workspace's pages, thin over publish.workspace (uploads, checked and published as hub.jobs),
publish.load_reports (stored loads) and validate/render_html.py (the report). Pages extend the site's base.html: no inline script or style (CSP); a
running check is followed by a page that reloads itself (<meta http-equiv="refresh">).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

from core.catalog import Dataset
from core.errors import AccessDenied, HubError, NotFound, Unauthenticated
from hub import audit, jobs
from hub.context import current_hub
from hub.steward import auth, labels
from hub.web.blueprint import error_page
from publish import versions, workspace
from publish.access import Viewer, can_see_dataset, sees_personal
from publish.load_reports import stored_report
from publish.redaction import redact_report
from publish.sessions import sign_in_wait
from publish.uploads import SUFFIXES
from validate.render_files import REPORT_HTML, REPORT_JSON, ROWS_TO_FIX
from validate.render_html import CSS_PATH, render_fragment, render_html

bp = Blueprint("steward", __name__, url_prefix="/steward")
FILES = {REPORT_JSON: "application/json", REPORT_HTML: "text/html", ROWS_TO_FIX:
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

__all__ = ["bp"]


def _lang() -> str:
    from hub.web.i18n import current_lang

    return current_lang()


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = _lang()
    return {"t": lambda key: labels.text(key, lang), "csrf_token": auth.csrf_token, "steward": auth.current_steward(),
            "st": lambda status: labels.text(f"st_{status}", lang) if f"st_{status}" in labels.LABELS else status,
            "pct": lambda score: "—" if score is None else
            (f"{score * 100:.1f} %".replace(".", ",") if lang == "vi" else f"{score * 100:.1f} %")}


@bp.before_request
def _protect() -> None:
    if request.method == "POST":
        auth.check_csrf()


@bp.errorhandler(HubError)
def _hub_error(exc: HubError):  # noqa: ANN202 - a Flask response
    if isinstance(exc, Unauthenticated):
        return redirect(url_for("steward.login"), 303)
    return error_page(exc, "steward/error.html", _lang())


def _visible(viewer: Viewer) -> list[Dataset]:
    return [ds for ds in current_hub().catalog if can_see_dataset(ds, viewer)]


def _dataset(viewer: Viewer, dataset_id: str) -> Dataset:
    dataset = current_hub().catalog.dataset(dataset_id)
    if not can_see_dataset(dataset, viewer):
        raise NotFound(f"Không có bộ dữ liệu «{dataset_id}»", f"No dataset «{dataset_id}»", dataset=dataset_id)
    return dataset


def _upload(viewer: Viewer, token: str) -> workspace.Upload:
    """An upload is its uploader's alone (not even an admin opens another's: its report holds the cells sent)."""
    upload = workspace.get(current_hub(), token)
    if upload.created_by != viewer.name:
        raise NotFound("Không có tệp tải lên này", "No such upload", field="upload")
    dataset = _dataset(viewer, upload.dataset)
    audit.note(dataset=dataset.id, personal=sees_personal(dataset, viewer))
    return upload


def _report(viewer: Viewer, dataset: Dataset, path: Path) -> dict[str, Any]:
    """An upload's report.json as this viewer may see it (the stored reports' redaction)."""
    return redact_report(dataset, viewer, json.loads(path.read_text(encoding="utf-8")))


# -- signing in -------------------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    problem = None
    if request.method == "POST":
        key = request.form.get("key", "").strip()
        prefix = auth.key_prefix_of(key)
        g.audit_always = True  # every sign-in, refused or not, is in the audit log (and counts for the backoff)
        g.audit_detail = {"refused_key": prefix} if prefix else None
        wait = sign_in_wait(current_hub(), request.remote_addr, prefix)
        if wait:
            g.audit_detail = {"sign_in": "throttled", "key": prefix}
            message = labels.text("bad_key", _lang())
            page = render_template("steward/login.html", problem=f"{message} ({wait} s)")
            return page, 429, {"Retry-After": str(wait)}
        try:
            viewer = auth.sign_in(key)
        except (Unauthenticated, AccessDenied):
            problem = labels.text("bad_key", _lang())
        else:
            g.audit_detail = {"sign_in": "ok"}
            g.audit_client = viewer.name
            return redirect(url_for("steward.home"), 303)
    status = 401 if problem else 200
    return render_template("steward/login.html", problem=problem), status


@bp.post("/logout")
def logout() -> Any:
    auth.sign_out()
    return redirect(url_for("steward.login"), 303)


def _start(viewer: Viewer, item: workspace.Upload, step: str, *, allow_shrink: bool = False) -> None:
    """Check or publish the upload as a job (hub.jobs: on `hub worker` with Redis, here and now without);
    `allow_shrink`: the steward ticked the confirmation of a load over the shrink limit."""
    hub = current_hub()
    workspace.begin(hub, item, step, allow_shrink=allow_shrink)
    try:
        jobs.submit(hub, f"steward-{'check' if step == 'validate' else 'publish'}",
                    {"dataset": item.dataset, "upload": item.token}, created_by=viewer.name)
    except HubError as exc:  # not queued (Redis down): the upload says so rather than waiting for nothing
        workspace.failed(hub, workspace.get(hub, item.token), exc.to_dict())


# -- home and uploads ---------------------------------------------------------------------------------------------
@bp.get("/")
def home() -> Any:
    viewer = auth.require_steward()
    hub = current_hub()
    datasets = _visible(viewer)
    uploads = workspace.list_uploads(hub, viewer.name)
    latest = {ds.id: versions.latest_load(hub.store, ds.id) for ds in datasets}
    return render_template("steward/home.html", datasets=datasets, uploads=uploads, latest=latest, lang=_lang(),
                           accept=",".join(SUFFIXES))


@bp.post("/uploads")
def upload() -> Any:
    viewer = auth.require_steward()
    dataset = _dataset(viewer, request.form.get("dataset", ""))
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(labels.text("file", _lang()) + " ?", "error")
        return redirect(url_for("steward.home"), 303)
    hub = current_hub()
    item = workspace.create(hub, dataset.id, sent.stream, sent.filename, viewer.name or "steward")
    _start(viewer, item, "validate")
    return redirect(url_for("steward.upload_page", token=item.token), 303)


@bp.get("/uploads/<token>")
def upload_page(token: str) -> Any:
    viewer = auth.require_steward()
    item = _upload(viewer, token)
    dataset = _dataset(viewer, item.dataset)
    report_html: Markup | None = None
    report_path = workspace.folder(current_hub(), token) / REPORT_JSON
    if item.status in ("validated", "published", "publishing") and report_path.is_file():
        report = _report(viewer, dataset, report_path)
        report_html = render_fragment(report, lang=_lang(), schema=dataset.schema, dataset_title=dataset.title(_lang()))
    return render_template("steward/upload.html", upload=item, dataset=dataset, report_html=report_html, lang=_lang())


@bp.get("/uploads/<token>/<name>")
def upload_file(token: str, name: str) -> Any:
    viewer = auth.require_steward()
    item = _upload(viewer, token)
    if name not in FILES:
        abort(404)
    path = workspace.folder(current_hub(), token) / REPORT_JSON
    if not path.is_file():
        abort(404)
    dataset = _dataset(viewer, item.dataset)
    if name == REPORT_HTML:  # rendered in the page's language
        return _download(render_html(_report(viewer, dataset, path), lang=_lang(), schema=dataset.schema,
                                     dataset_title=dataset.title(_lang())), name)
    if name == REPORT_JSON:
        return _download(json.dumps(_report(viewer, dataset, path), ensure_ascii=False, indent=1, default=str), name)
    return send_file(path.with_name(name), mimetype=FILES[name], as_attachment=True, download_name=name)


@bp.post("/uploads/<token>/publish")
def publish(token: str) -> Any:
    viewer = auth.require_steward()
    item = _upload(viewer, token)
    _start(viewer, item, "publish", allow_shrink=request.form.get("allow_shrink") == "1")
    return redirect(url_for("steward.upload_page", token=token), 303)


@bp.post("/uploads/<token>/discard")
def discard(token: str) -> Any:
    viewer = auth.require_steward()
    item = _upload(viewer, token)
    workspace.discard(current_hub(), item)
    flash(labels.text("discarded", _lang()), "info")
    return redirect(url_for("steward.home"), 303)


# -- history of loads -----------------------------------------------------------------------------------------------
@bp.get("/loads")
def loads() -> Any:
    viewer = auth.require_steward()
    hub = current_hub()
    wanted = request.args.get("dataset") or None
    datasets = _visible(viewer)
    if wanted:
        _dataset(viewer, wanted)
    allowed = {ds.id for ds in datasets}
    rows = [r for r in versions.loads(hub.store, wanted, limit=200) if r["dataset"] in allowed]
    return render_template("steward/loads.html", rows=rows, datasets=datasets, wanted=wanted, lang=_lang())


# -- periodic reports ------------------------------------------------------------------------------------------------
@bp.get("/reports")
def periodic_reports() -> Any:
    """Every period of every report: due, produced, delivered, late (publish.reports.scheduled.overview)."""
    from publish.reports import scheduled

    auth.require_steward()
    return render_template("steward/reports.html", rows=scheduled.overview(current_hub().store), lang=_lang())


# -- harvest sources -------------------------------------------------------------------------------------------------
@bp.get("/harvest")
def harvest_sources() -> Any:
    """Every declared harvest source the steward may see: last success, last failure, next run (publish.harvest)."""
    from publish.harvest import run

    viewer = auth.require_steward()
    allowed = {ds.id for ds in _visible(viewer)}
    rows = [r for r in run.overview(current_hub().store) if r["dataset"] in allowed]
    return render_template("steward/harvest.html", rows=rows, lang=_lang())


def _stored(viewer: Viewer, load_id: int) -> tuple[dict[str, Any], Dataset, dict[str, Any], list]:
    hub = current_hub()
    summary = versions.load_summary(hub.store, load_id)
    checked = _dataset(viewer, summary["dataset"])
    audit.note(dataset=checked.id, personal=sees_personal(checked, viewer))
    dataset, report, rows = stored_report(hub.store, load_id, viewer)
    return summary, dataset, report, rows


@bp.get("/loads/<int:load_id>")
def load_page(load_id: int) -> Any:
    viewer = auth.require_steward()
    summary, dataset, report, _ = _stored(viewer, load_id)
    report_html = render_fragment(report, lang=_lang(), schema=dataset.schema, dataset_title=dataset.title(_lang())) \
        if report else None
    return render_template("steward/load.html", load=summary, dataset=dataset, report_html=report_html, lang=_lang())


@bp.get("/loads/<int:load_id>/<name>")
def load_file(load_id: int, name: str) -> Any:
    viewer = auth.require_steward()
    if name not in FILES:
        abort(404)
    _, dataset, report, rows = _stored(viewer, load_id)
    if name == REPORT_JSON:
        return _download(json.dumps(report, ensure_ascii=False, indent=1, default=str), name)
    if name == REPORT_HTML:
        return _download(render_html(report, lang=_lang(), schema=dataset.schema,
                                     dataset_title=dataset.title(_lang())), name)
    import io
    import tempfile

    from validate.render_xlsx import write_rows_to_fix

    with tempfile.TemporaryDirectory() as tmp:
        data = write_rows_to_fix(Path(tmp) / name, report, rows, dataset.schema.primary_key).read_bytes()
    return send_file(io.BytesIO(data), mimetype=FILES[name], as_attachment=True,
                     download_name=f"load-{load_id}-{name}")


@bp.get("/report.css")
def report_css() -> Any:
    return send_file(CSS_PATH, mimetype="text/css", max_age=3600)


def _download(text: str, name: str) -> Response:
    response = Response(text, mimetype=FILES[name])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
