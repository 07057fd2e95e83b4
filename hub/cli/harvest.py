"""`hub harvest`: fetch a dataset from the source declared in catalog.yaml and load it (logic: publish/harvest)."""

from __future__ import annotations

import json
from typing import Any

import click

from core.errors import HubError
from hub.cli.common import console, open_hub, print_table


class HarvestFailedExit(HubError):
    code = "harvest-failed"
    exit_code = 5  # like unreadable input: the source gave nothing usable


@click.command("harvest")
@click.argument("dataset", required=False)
@click.option("--dry-run", is_flag=True, help="Fetch and validate, load nothing.")
@click.option("--due", is_flag=True, help="Harvest every source whose schedule is due (what the worker's tick does).")
@click.option("--history", "show_history", is_flag=True, help="Show the harvest history (of DATASET, or all).")
@click.option("--sources", "show_sources", is_flag=True, help="List every declared source: last success, failure, next run.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def harvest(dataset: str | None, dry_run: bool, due: bool, show_history: bool, show_sources: bool,
            as_json: bool) -> None:
    """Thu thập dữ liệu từ nguồn / Harvest DATASET from its source (catalog.yaml `harvest:`, docs/operations.md).

    The fetched data goes through the normal pipeline; unchanged data adds no version; a failing source
    leaves the current version served and is recorded with its reason.
    """
    from publish.harvest import run

    hub = open_hub(init=True)
    if show_sources:
        _emit(run.overview(hub.store), as_json, "Nguồn thu thập / Harvest sources",
              ["dataset", "kind", "source", "schedule", "next_run"])
        return
    if show_history:
        _emit(run.history(hub.store, dataset), as_json, "Lịch sử thu thập / Harvest history",
              ["id", "dataset", "status", "started_at", "version", "rows", "sha256", "error_en"])
        return
    if due:
        rows = run.tick(hub.store, settings=hub.settings)
        _emit(rows, as_json, "Thu thập đến hạn / Due harvests", ["dataset", "slot", "status"])
        return
    if not dataset:
        raise click.UsageError("Cần DATASET, hoặc --due / --history / --sources / "
                               "Give DATASET, or --due / --history / --sources")
    row = run.harvest(hub.store, dataset, dry_run=dry_run, settings=hub.settings)
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False, indent=2, default=str))
    else:
        console.print(f"{dataset}: {row['status']}" + (f" (phiên bản / version {row['version']})" if row.get("version") else "")
                      + f" ← {row.get('source_url')}")
    if row["status"] == "failed":
        raise HarvestFailedExit(row.get("error_vi") or "", row.get("error_en") or "", code="harvest-failed")


def _emit(rows: list[dict[str, Any]], as_json: bool, title: str, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    print_table(title, columns, [[r.get(c) for c in columns] for r in rows])
