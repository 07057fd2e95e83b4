"""The production shape on this machine: PostgreSQL + PostGIS (a fresh database), Redis, `hub worker`,
gunicorn (`hub serve` with deploy/gunicorn.conf.py) and Debian's nginx with deploy/nginx/hub.conf over TLS.

A steward uploads through nginx; the upload runs as a background job; the data reads back through nginx;
/metrics shows the requests and the load. Then the worker is killed (SIGKILL) in the middle of a large
ingest: readers keep the previous version, and the job ends up failed, not forever "running".
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from core.config import PROJECT_ROOT, Settings
from publish.context import Hub
from publish.leases import pid_running
from tests.ops.conftest import PostgresDatabase, api_key, bearer, flush_redis, hub_env, redis_db_url, run_hub
from tests.ops.data import travel_agencies_csv
from tests.ops.stack import NGINX, Stack, free_ports, render_nginx

pytestmark = pytest.mark.slow

BIG_ROWS = 150_000  # three reader batches: the first progress report comes with two batches still to go


def scrape(base: str, cert: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"{base}/metrics", verify=cert, timeout=20).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def metric(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def upload(base: str, cert: str, key: str, dataset: str, path: Path) -> requests.Response:
    with path.open("rb") as handle:
        return requests.post(f"{base}/api/v1/datasets/{dataset}/uploads", headers=bearer(key), verify=cert,
                             files={"file": (path.name, handle)}, timeout=120)


def wait_job(base: str, cert: str, key: str, location: str, until: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = requests.get(base + location, headers=bearer(key), verify=cert, timeout=20).json()
        if until(job):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job not as expected after {timeout}s: {job}")


def test_worker_killed_mid_ingest_leaves_previous_version_and_a_failed_job(tmp_path: Path) -> None:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/system-packages.sh test)")
    redis_url = redis_db_url()
    from tests.conftest import require_postgres

    require_postgres()
    database = PostgresDatabase().create()
    https_port, http_port, app_port = free_ports(3)
    base = f"https://127.0.0.1:{https_port}"
    settings = dict(database_url=database.url, redis_url=redis_url, storage_dir=tmp_path / "storage",
                    secret_key="a-long-random-test-secret-0123456789", base_url=base, bind=f"127.0.0.1:{app_port}",
                    workers=2, threads=4, proxies=1, log_format="json")
    env = hub_env(**settings)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    stack = Stack(tmp_path, env)
    hub = None
    try:
        # The operator's first steps: check the configuration, create the tables.
        checked = run_hub("check-config", env=env, cwd=tmp_path)
        assert checked.returncode == 3 and "run `hub migrate`" in checked.stdout, checked.stdout  # empty database
        migrated = run_hub("migrate", env=env, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        checked = run_hub("check-config", env=env, cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "a-long-random" not in checked.stdout  # the secret is masked

        hub = Hub.open(Settings(**settings))
        steward = api_key(hub, "steward")

        static = tmp_path / "static"
        static.mkdir()
        (static / "marker.txt").write_text("served by nginx", encoding="utf-8")
        conf = render_nginx(Settings(**settings), tmp_path, port=https_port, http_port=http_port, static_dir=static)
        stack.start_worker()
        stack.start_web()
        stack.start_nginx(conf)
        cert = str(tmp_path / "cert.pem")
        stack.wait_until_ready(f"{base}/readyz", verify=cert)

        # nginx itself: TLS, the HTTP→HTTPS redirect, static files without the app
        redirect = requests.get(f"http://127.0.0.1:{http_port}/readyz", allow_redirects=False, timeout=10)
        assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")
        marker = requests.get(f"{base}/static/marker.txt", verify=cert, timeout=10)
        assert marker.text == "served by nginx" and "X-Request-ID" not in marker.headers
        assert "max-age" in marker.headers["Strict-Transport-Security"]

        before = scrape(base, cert)
        for _ in range(10):
            assert requests.get(f"{base}/healthz", verify=cert, timeout=10).status_code == 200

        # 1. A steward uploads the communes, then the travel agencies: background jobs, followed to the end.
        for dataset, source in (("admin-units", "admin-units.geojson"), ("travel-agencies", "travel-agencies.csv")):
            answer = upload(base, cert, steward, dataset, PROJECT_ROOT / "samples" / source)
            assert answer.status_code == 202, answer.text
            assert answer.headers["Location"] == f"/api/v1/jobs/{answer.json()['job']['id']}"
            job = wait_job(base, cert, steward, answer.headers["Location"], lambda j: j["status"] in ("finished", "failed"))
            assert job["status"] == "finished", job
            assert job["result"]["load"]["status"] == "committed" and job["progress"] == 1.0
        loaded = job["result"]["load"]["rows_loaded"]
        rejected = job["result"]["rows_rejected"]

        # 2. It reads back through nginx, with the request id we sent.
        page = requests.get(f"{base}/api/v1/datasets/travel-agencies/records?limit=5", verify=cert, timeout=20,
                            headers={"X-Request-ID": "trace-production-shape-1"})
        assert page.status_code == 200 and page.headers["X-Request-ID"] == "trace-production-shape-1"
        assert page.json()["total"] == loaded and page.json()["version"] == 1

        # 3. /metrics: requests of both gunicorn workers added up, loads counted from the database.
        after = scrape(base, cert)
        healthz = ("hub_http_requests_total", {"method": "GET", "route": "/healthz", "status": "200"})
        assert metric(after, healthz[0], **healthz[1]) - metric(before, healthz[0], **healthz[1]) == 10
        uploads_route = "/api/v1/datasets/<string:dataset_id>/uploads"
        assert metric(after, "hub_http_requests_total", method="POST", route=uploads_route, status="202") == 2
        assert metric(before, "hub_loads_total", dataset="travel-agencies", status="committed") == 0
        assert metric(after, "hub_loads_total", dataset="travel-agencies", status="committed") == 1
        assert metric(after, "hub_load_rows_total", dataset="travel-agencies", kind="loaded") == loaded
        assert metric(after, "hub_rejected_rows_total", dataset="travel-agencies") == rejected
        assert metric(after, "hub_jobs", kind="ingest", status="finished") == 2

        # 4. A large file; kill the worker once the job has read its first rows.
        big = travel_agencies_csv(tmp_path / "dai-ly-lu-hanh-lon.csv", BIG_ROWS)
        answer = upload(base, cert, steward, "travel-agencies", big)
        assert answer.status_code == 202, answer.text
        location = answer.headers["Location"]
        job = wait_job(base, cert, steward, location, lambda j: j["status"] != "queued" and j["progress"] > 0, timeout=180)
        assert job["status"] == "running" and job["progress"] < 1, job
        stack.stop("worker", signal.SIGKILL)
        horse_pid = int(job["worker"].rpartition(":")[2])
        deadline = time.monotonic() + 10
        while pid_running(horse_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_running(horse_pid), "the job's process outlived its worker"

        # Readers still get the previous version, in full.
        page = requests.get(f"{base}/api/v1/datasets/travel-agencies/records?limit=1", verify=cert, timeout=20).json()
        assert page["total"] == loaded and page["version"] == 1

        # systemd restarts the worker (Restart=always); it finds the dead job and marks it failed.
        stack.start_worker("worker-restarted")
        job = wait_job(base, cert, steward, location, lambda j: j["status"] == "failed", timeout=120)
        assert job["error"]["code"] == "worker-died"
        with hub.store.engine.connect() as conn:
            statuses = [r.status for r in conn.execute(
                sa.text("SELECT status FROM hub_loads WHERE dataset = 'travel-agencies' ORDER BY id"))]
        assert statuses == ["committed", "failed"]

        # The restarted worker takes new work.
        answer = upload(base, cert, steward, "travel-agencies", PROJECT_ROOT / "samples" / "travel-agencies.csv")
        job = wait_job(base, cert, steward, answer.headers["Location"], lambda j: j["status"] in ("finished", "failed"))
        assert job["status"] == "finished" and job["result"]["status"] == "unchanged", job
        final = scrape(base, cert)
        assert metric(final, "hub_loads_total", dataset="travel-agencies", status="failed") == 1
        assert metric(final, "hub_jobs", kind="ingest", status="failed") == 1
    finally:
        stack.close()
        if hub is not None:
            hub.store.dispose()
        database.drop()
        flush_redis(redis_url)
