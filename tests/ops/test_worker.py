"""Jobs on the Redis queue and `hub worker`: 202 answers, the worker running them, and jobs whose process
was killed ending up failed (never "running" forever)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest

from hub import jobs
from hub.app import create_app
from publish import leases
from publish.context import Hub
from tests.ops.conftest import HUB, api_key, bearer, flush_redis, hub_env, redis_db_url, run_hub, wait_for
from tests.ops.data import travel_agencies_csv
from tests.ops.test_jobs import dead_pid, running_job

# Queueing does not depend on the database: SpatiaLite here, PostGIS in the production-shape test.
ON_SPATIALITE = pytest.mark.parametrize("communes_hub", ["spatialite"], indirect=True)


@pytest.fixture
def queued_hub(communes_hub: Hub) -> Iterator[Hub]:
    """The communes hub, with jobs going to Redis (a database number of this module's own)."""
    url = redis_db_url()
    yield Hub(communes_hub.settings.replace(redis_url=url), communes_hub.catalog, communes_hub.store)
    flush_redis(url)


def worker_env(hub: Hub) -> dict[str, str]:
    return hub_env(database_url=hub.settings.database_url, redis_url=hub.settings.redis_url,
                   storage_dir=hub.settings.storage_dir, log_format="text")


def test_worker_without_redis_is_one_clear_line(tmp_path: Path) -> None:
    result = run_hub("worker", env=hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}"), cwd=tmp_path)
    assert result.returncode == 3
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        line for line in result.stderr.splitlines() if "HUB_REDIS_URL" in line]


@ON_SPATIALITE
def test_queued_upload_answers_202_and_the_worker_runs_it(queued_hub: Hub, tmp_path: Path) -> None:
    app = create_app(queued_hub.settings, hub=queued_hub)
    app.config["TESTING"] = True
    client = app.test_client()
    steward = api_key(queued_hub, "steward")
    source = travel_agencies_csv(tmp_path / "dai-ly.csv", 100, start=900_000)
    answer = client.post("/api/v1/datasets/travel-agencies/uploads", headers=bearer(steward),
                         # allow_shrink: test_jobs may have loaded more agencies into this shared hub first
                         data={"file": (BytesIO(source.read_bytes()), source.name), "allow_shrink": "true"},
                         content_type="multipart/form-data")
    assert answer.status_code == 202, answer.json
    location = answer.headers["Location"]
    assert location == answer.json["url"] == f"/api/v1/jobs/{answer.json['job']['id']}"
    assert client.get(location, headers=bearer(steward)).json["status"] == "queued"
    assert client.get(location, headers=bearer(api_key(queued_hub, "department"))).status_code == 404
    assert client.get(location).status_code == 401
    listed = client.get("/api/v1/jobs?status=queued", headers=bearer(steward)).json
    assert answer.json["job"]["id"] in [j["id"] for j in listed]

    # a job left "running" by a worker that died on this host before this one started
    orphan_id, _ = running_job(queued_hub, worker=f"{socket.gethostname()}:{dead_pid()}", heartbeat_ago=timedelta(0))

    burst = run_hub("worker", "--burst", env=worker_env(queued_hub), cwd=tmp_path, timeout=300)
    assert burst.returncode == 0, burst.stderr
    job = client.get(location, headers=bearer(steward)).json
    assert job["status"] == "finished", job
    assert job["result"]["status"] == "committed" and job["result"]["load"]["rows_loaded"] == 100
    assert job["progress"] == 1.0 and job["worker"].startswith(socket.gethostname())
    orphan = jobs.get(queued_hub.store, orphan_id, reap=False)  # marked by the worker's start, not by a reader
    assert orphan.status == "failed" and orphan.error["code"] == "worker-died"


@ON_SPATIALITE
def test_killed_work_horse_fails_its_job_and_leaves_the_data(queued_hub: Hub, tmp_path: Path) -> None:
    """An upload queued as a job whose process is killed -9: the job fails naming the load it left (failed too),
    the published version stays, and the uploaded file does not stay behind with nothing referring to it."""
    before = queued_hub.store.current_version("travel-agencies")
    source = travel_agencies_csv(tmp_path / "lon.csv", 60_000, start=700_000)  # a few seconds of work
    app = create_app(queued_hub.settings, hub=queued_hub)
    app.config["TESTING"] = True
    steward = api_key(queued_hub, "steward")
    with source.open("rb") as handle:
        answer = app.test_client().post("/api/v1/datasets/travel-agencies/uploads", headers=bearer(steward),
                                        data={"file": (handle, source.name), "allow_shrink": "true"},
                                        content_type="multipart/form-data")
    assert answer.status_code == 202, answer.json
    job_id = answer.json["job"]["id"]
    uploaded = Path(queued_hub.settings.storage_dir) / jobs.get(queued_hub.store, job_id, reap=False).params["path"]
    assert uploaded.is_file()
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([*HUB, "worker"], env=worker_env(queued_hub), cwd=tmp_path, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        running = wait_for(lambda: (j := jobs.get(queued_hub.store, job_id, reap=False)).status == "running" and j,
                           timeout=120)
        horse = leases.Identity.from_holder(running.worker).pid  # type: ignore[union-attr]
        assert horse != worker.pid  # the job runs in a forked work horse
        # killed once its load has begun (what the kernel's out-of-memory killer does)
        wait_for(lambda: _loads(queued_hub, "running"), timeout=120, every=0.05)
        os.kill(horse, signal.SIGKILL)
        failed = wait_for(lambda: (j := jobs.get(queued_hub.store, job_id, reap=False)).status == "failed" and j)
        assert "killed (signal 9)" in failed.error["message"]["en"], failed.error
        assert worker.poll() is None  # the worker lives on for the next job
        assert queued_hub.store.current_version("travel-agencies") == before
        assert _loads(queued_hub, "running") == []
        assert failed.load_id is not None and failed.load_id in _loads(queued_hub, "failed")  # the steward finds it
        assert not uploaded.exists()  # no 54 MB file left that nothing refers to
        assert uploaded.name in failed.error["message"]["en"] and "send it again" in failed.error["message"]["en"]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()


def _loads(hub: Hub, status: str) -> list[int]:
    import sqlalchemy as sa

    with hub.store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM hub_loads WHERE status = :s"), {"s": status}).scalars())


@ON_SPATIALITE
def test_rq_is_only_a_transport(queued_hub: Hub) -> None:
    """Only the job id goes through Redis: parameters stay in the database."""
    from redis import Redis
    from rq import Queue

    job = jobs.submit(queued_hub, "export", {"dataset": "admin-units", "format": "csv"})
    [rq_job] = Queue(jobs.QUEUE, connection=Redis.from_url(queued_hub.settings.redis_url)).get_jobs()
    assert rq_job.id == job.id and rq_job.args == (job.id,) and rq_job.func_name == "hub.jobs.execute"
    assert "admin-units" not in str(rq_job.kwargs)


@ON_SPATIALITE
def test_a_stewards_check_is_queued_and_the_worker_runs_it(queued_hub: Hub, tmp_path: Path) -> None:
    """The steward workspace runs its check as a job like any other: with Redis it waits on the queue (the
    upload says so) and `hub worker` runs it, writing the report next to the upload."""
    from publish import clients, workspace

    clients.create_client(queued_hub.store, "steward-queued", "steward")
    token = clients.issue_key(queued_hub.store, "steward-queued").token
    app = create_app(queued_hub.settings, hub=queued_hub)
    app.config["TESTING"] = True
    page = app.test_client()

    def csrf(html: str) -> str:
        return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    assert page.post("/steward/login", data={"key": token, "csrf_token": csrf(page.get("/steward/login").text)}
                     ).status_code == 303
    source = travel_agencies_csv(tmp_path / "dai-ly.csv", 50, start=950_000)
    sent = page.post("/steward/uploads", data={"dataset": "travel-agencies", "csrf_token": csrf(page.get("/steward/").text),
                                               "file": (BytesIO(source.read_bytes()), source.name)},
                     content_type="multipart/form-data")
    assert sent.status_code == 303
    upload = sent.headers["Location"].rsplit("/", 1)[-1]
    job = next(j for j in jobs.list_jobs(queued_hub.store, created_by="steward-queued") if j.params["upload"] == upload)
    assert (job.kind, job.status) == ("steward-check", "queued"), job
    assert workspace.get(queued_hub, upload).status == "validating"

    burst = run_hub("worker", "--burst", env=worker_env(queued_hub), cwd=tmp_path, timeout=300)
    assert burst.returncode == 0, burst.stderr
    done = jobs.get(queued_hub.store, job.id)
    assert done.status == "finished" and done.result["status"] == "validated", done
    checked = workspace.get(queued_hub, upload)
    assert checked.status == "validated" and checked.summary["rows_read"] == 50
    assert (workspace.folder(queued_hub, upload) / "report.json").is_file()



def test_a_worker_leaves_its_channel_at_once_when_stopped() -> None:
    """A stopping worker (SIGTERM from systemd, Ctrl-C) unsubscribes from its Redis channel and waits for the
    channel's thread. That thread waited for the next message for up to RQ's 60 s once the unsubscription had
    reached it first (a race a busy machine often loses: a CI run's worker hung there), so `hub worker` took a
    minute to stop. Here the thread is made to see the unsubscription first, then the worker is stopped."""
    from redis import Redis
    from rq import Queue

    from hub.worker import HubWorker

    url = redis_db_url()
    connection = Redis.from_url(url)
    worker = HubWorker([Queue(jobs.QUEUE, connection=connection)], connection=connection)
    try:
        worker.subscribe()
        wait_for(lambda: worker.pubsub.subscribed, "subscribed", timeout=10, every=0.01)
        worker.pubsub.unsubscribe()
        wait_for(lambda: not worker.pubsub.subscribed, "the thread saw the unsubscription", timeout=10, every=0.01)
        stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
        stopping.start()
        stopping.join(timeout=15)
        assert not stopping.is_alive(), "the worker still waits for its channel's thread 15 s after stopping"
    finally:
        flush_redis(url)
