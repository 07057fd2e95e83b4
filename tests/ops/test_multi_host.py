"""Several machines sharing one PostgreSQL and one Redis, on this one: two app servers (`hub serve`, gunicorn)
on the real host, and two `hub worker`s, each in a PID namespace of its own (`unshare`, as root): one also in a
UTS namespace with a hostname of its own ("another host" to every other process), the other on this machine's
hostname (to the app servers: the same host, another PID namespace, as a container).

- A worker killed (kill -9, its whole tree) in the middle of a load on host A: B (its recovery pass, or an app
  server reading the job) marks the job and the load failed once their heartbeat is older than the lease,
  the previous version stays served through both app servers, and a new upload through app server B loads.
- Live loads, one in each worker, paused for three leases while the other worker, the app servers and this
  test run their recovery, are never marked failed; released, they commit.
- A due harvest runs once; a worker killed mid-harvest on A leaves its load and attempt failed, and B waits
  out A's harvest lease (A may only be unreachable) before taking the harvest over: the next run succeeds.

The pauses are real loads stopped after their first staged rows (tests/publish/paused_load.py, PAUSE_ARMED):
the test arms one pause, whichever worker stages first takes it, and the test reads which one from the signal.
Heartbeat 1 s and lease 6 s (HUB_HEARTBEAT_SECONDS, HUB_LEASE_SECONDS) keep the waits short.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import yaml

from core.config import PROJECT_ROOT, Settings
from publish import leases, pipeline, schedule, tables
from publish.context import Hub
from publish.harvest.tables import harvests
from publish.store import utcnow
from tests.ckan.conftest import write_catalog
from tests.harvest.conftest import Files
from tests.ops.conftest import PostgresDatabase, api_key, bearer, flush_redis, hub_env, redis_db_url, require
from tests.ops.conftest import wait_for as ops_wait_for
from tests.ops.data import travel_agencies_csv
from tests.ops.stack import free_ports

pytestmark = pytest.mark.slow

HEARTBEAT, LEASE = 1, 6
LEASE_DELTA = timedelta(seconds=LEASE)
HARVESTED = "accommodation"  # harvested over HTTP every 10 s; the uploads go to travel-agencies
UPLOADED = "travel-agencies"
WAIT = 180  # generous: the machine may be busy


wait_for = functools.partial(ops_wait_for, timeout=WAIT, every=0.25)


@dataclass
class Worker:
    host: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Cluster:
    tmp: Path
    env: dict[str, str]
    hub: Hub
    apps: list[str]  # base URLs of app servers A and B
    steward: str
    source: Path  # the CSV the harvest source serves
    workers: list[Worker] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    hosts: int = 0

    def start_worker(self, own_host: bool) -> Worker:
        """`hub worker` (with the pause hook) as the only process of a new PID namespace: on a hostname of
        its own ("another host" to everyone else), or on this machine's (a container here, to the app
        servers and this test: same host, another PID namespace)."""
        self.hosts += 1
        host = f"hub-{'abcdefghij'[self.hosts - 1]}" if own_host else socket.gethostname()
        log = self.tmp / f"worker-{self.hosts}-{host}.log"
        command = (f"{'hostname ' + host + ' && ' if own_host else ''}exec {sys.executable} -m "
                   f"tests.publish.paused_load {self.tmp / 'paused'} worker")
        namespaces = ["--pid", "--fork", "--mount-proc", *(["--uts"] if own_host else [])]
        with log.open("ab") as out:
            process = subprocess.Popen(["unshare", *namespaces, "--kill-child", "sh", "-c", command], env=self.env,
                                       cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        worker = Worker(host, process, log)
        self.workers.append(worker)
        return worker

    def ensure_two_workers(self) -> None:
        """One worker on a host of its own, one in a PID namespace of this machine (each started again after a
        test killed it)."""
        self.workers = [w for w in self.workers if w.process.poll() is None]
        here = socket.gethostname()
        for own_host in (True, False):
            if not any((w.host != here) == own_host for w in self.workers):
                self.start_worker(own_host)

    def kill(self, host: str) -> None:
        """kill -9 the worker's whole tree (its namespace's init, the worker, its work horse)."""
        worker = next(w for w in self.workers if w.host == host and w.process.poll() is None)
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=30)

    def arm(self) -> None:
        for stale in (self.tmp / "paused", self.tmp / "paused.release"):
            stale.unlink(missing_ok=True)
        (self.tmp / "armed").write_text("", encoding="utf-8")

    def paused(self) -> tuple[str, int]:
        """Wait for a worker's load to pause; its host and load id."""
        signal_file = self.tmp / "paused"

        def seen() -> bool:
            for worker in self.workers:
                assert worker.process.poll() is None, worker.log.read_text(errors="replace")[-3000:]
            return signal_file.exists()

        wait_for(seen, "a load paused after staging")
        _, host, _, load_id = signal_file.read_text(encoding="utf-8").split()
        return host, int(load_id)

    def release(self) -> None:
        (self.tmp / "paused.release").write_text("", encoding="utf-8")

    def get(self, app: int, path: str) -> Any:
        answer = requests.get(self.apps[app] + path, headers=bearer(self.steward), timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def upload(self, app: int, path: Path, dataset: str = UPLOADED) -> str:
        with path.open("rb") as handle:
            answer = requests.post(f"{self.apps[app]}/api/v1/datasets/{dataset}/uploads", headers=bearer(self.steward),
                                   files={"file": (path.name, handle)}, timeout=60)
        assert answer.status_code == 202, answer.text
        return answer.headers["Location"]

    def served(self, dataset: str) -> list[tuple[int, int]]:
        """(version, total) as each app server answers."""
        pages = [self.get(app, f"/api/v1/datasets/{dataset}/records?limit=1") for app in (0, 1)]
        return [(page["version"], page["total"]) for page in pages]

    def load(self, load_id: int) -> dict[str, Any]:
        with self.hub.store.engine.connect() as conn:
            return dict(conn.execute(sa.select(tables.loads).where(tables.loads.c.id == load_id)).one()._mapping)

    def close(self) -> None:
        for process in [w.process for w in self.workers] + self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from tests.conftest import require_postgres

    if os.geteuid() != 0 or not shutil.which("unshare"):
        require("PID and UTS namespaces need root and unshare")  # skipped here, a failure under CI
    require_postgres()
    tmp = tmp_path_factory.mktemp("multi-host")
    source = tmp / "served" / "accommodation.csv"
    source.parent.mkdir()
    shutil.copy(PROJECT_ROOT / "samples" / "accommodation.csv", source)
    files = Files(source.parent)
    catalog = write_catalog(tmp / "catalog")
    raw = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    entry = next(e for e in raw["datasets"] if e["id"] == HARVESTED)
    entry["harvest"] = {"kind": "http", "url": f"{files.url}/accommodation.csv", "format": "csv",
                        "schedule": "* * * * * */10", "timeout": 30}  # every 10 seconds (croniter's sixth field)
    catalog.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    database = PostgresDatabase().create()
    redis_url = redis_db_url()
    settings = dict(database_url=database.url, redis_url=redis_url, storage_dir=tmp / "storage", catalog_path=catalog,
                    secret_key="test-secret", heartbeat_seconds=HEARTBEAT, lease_seconds=LEASE, schedule_seconds=1,
                    log_format="text")
    hub = Hub.open(Settings(**settings), init=True)
    for dataset, path in (("admin-units", PROJECT_ROOT / "samples" / "admin-units.geojson"),
                          (UPLOADED, travel_agencies_csv(tmp / "v1.csv", 100))):
        assert pipeline.run(hub.store, dataset, path, user="tests").status == "committed"
    env = {**hub_env(**settings), "PAUSE_ARMED": str(tmp / "armed")}
    ports = free_ports(2)
    made = Cluster(tmp, env, hub, [f"http://127.0.0.1:{p}" for p in ports], api_key(hub, "steward"), source)
    try:
        for name, port in zip("ab", ports, strict=True):
            with (tmp / f"app-{name}.log").open("ab") as out:
                made.processes.append(subprocess.Popen(
                    [sys.executable, "-m", "hub", "serve", "--port", str(port), "--workers", "1"], env=env, cwd=tmp,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        made.ensure_two_workers()
        for app in (0, 1):
            wait_for(lambda app=app: _ready(made.apps[app]), f"app server {'AB'[app]} ready")
        # the workers' first due tick harvests the source once
        wait_for(lambda: hub.store.current_version(HARVESTED) == 1, "the first harvest", every=0.5)
        yield made
    finally:
        made.close()
        files.stop()
        hub.store.dispose()
        database.drop()
        flush_redis(redis_url)


def _ready(base: str) -> bool:
    try:
        return requests.get(f"{base}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _job(cluster: Cluster, app: int, location: str) -> dict[str, Any]:
    return cluster.get(app, location)  # an app server reading a job also reaps dead ones (hub/jobs.py)


def test_worker_killed_mid_load_on_host_a_is_recovered_by_b(cluster: Cluster) -> None:
    cluster.ensure_two_workers()
    [(version, total)] = set(cluster.served(UPLOADED))
    cluster.arm()
    location = cluster.upload(0, travel_agencies_csv(cluster.tmp / "killed.csv", 3000, start=500_000))
    host, load_id = cluster.paused()
    running = cluster.load(load_id)
    assert running["status"] == "running" and running["host"] == host
    assert running["pid_ns"] != leases.Identity.current().pid_ns  # a PID of its own namespace
    assert _job(cluster, 1, location)["status"] == "running"

    cluster.kill(host)
    killed_at = utcnow()
    assert set(cluster.served(UPLOADED)) == {(version, total)}  # nothing of the killed load is seen
    job = wait_for(lambda: (j := _job(cluster, 1, location))["status"] == "failed" and j, "the job marked failed")
    assert job["error"]["code"] == "worker-died" and job["worker"].startswith(f"{host}:")
    failed = wait_for(lambda: (row := cluster.load(load_id))["status"] == "failed" and row, "the load marked failed")
    assert failed["finished_at"] >= killed_at  # only after the kill, once the heartbeat was stale
    # its job's heartbeat (or its own) went stale first: a lease, give or take the beat between the two
    assert failed["finished_at"] - failed["heartbeat_at"] >= LEASE_DELTA - timedelta(seconds=HEARTBEAT)
    assert set(cluster.served(UPLOADED)) == {(version, total)}

    # the surviving worker takes the next upload, sent through app server B
    location = cluster.upload(1, travel_agencies_csv(cluster.tmp / "after.csv", total + 20))
    job = wait_for(lambda: (j := _job(cluster, 1, location))["status"] in ("finished", "failed") and j, "the new load")
    assert job["status"] == "finished" and job["result"]["status"] == "committed", job
    assert not job["worker"].startswith(f"{host}:")
    assert set(cluster.served(UPLOADED)) == {(version + 1, total + 20)}


def test_live_loads_elsewhere_are_never_failed(cluster: Cluster) -> None:
    """Two loads paused at once, one in each worker (another host; another PID namespace of this machine),
    for three leases, while everyone else runs recovery: neither is marked failed; released, both commit."""
    cluster.ensure_two_workers()
    [(version, total)] = set(cluster.served(UPLOADED))
    venues = cluster.hub.store.current_version("sports-venues") or 0
    cluster.arm()
    locations = [cluster.upload(0, travel_agencies_csv(cluster.tmp / "slow.csv", total + 30))]
    paused = [cluster.paused()]
    cluster.arm()  # the first worker is busy with the paused load: the other one takes the second
    locations.append(cluster.upload(1, PROJECT_ROOT / "samples" / "sports-venues.csv", dataset="sports-venues"))
    paused.append(cluster.paused())
    assert {host for host, _ in paused} == {w.host for w in cluster.workers}  # one load in each
    both_paused = utcnow()
    beats: set[Any] = set()

    def three_leases_later() -> bool:
        # meanwhile: the other worker's recovery pass every second, both app servers reaping on each job read,
        # and this process's own recovery must all leave the loads alone
        assert cluster.hub.store.recover_interrupted_loads() == 0
        for app in (0, 1):
            for location in locations:
                assert _job(cluster, app, location)["status"] == "running"
        rows = [cluster.load(load_id) for _, load_id in paused]
        assert [row["status"] for row in rows] == ["running", "running"], rows
        beats.update(row["heartbeat_at"] for row in rows)
        return min(row["heartbeat_at"] for row in rows) - both_paused > 3 * LEASE_DELTA

    wait_for(three_leases_later, "loads running for three leases", every=0.5)
    assert len(beats) > 6  # they beat all along
    assert set(cluster.served(UPLOADED)) == {(version, total)}

    cluster.release()
    for location, (host, load_id) in zip(locations, paused, strict=True):
        job = wait_for(lambda location=location: (j := _job(cluster, 1, location))["status"] in ("finished", "failed")
                       and j, "the load")
        assert job["status"] == "finished" and job["result"]["status"] == "committed", job
        assert job["worker"].startswith(f"{host}:")
        committed = cluster.load(load_id)
        assert committed["status"] == "committed" and committed["error"] is None
    assert set(cluster.served(UPLOADED)) == {(version + 1, total + 30)}
    assert cluster.hub.store.current_version("sports-venues") == venues + 1


def test_a_due_harvest_runs_once_and_a_killed_one_is_taken_over_after_its_lease(cluster: Cluster) -> None:
    cluster.ensure_two_workers()
    store = cluster.hub.store
    task = f"harvest:{HARVESTED}"
    [(version, total)] = set(cluster.served(HARVESTED))
    with store.engine.connect() as conn:
        loads = conn.execute(sa.select(tables.loads.c.status).where(tables.loads.c.dataset == HARVESTED)).scalars().all()
    assert loads == ["committed"]  # one version for all the due runs so far (the first loaded, the rest unchanged)
    slots = schedule.claims_of(store, task)
    assert slots and all(s["attempts"] == 1 for s in slots)  # each due run claimed once, by one worker
    assert len(_attempts(cluster)) <= len(slots)  # and run at most once

    # the source changes; the worker that harvests it is killed in the middle of the load
    cluster.arm()
    lines = cluster.source.read_text(encoding="utf-8").splitlines()
    lines[1:] = [line.replace("Khách sạn", "Khách sạn Mới", 1) for line in lines[1:]]
    cluster.source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(cluster.source, (later, later))  # a Last-Modified the conditional request cannot mistake
    host, load_id = cluster.paused()
    [attempt] = [a for a in _attempts(cluster) if a["status"] == "running"]
    assert attempt["worker"].startswith(f"{host}:")
    cluster.kill(host)
    lock = next(c for c in schedule.claims_of(store, f"harvest-run:{HARVESTED}"))
    assert lock["status"] == "running" and lock["worker"] == attempt["worker"]  # A's lease, no longer renewed

    failed = wait_for(lambda: (row := cluster.load(load_id))["status"] == "failed" and row, "the load marked failed")
    assert failed["host"] == host
    after = wait_for(lambda: [a for a in _attempts(cluster) if a["id"] > attempt["id"] and a["status"] == "committed"],
                     "the next run")
    assert after[0]["started_at"] > lock["lease_until"]  # waited out A's lease, not broken early
    assert not after[0]["worker"].startswith(f"{host}:")
    killed = next(a for a in _attempts(cluster) if a["id"] == attempt["id"])
    assert killed["status"] == "failed" and "stopped before it finished" in killed["error_en"]
    assert set(cluster.served(HARVESTED)) == {(version + 1, total)}
    page = cluster.get(0, f"/api/v1/datasets/{HARVESTED}/records?name__contains=Mới&limit=1")
    assert page["total"] > 0


def _attempts(cluster: Cluster) -> list[dict[str, Any]]:
    with cluster.hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(harvests).where(harvests.c.dataset == HARVESTED).order_by(harvests.c.id))
        return [dict(r._mapping) for r in rows]

