"""Operations commands: check-config, migrate, worker, jobs, nginx-config."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from core.config import SETTINGS_HELP, Settings, read_env
from core.errors import ConfigError
from hub.cli.common import console, print_table
from hub.jobs import Job

SECRET_SETTINGS = {"secret_key", "report_token", "audit_key", "smtp_password"}


def masked(name: str, value: object) -> str:
    """A setting's value as `check-config` shows it: secrets and URL passwords replaced by ****."""
    if value is None:
        return "—"
    text = str(value)
    if name in SECRET_SETTINGS:
        return "****" if text else ""
    if "://" in text:
        parts = urlsplit(text)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
            return urlunsplit(parts._replace(netloc=netloc))
    return text


@click.command("check-config")
def check_config() -> None:
    """Print every setting (secrets masked) with its source, check the database, Redis and storage, and
    list every problem, one line each. Exit status 3 when anything is wrong."""
    from hub.ops import environment_checks

    reading = read_env()
    width = max(len(name) for name in SETTINGS_HELP)
    click.echo("Cấu hình / settings (giá trị / value — nguồn / source):")
    for name in SETTINGS_HELP:
        click.echo(f"  {name:{width}}  {masked(name, getattr(reading.settings, name))}  ({reading.sources[name]})")
    checks = environment_checks(reading.settings)
    click.echo("Kiểm tra / checks:")
    for name, state in checks.items():
        click.echo(f"  {'✓' if state == 'ok' else '✗'} {name}: {state}")
    problems = [f"{vi} / {en}" for vi, en in reading.problems]
    refusal = reading.settings.secret_refusal()  # what `hub serve` would refuse (a weak secret beyond loopback)
    if refusal and not any("HUB_SECRET_KEY" in line for line in problems):
        problems.append(f"{refusal[0]} / {refusal[1]}")
    problems += [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    for line in problems:
        click.echo(f"✗ {line}")
    if problems:
        raise ConfigError(f"{len(problems)} vấn đề cấu hình", f"{len(problems)} configuration problem(s)")
    click.echo("Cấu hình hợp lệ / configuration is good")

@click.command()
@click.option("--revision", default="heads", show_default=True, help="Alembic revision to upgrade to.")
@click.option("--sql", is_flag=True, help="Print the SQL the upgrade would run (from the database's current "
              "revision, or from empty), without running it.")
@click.option("--current", is_flag=True, help="Print the database's revision and the one this version needs.")
def migrate(revision: str, sql: bool, current: bool) -> None:
    """Upgrade the hub's tables (Alembic) and create any missing dataset tables. Run it once per upgrade,
    before restarting the web service and the workers; back up first (see docs/operations.md)."""
    from publish import migrate as m
    from publish.context import Hub

    settings = Settings.from_env()
    if sql:
        start = None
        try:
            from publish.db import create_engine

            engine = create_engine(settings.database_url)
            start = m.current_revision(engine)
            engine.dispose()
        except Exception:  # noqa: BLE001 - an unreachable database: the SQL from empty
            start = None
        click.echo(m.upgrade_sql(settings.database_url, revision, start=start), nl=False)
        return
    hub = Hub.open(settings)
    before = m.current_revision(hub.store.engine)
    if current:
        latest = ",".join(m.latest_revisions())
        console.print(f"cơ sở dữ liệu / database: {before or '— (trống / empty)'}")
        console.print(f"phiên bản này cần / this version needs: {latest}")
        console.print("cần chạy `hub migrate` / run `hub migrate`" if before != latest else "đã cập nhật / up to date")
        return
    if revision in ("head", "heads"):
        hub.store.init()  # hub tables to the newest revision, dataset tables, interrupted loads marked
    else:
        m.upgrade(hub.store.engine, revision)
    after = m.current_revision(hub.store.engine)
    console.print(f"Đã nâng cấp / migrated: {before or '—'} → {after}")

@click.command()
@click.option("--burst", is_flag=True, help="Run the jobs already queued, then exit.")
@click.option("--name", help="Worker name (default: host and pid).")
def worker(burst: bool, name: str | None) -> None:
    """Run background jobs (ingests, exports, CKAN pushes) from the Redis queue. Needs HUB_REDIS_URL.

    On start, jobs and loads left running by a dead process on this host are marked failed."""
    from hub import worker as w
    from hub.observability import configure_logging
    from publish.context import Hub

    settings = Settings.from_env()
    w.require_redis(settings)
    configure_logging(settings)
    w.run(Hub.open(settings, init=True), burst=burst, name=name)

@click.command()
@click.argument("job_id", required=False)
@click.option("--status", type=click.Choice(["queued", "running", "finished", "failed"]))
@click.option("--dataset")
@click.option("--limit", default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def jobs(job_id: str | None, status: str | None, dataset: str | None, limit: int, as_json: bool) -> None:
    """List background jobs, newest first, or show one (JOB_ID): status, progress, result or error."""
    from hub import jobs as j
    from hub.cli.common import open_hub

    hub = open_hub()
    if job_id:
        job = j.get(hub.store, job_id)
        if as_json:
            click.echo(json.dumps(job.to_dict(), ensure_ascii=False, indent=2))
            return
        _print_job(job)
        return
    found = j.list_jobs(hub.store, status=status, dataset=dataset, limit=limit)
    if as_json:
        click.echo(json.dumps([x.to_dict() for x in found], ensure_ascii=False, indent=2))
        return
    print_table("Công việc / Jobs", ["id", "loại / kind", "bộ dữ liệu / dataset", "trạng thái / status",
                                     "tiến độ / progress", "tạo lúc / created", "người tạo / by", "ghi chú / message"],
                [[x.id, x.kind, x.dataset, x.status, f"{x.progress:.0%}", f"{x.created_at:%Y-%m-%d %H:%M:%S}",
                  x.created_by, (x.message or "")[:60]] for x in found])

@click.command("nginx-config")
@click.option("--server-name", default=None, help="Public host name (default: the host of HUB_BASE_URL).")
@click.option("--listen", default=None, help="Address nginx listens on for HTTPS (default 443).")
@click.option("--certificate", default=None, help="TLS certificate (fullchain) path.")
@click.option("--certificate-key", default=None, help="TLS private key path.")
@click.option("--metrics-allow", multiple=True, help="Address or network that may read /metrics (repeatable).")
def nginx_config(server_name: str | None, listen: str | None, certificate: str | None,
                 certificate_key: str | None, metrics_allow: tuple[str, ...]) -> None:
    """Print deploy/nginx/hub.conf filled in for this installation (paths, upstream, upload size)."""
    from hub.deploy import nginx_site

    settings = Settings.from_env()
    overrides: dict[str, Any] = {k: v for k, v in {"server_name": server_name, "listen": listen, "certificate": certificate,
                                   "certificate_key": certificate_key,
                                   "metrics_allow": list(metrics_allow)}.items() if v}
    click.echo(nginx_site(settings, **overrides), nl=False)


def _print_job(job: Job) -> None:
    d = job.to_dict()
    for key in ("id", "kind", "status", "dataset", "progress", "message", "created_by", "created_at", "started_at",
                "finished_at", "worker", "load_id"):
        value = f"{d[key]:.0%}" if key == "progress" else d[key]
        console.print(f"{key:12} {'' if value is None else value}", markup=False, highlight=False)
    if d["error"]:
        console.print(f"{'error':12} {d['error']['message']['vi']} / {d['error']['message']['en']}", markup=False)
    if d["result"]:
        console.print(json.dumps(d["result"], ensure_ascii=False, indent=2, default=str)[:4000], markup=False,
                      highlight=False)


__all__ = ["check_config", "migrate", "worker", "jobs", "nginx_config", "masked"]
