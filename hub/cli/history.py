"""History commands: versions, diff, rollback, export, backup, restore. Each wraps one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import NotFound
from core.files import atomic_write
from hub.cli.common import console, err_console, open_hub
from publish import versions
from publish.access import ANONYMOUS, Viewer
from publish.clients import viewer_for_client
from publish.store import Store

# Stewards run these commands on the server: `hub diff` shows what an admin sees (personal fields only where
# publish.access grants them).
OPERATOR = Viewer(name="hub-cli", role="admin")


def _client_viewer(store: Store, name: str) -> Viewer:
    """What client `name` may see, so an export can be made for that department; refused for a client that is
    unknown or disabled."""
    viewer = viewer_for_client(store, name)
    if viewer is None:
        raise NotFound(f"Không có bên sử dụng «{name}» hoặc bên này đã bị tạm khoá",
                       f"No client «{name}», or it is disabled", field="client")
    return viewer


def _progress(**columns: Any) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None), *columns.values(),
                    TimeElapsedColumn(), console=err_console, transient=True, disable=not err_console.is_terminal)


def _table_progress(progress: Progress) -> Any:
    tasks: dict[str, Any] = {}

    def update(table: str, rows: int) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(table, total=None)
        progress.update(tasks[table], completed=rows, description=f"{table}: {rows:,} dòng / rows")
    return update


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A table whose long cells wrap instead of being cut (file names and keys must stay whole)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    # piped or redirected output (scripts, logs) is not bound to a terminal's 80 columns
    (console if console.is_terminal else Console(width=200)).print(table)


def _short(value: Any, width: int = 40) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("versions")
@click.argument("dataset")
@click.option("--all", "every", is_flag=True, help="Every load attempt (unchanged, refused, failed too).")
@click.option("--limit", default=50, show_default=True, help="With --all: how many loads, newest first.")
def versions_cmd(dataset: str, every: bool, limit: int) -> None:
    """List DATASET's versions, newest first, with their source file, counts and who loaded them."""
    hub = open_hub(init=True)
    hub.catalog.dataset(dataset)
    rows = versions.loads(hub.store, dataset, limit=limit) if every else versions.versions(hub.store, dataset)
    _print_table(f"Phiên bản của / versions of {dataset}",
                ["v", "lần nạp / load", "trạng thái / status", "nguồn / source", "sha256", "người nạp / by", "lúc / at (UTC)",
                 "+ ~ − =", "loại / rejected", "ghi chú / note"],
                [[r["version"] or "-", r["id"], r["status"], r["source_name"], (r["source_sha256"] or "")[:12],
                  r["created_by"], (r["finished_at"] or r["started_at"] or "")[:19],
                  f"{r['rows_added']} {r['rows_changed']} {r['rows_removed']} {r['rows_unchanged']}",
                  r["rows_rejected"], r["note"] or r["error"] or ""] for r in rows])

@click.command()
@click.argument("dataset")
@click.argument("since", type=int)
@click.argument("until", type=int, required=False)
@click.option("--limit", default=200, show_default=True, help="Show at most this many changes.")
def diff(dataset: str, since: int, until: int | None, limit: int) -> None:
    """Records added, changed and removed between versions SINCE and UNTIL (default: current), with the
    fields that changed."""
    from publish.changes import diff as diff_versions

    hub = open_hub(init=True)
    schema = hub.catalog.dataset(dataset).schema
    label = next(iter(schema.search_fields), None) or schema.field_names[-1]  # e.g. the name
    found = diff_versions(hub.store, dataset, since, until, OPERATOR)
    counts = {op: sum(1 for c in found if c.op == op) for op in ("added", "changed", "removed")}
    until = until if until is not None else hub.store.current_version(dataset)
    console.print(f"{dataset} {since} → {until}: thêm/added {counts['added']}, đổi/changed {counts['changed']}, "
                  f"xoá/removed {counts['removed']}")
    rows = []
    for change in found[:limit]:
        if change.op == "changed":
            detail = "; ".join(f"{f}: {_short((change.before or {}).get(f), 30)} → {_short((change.record or {}).get(f), 30)}"
                               for f in change.fields)
        else:
            detail = _short((change.record or {}).get(label), 60)
        rows.append([{"added": "+", "changed": "~", "removed": "−"}[change.op], change.key, change.version, detail])
    if rows:
        _print_table("Thay đổi / changes", ["", "khoá / key", "phiên bản / version", "chi tiết / detail"], rows)
    if len(found) > limit:
        console.print(f"… và {len(found) - limit} thay đổi khác / and {len(found) - limit} more (--limit)")

@click.command()
@click.argument("dataset")
@click.argument("version", type=int)
@click.option("--user", default=None, help="Who rolls back (recorded with the new version).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def rollback(dataset: str, version: int, user: str | None, yes: bool) -> None:
    """Publish VERSION's rows again as DATASET's next version (history is kept; nothing is deleted)."""
    from hub.cli.data import _whoami
    from publish.rollback import rollback as roll_back

    hub = open_hub(init=True)
    hub.catalog.dataset(dataset)
    current = hub.store.current_version(dataset)
    if not yes:
        click.confirm(f"Quay «{dataset}» từ phiên bản {current} về nội dung phiên bản {version}? / "
                      f"Roll «{dataset}» back from version {current} to the rows of version {version}?", abort=True)
    result = roll_back(hub.store, dataset, version, user=user or _whoami())
    if result.status == "unchanged":
        console.print(f"{dataset}: đã giống phiên bản {version}, không tạo phiên bản mới / "
                      f"already equal to version {version}, no new version")
        return
    console.print(f"{dataset}: phiên bản/version {result.version} = phiên bản/version {version} — "
                  f"thêm/added {result.rows_added}, đổi/changed {result.rows_changed}, xoá/removed {result.rows_removed}")

@click.command()
@click.argument("dataset")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson", "xlsx", "zip"]), default="csv",
              show_default=True, help="zip: a Frictionless Data Package (CSV + datapackage.json).")
@click.option("--version", "version", type=int, help="Export this version (default: the current one).")
@click.option("--bom", is_flag=True, help="Start CSV with a UTF-8 BOM (Excel then reads Vietnamese right).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File to write ('-' for standard output); default DATASET[-vN].EXT here.")
@click.option("--client", help="Export what this API client may see (default: the public, open-data view).")
def export(dataset: str, fmt: str, version: int | None, bom: bool, output: Path | None, client: str | None) -> None:
    """Write DATASET as CSV, GeoJSON, Excel or a Data Package. Personal fields and non-open datasets are
    left out unless --client names a client granted them."""
    from publish.exports import export_filename, export_stream

    hub = open_hub(init=True)
    viewer = _client_viewer(hub.store, client) if client else ANONYMOUS
    chunks = export_stream(hub.store, dataset, fmt, viewer, version=version, bom=bom)
    if output is not None and str(output) == "-":
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    target = output or Path(export_filename(dataset, fmt, version))
    written = 0
    # a full or read-only disk: StorageError (exit status 4), and no partial file left
    with _progress(size=DownloadColumn()) as progress, atomic_write(target, "wb") as handle:
        task = progress.add_task(f"{dataset} → {target.name}", total=None)
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
            progress.update(task, completed=written)
    console.print(f"Đã ghi / wrote {target} ({written:,} bytes)")

@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--keep", type=int, help="Then keep only the newest N hub backups in FILE's folder.")
def backup(file: Path, keep: int | None) -> None:
    """Back up the whole hub (every table, every version) to FILE, a zip (.zip is added when missing); a folder
    (existing, or written DIR/) gets a dated name; a full or read-only disk: exit status 4, no partial file."""
    from publish.backup import backup as back_up

    hub = open_hub(init=True)
    with _progress() as progress:
        manifest = back_up(hub.store, file, keep=keep, progress=_table_progress(progress))
    rows = sum(t["rows"] for t in manifest["tables"])
    console.print(f"Đã sao lưu / backed up {len(manifest['tables'])} bảng/tables, {rows:,} dòng/rows → "
                  f"{manifest['path']}")
    for removed in manifest.get("removed", []):
        console.print(f"  đã xoá bản cũ / removed old backup {removed}")

@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Empty a database that already holds data, then restore.")
def restore(file: Path, force: bool) -> None:
    """Restore a backup into the (empty) database of HUB_DATABASE_URL, SQLite or PostgreSQL alike."""
    from publish.restore import restore as restore_backup

    hub = open_hub(init=True)
    with _progress() as progress:
        manifest = restore_backup(hub.store, file, force=force, progress=_table_progress(progress))
    rows = sum(t["rows"] for t in manifest["tables"])
    console.print(f"Đã khôi phục / restored {len(manifest['tables'])} bảng/tables, {rows:,} dòng/rows từ/from "
                  f"{file} (sao lưu lúc / taken {manifest['created_at']}, phiên bản / hub {manifest['hub_version']})")


__all__ = ["versions_cmd", "diff", "rollback", "export", "backup", "restore", "OPERATOR"]
