"""`hub reports`: periodic sector reports (list, compute, show, export, push, tick). Logic: publish/reports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from core.errors import HubError
from hub.cli.common import console, open_hub, print_table


@click.group("reports")
def reports() -> None:
    """Báo cáo định kỳ / Periodic sector reports (definitions in schemas/reports, docs/reports.md)."""


@reports.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_reports(as_json: bool) -> None:
    """Every report's periods so far: due, produced, delivered or late."""
    from publish.reports import scheduled

    hub = open_hub(init=True)
    rows = scheduled.overview(hub.store)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    defs = [[d.id, d.form, d.period_kind, f"+{d.deadline_days}", ", ".join(d.datasets), d.title("vi")]
            for d in hub.catalog.reports.values()]
    print_table("Báo cáo / Reports", ["report", "form", "period", "deadline", "datasets", "title"], defs)
    print_table("Kỳ báo cáo / Periods", ["report", "period", "deadline", "state", "attempts", "last error"],
                [[r["report"], r["period"], r["deadline"], r["state"], r["attempts"], (r["last_error"] or "")[:60]]
                 for r in rows])


@reports.command("compute")
@click.argument("report")
@click.option("--period", required=True, help="2026-09, 2026-Q3, 2026-H2 or 2026 (the report's kind).")
@click.option("--force", is_flag=True, help="Recompute a produced report (same versions, same rows).")
def compute_report(report: str, period: str, force: bool) -> None:
    """Compute REPORT for a period that has ended, as the data stood at its end."""
    from publish.reports import compute

    hub = open_hub(init=True)
    produced = compute.produce(hub.store, hub.catalog.report(report), period, force=force, by="hub-cli")
    verb = "Đã lập / produced" if produced.computed_now else "Đã có / already produced"
    versions = ", ".join(f"{ds} v{v}" for ds, v in produced.versions.items())
    console.print(f"{verb}: {report} {produced.period} — {len(produced.cells)} rows — {versions}", markup=False)


@reports.command("show")
@click.argument("report")
@click.option("--period", required=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the produced report (and its delivery) as JSON.")
def show_report(report: str, period: str, lang: str, as_json: bool) -> None:
    """Show a produced report: its figures, the versions it used, its delivery."""
    from core.reports import parse_period
    from publish.reports import compute, delivery, forms

    hub = open_hub(init=True)
    definition = hub.catalog.report(report)
    code = parse_period(period, definition.period_kind).code
    produced = compute.read(hub.store, report, code)
    sent = delivery.delivery(hub.store, report, code)
    if as_json:
        click.echo(json.dumps({**produced.to_dict(), "delivery": sent}, ensure_ascii=False, indent=2, default=str))
        return
    lines = forms.form_lines(hub.store, definition, produced, lang)
    print_table(f"{definition.form} — {definition.title(lang)} — {code}", ["code", "indicator", "unit", "value"],
                [[x.code, "  " * x.level + x.text, x.unit, x.value] for x in lines])
    console.print(f"versions: {produced.versions}  computed: {produced.computed_at}  sha256: {produced.rows_sha256}",
                  markup=False)
    if sent:
        console.print(f"delivery: {sent['status']} ({sent['attempts']} attempts) "
                      f"{sent.get('receipt') or sent.get('last_error') or ''}", markup=False)


@reports.command("export")
@click.argument("report")
@click.option("--period", required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "html", "json"]), default="xlsx", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: <report>-<period>.<format>).")
def export_report(report: str, period: str, fmt: str, lang: str, out: Path | None) -> None:
    """Write a produced report as the office form (XLSX), a printable HTML page, or JSON."""
    from core.reports import parse_period
    from publish.reports import compute, delivery, forms

    hub = open_hub(init=True)
    definition = hub.catalog.report(report)
    code = parse_period(period, definition.period_kind).code
    produced = compute.read(hub.store, report, code)
    out = out or Path(f"{report}-{code}.{fmt}")
    if fmt == "xlsx":
        out.write_bytes(forms.xlsx(hub.store, definition, produced, lang))
    elif fmt == "html":
        out.write_text(forms.html(hub.store, definition, produced, lang), encoding="utf-8")
    else:
        out.write_text(json.dumps(delivery.payload(hub.store, definition, produced), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    console.print(f"  → {out}", markup=False, highlight=False)


@reports.command("push")
@click.argument("report")
@click.option("--period", required=True)
def push_report(report: str, period: str) -> None:
    """Send a produced report to the reporting system (HUB_REPORT_ENDPOINT, HUB_REPORT_TOKEN); at most once."""
    from publish.reports import delivery

    hub = open_hub(init=True)
    outcome = delivery.push(hub.store, hub.settings, hub.catalog.report(report), period)
    console.print(f"{outcome.status}: {report} {outcome.period} ({outcome.attempts} attempts) "
                  f"{outcome.receipt or outcome.error or ''}", markup=False)
    if outcome.status == "failed":
        raise HubError(f"Không gửi được báo cáo {report} kỳ {outcome.period}", f"Report {report} for {outcome.period} "
                       "was not delivered", code="report-delivery-failed")


@reports.command("tick")
def tick() -> None:
    """Produce (and push) every due report once: what `hub worker` does every HUB_SCHEDULE_SECONDS, for a
    systemd timer where no worker runs."""
    from publish.reports import scheduled

    hub = open_hub(init=True)
    for outcome in scheduled.tick(hub.store, hub.settings):
        console.print(json.dumps(outcome, ensure_ascii=False), markup=False, highlight=False)
