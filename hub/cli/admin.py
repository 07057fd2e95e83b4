"""Access commands: `hub keys ...` (clients, keys, grants) and `hub audit` (read and verify the audit log)."""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import click

from core.errors import HubError, IntegrityBroken
from hub.cli.common import console, open_hub, print_table
from publish import audit, audit_store, clients

__all__ = ["keys_group", "audit_command"]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise HubError(f"Thời điểm không hợp lệ «{value}» (dạng 2026-01-31 hoặc 2026-01-31T08:00)",
                       f"Not a valid time «{value}» (use 2026-01-31 or 2026-01-31T08:00)", field="since") from None


@click.group(name="keys")
def keys_group() -> None:
    """Bên sử dụng, khoá API và quyền / API clients, their keys and grants."""

@keys_group.command("create-client")
@click.argument("name")
@click.option("--role", type=click.Choice(clients.ROLES), default="department", show_default=True)
@click.option("--title", help="Tên đầy đủ / full name, e.g. 'Sở Xây dựng'.")
@click.option("--contact", help="Liên hệ / contact (email, phone).")
def create_client(name: str, role: str, title: str | None, contact: str | None) -> None:
    """Create the client NAME (a department, a steward or an admin)."""
    hub = open_hub(init=True)
    clients.create_client(hub.store, name, role, title=title, contact=contact, actor=_actor())
    console.print(f"Đã tạo / created: {name} ({role})")

@keys_group.command("issue")
@click.argument("client")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Số ngày hiệu lực / days the key is valid.")
@click.option("--no-expiry", is_flag=True, help="A key that never expires (avoid).")
def issue(client: str, days: int, no_expiry: bool) -> None:
    """Issue a new key for CLIENT and print it: it is shown this once and stored only as a hash."""
    hub = open_hub(init=True)
    issued = clients.issue_key(hub.store, client, days=None if no_expiry else days, actor=_actor())
    until = issued.expires_at.isoformat(timespec="seconds") if issued.expires_at else "không hết hạn / never"
    click.echo(issued.token)  # alone on stdout, so scripts can capture it
    click.echo(f"Khoá chỉ hiện một lần; hết hạn / shown once; expires: {until}", err=True)

@keys_group.command("revoke")
@click.argument("client")
@click.option("--prefix", help="Revoke only the key with this prefix (see `hub keys list`); default: all.")
def revoke(client: str, prefix: str | None) -> None:
    """Revoke CLIENT's keys: they stop working at once."""
    hub = open_hub(init=True)
    count = clients.revoke_keys(hub.store, client, prefix, actor=_actor())
    console.print(f"Đã thu hồi / revoked: {count}")

@keys_group.command("grant")
@click.argument("client")
@click.argument("dataset")
@click.option("--personal", is_flag=True, help="Also the dataset's personal data (needs --purpose).")
@click.option("--purpose", help="Mục đích sử dụng / the recorded purpose (legal basis) of the grant.")
def grant(client: str, dataset: str, personal: bool, purpose: str | None) -> None:
    """Let CLIENT read DATASET (needed for restricted datasets), optionally with its personal data."""
    hub = open_hub(init=True)
    clients.grant(hub.store, client, dataset, personal=personal, purpose=purpose, granted_by=_actor())
    console.print(f"Đã cấp / granted: {client} → {dataset}" + (" (+ dữ liệu cá nhân / personal data)" if personal else ""))

@keys_group.command("ungrant")
@click.argument("client")
@click.argument("dataset")
def ungrant(client: str, dataset: str) -> None:
    """Withdraw CLIENT's grant on DATASET (personal data included)."""
    hub = open_hub(init=True)
    console.print(f"Đã rút / withdrawn: {clients.ungrant(hub.store, client, dataset, actor=_actor())}")

@keys_group.command("disable")
@click.argument("client")
@click.option("--enable", is_flag=True, help="Enable the client again.")
def disable(client: str, enable: bool) -> None:
    """Disable CLIENT: none of its keys works until it is enabled again."""
    hub = open_hub(init=True)
    clients.set_disabled(hub.store, client, not enable, actor=_actor())
    console.print(f"{client}: {'enabled' if enable else 'disabled'}")

@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List clients with their keys (prefix and state, never the key) and grants."""
    hub = open_hub(init=True)
    found = clients.clients(hub.store)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    rows = []
    for c in found:
        active = [k["prefix"] for k in c["keys"] if k["state"] == "active"]
        grants = [g["dataset"] + (" (+cá nhân/personal)" if g["personal"] else "") for g in c["grants"]]
        rows.append([c["name"], c["role"], "disabled" if c["disabled"] else "", ", ".join(active),
                     len(c["keys"]), ", ".join(grants)])
    print_table("Bên sử dụng / Clients", ["client", "vai trò / role", "", "khoá hiệu lực / active keys",
                                           "tổng khoá / keys", "quyền / grants"], rows)

@click.command(name="audit")
@click.option("--client", help="Only this client's entries.")
@click.option("--dataset", help="Only entries about this dataset.")
@click.option("--since", help="From this time (UTC), e.g. 2026-01-31 or 2026-01-31T08:00.")
@click.option("--status", type=int, help="Only this HTTP status, e.g. 401.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--verify", is_flag=True, help="Check the keyed hash chain, the append-only triggers and the signed "
              "checkpoints (storage/audit-anchors.jsonl, each backup's, --anchors); exit status 9 when any fails. "
              "A good check appends the new head's checkpoint.")
@click.option("--anchors", "anchor_files", multiple=True, type=click.Path(dir_okay=False),
              help="Another file of signed checkpoints (JSON lines), or a backup .zip whose manifest holds one.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_command(client: str | None, dataset: str | None, since: str | None, status: int | None, limit: int,
                  verify: bool, anchor_files: tuple[str, ...], as_json: bool) -> None:
    """Read the audit log (newest first), or verify that no entry was edited, removed or cut off the end."""
    hub = open_hub(init=not verify)  # verifying must not recreate dropped triggers first
    if verify:
        audit_store.settle(hub.store.engine, hub.store.audit_engine, triggers=False)  # entries of an older hub
        anchors = audit.read_anchors(audit.anchors_path(hub.settings.storage_dir))
        for name in anchor_files:
            if name.endswith(".zip"):
                from publish.backup import read_manifest

                found = read_manifest(name).get("audit_anchor")
                anchors += [found] if found and found.get("id") else []
            else:
                anchors += audit.read_anchors(name)
        result = audit.verify(hub.store, anchors)
        if as_json:
            click.echo(json.dumps(result.to_dict()))
        elif result.ok:
            console.print(f"Chuỗi băm nguyên vẹn / chain intact: {result.checked} mục / entries; "
                          f"head {result.head}")
        else:
            console.print(f"[red]Chuỗi băm bị phá ở mục {result.broken_id} / chain broken at entry "
                          f"{result.broken_id}[/red]: {result.reason}")
        if not result.append_only:
            console.print("[red]Trigger chỉ-ghi-thêm đã bị gỡ / the append-only triggers are missing[/red]")
        if result.ok and result.append_only:
            audit.keep_anchor(hub.store, hub.settings.storage_dir)
        if not result.ok or not result.append_only:
            raise IntegrityBroken("Nhật ký kiểm toán đã bị sửa hoặc mất bảo vệ chỉ-ghi-thêm",
                                  "The audit log was edited or lost its append-only guard")
        return
    found = audit.entries(hub.store, client=client, dataset=dataset, since=_when(since), status=status,
                          limit=limit)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2, default=str))
        return
    print_table("Nhật ký kiểm toán / Audit log", ["#", "at (UTC)", "client", "method", "path", "dataset",
                                                   "status", "rows", "personal"],
                [[e["id"], e["at"], e["client"], e["method"], e["path"], e["dataset"], e["status"], e["rows"],
                  "yes" if e["personal"] else ""] for e in found])
