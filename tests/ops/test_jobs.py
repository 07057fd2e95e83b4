"""Background jobs on the embedded default (inline), as the steward follows them; jobs whose process died."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.config import PROJECT_ROOT
from core.errors import HubError, InputError
from hub import jobs
from publish import tables
from publish.context import Hub
from publish.store import utcnow
from tests.ops.conftest import hub_env, run_hub


def stored_upload(hub: Hub, source: Path) -> str:
    target = Path(hub.settings.storage_dir) / "uploads" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return f"uploads/{source.name}"


def ingest(hub: Hub, dataset: str, source: Path) -> jobs.Job:
    return jobs.submit(hub, "ingest", {"dataset": dataset, "path": stored_upload(hub, source)}, created_by="steward-a")


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def running_job(hub: Hub, *, worker: str, heartbeat_ago: timedelta, dataset: str = "heritage-sites") -> tuple[str, int]:
    """A job and its load as a process leaves them when it dies mid-ingest."""
    head = worker.split(" ")[0]  # host:pid (then, from publish.leases.Identity.holder, its namespace and boot)
    job_id = "j" + head.replace(":", "-").replace(".", "-")[-20:]
    started = utcnow() - heartbeat_ago - timedelta(seconds=5)
    pid = int(head.rpartition(":")[2])
    with hub.store.engine.begin() as conn:
        conn.execute(tables.jobs.insert().values(
            id=job_id, kind="ingest", status="running", dataset=dataset, params="{}", created_at=started,
            started_at=started, worker=worker, heartbeat_at=utcnow() - heartbeat_ago))
        load_id = conn.execute(tables.loads.insert().values(
            dataset=dataset, status="running", started_at=started + timedelta(seconds=1), pid=pid)).inserted_primary_key[0]
    return job_id, load_id


def load_status(hub: Hub, load_id: int) -> str:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(tables.loads.c.status).where(tables.loads.c.id == load_id)).scalar_one()


def test_inline_ingest_job_finishes_with_its_load_and_report(communes_hub: Hub) -> None:
    job = ingest(communes_hub, "accommodation", PROJECT_ROOT / "samples" / "accommodation.csv")
    assert job.status == "finished" and job.progress == 1.0
    assert job.result["load"]["status"] == "committed" and job.result["load"]["version"] == 1
    assert job.result["report"]["valid"] is True
    assert job.load_id == job.result["load"]["load_id"]
    assert job.worker.startswith(socket.gethostname() + ":") and job.created_by == "steward-a"
    assert [j.id for j in jobs.list_jobs(communes_hub.store, dataset="accommodation")] == [job.id]


def test_failed_job_keeps_the_bilingual_error(hub: Hub, tmp_path: Path) -> None:
    broken = tmp_path / "di-tich.xlsx"
    broken.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(InputError) as raised:
        ingest(hub, "heritage-sites", broken)
    [job] = jobs.list_jobs(hub.store)
    assert job.status == "failed" and job.finished_at is not None
    assert job.error == raised.value.to_dict()  # code, Vietnamese and English message, file


def test_job_parameters_never_carry_secrets(hub: Hub) -> None:
    with pytest.raises(HubError, match="secrets"):
        jobs.submit(hub, "ckan-push", {"url": "https://ckan.example", "api_key": "s3cret"})
    with hub.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.jobs)).scalar() == 0


def test_job_of_a_dead_process_on_this_host_is_marked_failed_with_its_load(hub: Hub) -> None:
    job_id, load_id = running_job(hub, worker=f"{socket.gethostname()}:{dead_pid()}", heartbeat_ago=timedelta(0))
    job = jobs.get(hub.store, job_id)  # anyone reading it notices
    assert job.status == "failed" and job.error["code"] == "worker-died"
    assert load_status(hub, load_id) == "failed"


def test_job_silent_on_another_host_is_marked_failed_once_stale(hub: Hub) -> None:
    fresh_id, _ = running_job(hub, worker="app-2.example:4242", heartbeat_ago=timedelta(seconds=5))
    stale_id, load_id = running_job(hub, worker="app-3.example:4343", heartbeat_ago=jobs.STALE_AFTER * 2,
                                    dataset="sports-venues")
    assert jobs.reap_dead(hub.store) == 1
    assert jobs.get(hub.store, fresh_id).status == "running"  # still beating, elsewhere
    stale = jobs.get(hub.store, stale_id)
    assert stale.status == "failed" and "heartbeat" in stale.error["message"]["en"]
    assert load_status(hub, load_id) == "failed"


def test_export_job_writes_the_public_file_whole(communes_hub: Hub) -> None:
    job = jobs.submit(communes_hub, "export", {"dataset": "admin-units", "format": "geojson"})
    assert job.status == "finished", job.error
    written = Path(communes_hub.settings.storage_dir) / job.result["file"]
    assert job.result["file"] == "exports/public/admin-units-v1.geojson"
    assert written.stat().st_size == job.result["bytes"] and job.result["url"].endswith("/exports/admin-units-v1.geojson")
    assert len(json.loads(written.read_text(encoding="utf-8"))["features"]) == 95
    assert not list(written.parent.glob(".*.part"))  # no partial file left behind


@pytest.mark.parametrize("communes_hub", ["spatialite"], indirect=True)  # the command is the same on both
def test_jobs_command_lists_and_shows_jobs(communes_hub: Hub, tmp_path: Path) -> None:
    job = ingest(communes_hub, "travel-agencies", PROJECT_ROOT / "samples" / "travel-agencies.csv")
    env = hub_env(database_url=communes_hub.settings.database_url, storage_dir=communes_hub.settings.storage_dir)
    listed = run_hub("jobs", "--json", "--dataset", "travel-agencies", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [j["id"] for j in json.loads(listed.stdout)][0] == job.id  # newest first
    shown = run_hub("jobs", job.id, env=env, cwd=tmp_path)
    assert shown.returncode == 0 and "finished" in shown.stdout and '"committed"' in shown.stdout


def test_ckan_push_job_takes_its_key_from_the_environment(communes_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.errors import ConfigError

    monkeypatch.delenv("HUB_CKAN_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="HUB_CKAN_API_KEY"):
        jobs.submit(communes_hub, "ckan-push", {"url": "https://ckan.example.vn", "dataset": "admin-units"})
    [job] = jobs.list_jobs(communes_hub.store, status="failed", dataset="admin-units")[:1]
    assert job.kind == "ckan-push" and "HUB_CKAN_API_KEY" in job.error["message"]["en"]


def test_job_in_another_pid_namespace_is_waited_out_and_fails_only_its_own_load(hub: Hub) -> None:
    """A job of a container on this machine (same host, another PID namespace) records a PID that means nothing
    here: it is not failed while it beats, even if that PID does not run here; once stale, it fails with its
    own load only, not a load of the same PID in yet another namespace."""
    from publish import leases

    me = leases.Identity.current()
    gone = dead_pid()
    container = leases.Identity(me.host, me.boot_id, "pid:[7]", gone)
    beating, _ = running_job(hub, worker=container.holder(), heartbeat_ago=timedelta(seconds=5))
    assert jobs.reap_dead(hub.store) == 0 and jobs.get(hub.store, beating).status == "running"
    with hub.store.engine.begin() as conn:  # the beating job is forgotten; a silent one of the same container
        conn.execute(tables.jobs.delete().where(tables.jobs.c.id == beating))
        conn.execute(tables.loads.delete())
    silent, _ = running_job(hub, worker=container.holder(), heartbeat_ago=jobs.STALE_AFTER * 2)
    started = utcnow() - jobs.STALE_AFTER
    with hub.store.engine.begin() as conn:
        own, other = (conn.execute(tables.loads.insert().values(
            dataset="heritage-sites", status="running", started_at=started, heartbeat_at=started,
            **leases.Identity(me.host, me.boot_id, namespace, gone).columns())).inserted_primary_key[0]
            for namespace in ("pid:[7]", "pid:[8]"))
    assert jobs.reap_dead(hub.store) == 1
    assert jobs.get(hub.store, silent).status == "failed"
    assert load_status(hub, own) == "failed" and load_status(hub, other) == "running"
