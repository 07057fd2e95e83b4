"""Data commands: init, ingest, validate, datasets."""

from __future__ import annotations

from pathlib import Path

import click

from core.errors import ValidationFailed
from hub.cli.common import console, open_hub, print_table, row_progress
from ingest.pipeline import READABLE
from publish import pipeline, query, versions
from publish.context import Hub
from publish.crash import crash_point
from publish.guard import display_key


def _print_outcome(outcome: pipeline.Outcome) -> None:
    load = outcome.load
    status_vi = {"committed": "đã nạp", "unchanged": "không đổi", "rejected": "bị từ chối", "valid": "hợp lệ",
                 "invalid": "có lỗi"}.get(outcome.status, outcome.status)
    line = (f"{outcome.dataset}: {status_vi} / {outcome.status} — đọc/read {outcome.rows_read}, "
            f"hợp lệ/valid {outcome.rows_valid}, loại/rejected {outcome.rows_rejected}")
    if load is not None and load.status == "committed":
        line += (f"; phiên bản/version {load.version}: thêm/added {load.rows_added}, đổi/changed {load.rows_changed}, "
                 f"xoá/removed {load.rows_removed}, giữ nguyên/unchanged {load.rows_unchanged}")
    console.print(line)
    errors = outcome.report.get("errors") or [e for t in outcome.report.get("tasks", []) for e in t.get("errors", [])]
    for err in errors[:20]:
        console.print(f"  • {err.get('messages', {}).get('vi') or err.get('message')}", markup=False)
    if len(errors) > 20:
        console.print(f"  … và {len(errors) - 20} lỗi khác / and {len(errors) - 20} more errors")


def _print_impact(outcome: pipeline.Outcome) -> None:
    """What the load did or would do to the current version: added, changed, removed, the first removed keys."""
    impact, plan = outcome.impact, outcome.plan
    if impact is None or plan is None:
        return
    scope = f" ({plan.scope.describe()})" if plan.scope else ""
    verb = "sẽ / would" if outcome.load is None or outcome.refusal is not None else "đã / did"
    line = (f"  So với phiên bản hiện tại / against the current version, {verb} [{plan.mode}{scope}]: "
            f"thêm/add {impact.added}, đổi/change {impact.changed}, giữ nguyên/keep {impact.unchanged}, "
            f"xoá/remove {impact.removed}")
    if impact.current:
        line += f" / {impact.current} ({impact.share * 100:.0f} %, giới hạn/limit {plan.shrink_limit * 100:.0f} %)"
    console.print(line, markup=False)
    if impact.removed_keys:
        more = " …" if impact.removed > len(impact.removed_keys) else ""
        console.print("  Xoá trước tiên / first removed: " + ", ".join(map(display_key, impact.removed_keys)) + more,
                      markup=False)


_MODE = click.option("--mode", type=click.Choice(["full", "upsert"]), default="full", show_default=True,
                     help="full: the file is the whole dataset (records it lacks are removed); upsert: it only adds "
                          "and updates its own records, nothing is removed.")
_SCOPE = click.option("--scope", metavar="FIELD=V1,V2", help="The file is complete for these values of FIELD (e.g. "
                      "commune_code=26068,26071): records it lacks are removed inside the scope only, nothing "
                      "outside is touched; a row outside the scope refuses the file.")


def load_samples(hub: Hub) -> int:
    """Ingest every dataset's default source file, in foreign-key order. Returns how many failed."""
    failed = 0
    for dataset in hub.catalog.load_order():
        if not dataset.source:
            continue
        path = hub.catalog.resolve(dataset.source)
        with row_progress(f"{dataset.id} ← {path.name}") as progress:
            outcome = pipeline.run(hub.store, dataset.id, path, user="hub init", progress=progress)
        _print_outcome(outcome)
        failed += outcome.status not in ("committed", "unchanged")
    return failed


@click.command()
@click.option("--samples", is_flag=True, help="Also load every dataset's default source file (samples/).")
def init(samples: bool) -> None:
    """Create or upgrade the store (tables from the schemas) and optionally load the samples.

    Running it again is safe: unchanged sample files create no new version."""
    hub = open_hub(init=True)
    console.print(f"Kho dữ liệu sẵn sàng / store ready: {hub.store.engine.url.render_as_string(hide_password=True)}")
    failed = load_samples(hub) if samples else 0
    if failed:
        raise ValidationFailed(f"{failed} tệp mẫu bị từ chối", f"{failed} sample file(s) refused")

@click.command()
@click.argument("dataset")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--encoding", help="Source text encoding (utf-8, utf-16, cp1258, tcvn3, vni); detected if omitted.")
@click.option("--sheet", help="Excel sheet name (default: the first sheet with a table).")
@click.option("--format", "fmt", type=click.Choice(READABLE),
              help="Source format; taken from the file extension if omitted.")
@click.option("--user", default=None, help="Who runs the load (recorded in its provenance).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write report.json, report.html and rows-to-fix.xlsx into this folder.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the HTML report.")
@_MODE
@_SCOPE
@click.option("--allow-shrink", is_flag=True, help="Publish even when the load removes more than the dataset's "
              "shrink limit of its current records (HUB_SHRINK_LIMIT, or shrink_limit in catalog.yaml).")
def ingest(dataset: str, file: Path, encoding: str | None, sheet: str | None, fmt: str | None,
           user: str | None, out: Path | None, lang: str, mode: str, scope: str | None, allow_shrink: bool) -> None:
    """Read FILE, validate it against DATASET's schema and publish it as the dataset's next version.

    A file with no valid row is refused (exit status 6), and so is one that would remove more than the shrink
    limit of the current records (exit status 10) unless --allow-shrink; the current version then stays
    published. --mode upsert and --scope load part of a dataset."""
    hub = open_hub(init=True)
    hub.catalog.dataset(dataset)
    with row_progress(f"{dataset} ← {file.name}") as progress:
        outcome = pipeline.run(hub.store, dataset, file, encoding=encoding, sheet=sheet, format=fmt,
                               user=user or _whoami(), progress=progress,
                               keep_rejected=ROWS_TO_FIX_KEPT if out else 0, mode=mode, scope=scope,
                               allow_shrink=allow_shrink, shrink_limit=hub.settings.shrink_limit)
    _print_outcome(outcome)
    _print_impact(outcome)
    _print_quality(outcome, lang)
    if out:
        _write_files(hub, outcome, out, lang)
        crash_point("reported")
    if outcome.refusal is not None:
        raise outcome.refusal
    if outcome.status == "rejected":
        raise ValidationFailed("Tệp bị từ chối: dữ liệu không đạt quy tắc của bộ dữ liệu (xem lỗi ở trên)",
                               "The file was refused: its data failed the dataset's rules (see the errors above)",
                               file=file.name)

@click.command()
@click.argument("dataset")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--encoding", help="Source text encoding; detected if omitted.")
@click.option("--sheet", help="Excel sheet name.")
@click.option("--format", "fmt", type=click.Choice(READABLE))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder for report.json, report.html and rows-to-fix.xlsx.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the summary and the HTML report.")
@_MODE
@_SCOPE
def validate(dataset: str, file: Path, encoding: str | None, sheet: str | None, fmt: str | None, out: Path,
             lang: str, mode: str, scope: str | None) -> None:
    """Check FILE against DATASET's rules and quality suite without loading it, print a summary and what loading
    it would do to the current version (added, changed, removed, the first removed keys), and write report.json,
    report.html and rows-to-fix.xlsx; exit status 6 when it has errors or a blocking quality problem or no valid
    row, 10 when the load would remove more than the shrink limit."""
    from hub.cli.report import print_summary

    hub = open_hub(init=True)
    with row_progress(f"{dataset} ← {file.name}") as progress:
        outcome = pipeline.run(hub.store, dataset, file, load=False, encoding=encoding, sheet=sheet, format=fmt,
                               progress=progress, keep_rejected=ROWS_TO_FIX_KEPT, mode=mode, scope=scope,
                               shrink_limit=hub.settings.shrink_limit)
    print_summary(outcome.report, lang=lang, status=outcome.status)
    _print_impact(outcome)
    _write_files(hub, outcome, out, lang)
    if outcome.refusal is not None and (isinstance(outcome.refusal, ValidationFailed) or outcome.valid):
        raise outcome.refusal  # no valid row (6), or a valid file whose load would remove too much (10)
    if not outcome.valid or outcome.blocked:
        raise ValidationFailed("Tệp có lỗi hoặc vấn đề chất lượng chặn nạp (xem báo cáo)",
                               "The file has errors or a blocking quality problem (see the report)", file=file.name)

@click.command()
def datasets() -> None:
    """List the catalogue's datasets with their current version and record count."""
    hub = open_hub(init=True)
    rows = []
    for ds in hub.catalog:
        latest = versions.latest_load(hub.store, ds.id)
        rows.append([ds.id, ds.title("vi"), ds.access, hub.store.current_version(ds.id) or "-",
                     query.count_current(hub.store, ds), (latest or {}).get("finished_at", "-")])
    print_table("Bộ dữ liệu / Datasets", ["id", "tên / title", "truy cập / access", "phiên bản / version",
                                           "bản ghi / records", "cập nhật / updated"], rows)


ROWS_TO_FIX_KEPT = 200_000  # rejected rows kept in memory for rows-to-fix.xlsx


def _print_quality(outcome: pipeline.Outcome, lang: str) -> None:
    quality = outcome.report.get("quality") or {}
    if not quality:
        return
    failed = [e for e in quality.get("expectations", []) if not e.get("success")]
    score = "—" if outcome.quality_score is None else f"{outcome.quality_score * 100:.1f} %"
    console.print(f"  Chất lượng / quality: {score}; không đạt / failed {len(failed)} / {len(quality['expectations'])}"
                  + ("; bị chặn / blocked" if quality.get("blocked") else ""))
    for e in failed:
        mark = "⛔" if e.get("severity") == "block" else "⚠"
        console.print(f"    {mark} {e['description'].get(lang) or e['description']['vi']}: {e.get('unexpected', 0)}",
                      markup=False)


def _write_files(hub: Hub, outcome: pipeline.Outcome, out: Path, lang: str) -> None:
    from hub.cli.report import print_files
    from validate.render_files import write_report_files
    from validate.render_xlsx import rows_from_frame

    dataset = hub.catalog.dataset(outcome.dataset)
    print_files(write_report_files(outcome.report, out, rows_from_frame(outcome.rejected), lang=lang,
                                   schema=dataset.schema, dataset_title=dataset.title(lang)))


def _whoami() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["init", "ingest", "validate", "datasets", "load_samples"]
