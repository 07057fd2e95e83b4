"""`hub publish-ckan`: push the open datasets to a CKAN portal (a thin skin over publish.ckan_push.push)."""

from __future__ import annotations

import os

import click

from hub.cli.common import console, err_console, open_hub, print_table

__all__ = ["publish_ckan"]

ACTION_VI = {"created": "đã tạo", "updated": "đã cập nhật", "unchanged": "không đổi", "would create": "sẽ tạo",
             "would update": "sẽ cập nhật"}


@click.command("publish-ckan")
@click.option("--url", required=True, help="Address of the CKAN portal, e.g. https://data.gov.vn")
@click.option("--api-key", default=lambda: os.environ.get("HUB_CKAN_API_KEY"), show_default="$HUB_CKAN_API_KEY",
              help="API key (token) of a portal user allowed to edit the organizations.")
@click.option("--dataset", help="Push only this dataset (it must be open data).")
@click.option("--dry-run", is_flag=True, help="Compare with the portal and report, without writing anything.")
@click.option("--name-prefix", default="", help="Prefix for package names on the portal, e.g. 'dong-nai-'.")
def publish_ckan(url: str, api_key: str | None, dataset: str | None, dry_run: bool, name_prefix: str) -> None:
    """Create or update the open datasets, their publishers and files (CSV, GeoJSON, data dictionary) on a
    CKAN portal. Only open data is sent, without personal fields; a second run changes nothing."""
    from publish.ckan_push import push

    if not api_key:
        raise click.UsageError("--api-key (hoặc/or HUB_CKAN_API_KEY) là bắt buộc / is required")
    hub = open_hub()
    report = push(hub.store, url, api_key, dataset=dataset, dry_run=dry_run, name_prefix=name_prefix,
                  settings=hub.settings, progress=lambda name: err_console.print(f"… {name}", highlight=False))
    changes = [s for s in report["steps"] if s["action"] != "unchanged"]
    if changes:  # what was (or would be) written; unchanged items are only counted
        print_table(f"CKAN: {url}" + (" (thử / dry run)" if dry_run else ""),
                    ["loại / kind", "tên / name", "kết quả / result", "thay đổi / changes"],
                    [[s["kind"], s["name"], f"{ACTION_VI[s['action']]} / {s['action']}", s["detail"]]
                     for s in changes])
    console.print(f"tạo mới / created {report['created']}, cập nhật / updated {report['updated']}, "
                  f"không đổi / unchanged {report['unchanged']}")
