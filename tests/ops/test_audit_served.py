"""The audit log through the real server (`hub serve`: gunicorn, 2 workers × 4 threads) on both backends: every
keyed request, answered from the answer cache or not, has its entry, in one chain that verifies; a graceful stop
and a crash of the server mid-burst leave no answered request without its entry; the rate limit still refuses
at its limit (and the refusals are audited). Entries are committed before the answer is sent
(publish/audit_writer.py), so there is nothing queued to lose."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from publish import audit, clients
from publish.context import Hub
from tests.conftest import samples_copy
from tests.hub_copies import Templates
from tests.ops.conftest import bearer, flush_redis, hub_env, redis_db_url, wait_for
from tests.ops.stack import free_ports

DATASET = "heritage-sites"


@dataclass
class Served:
    hub: Hub
    base: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def entries(self, tag: str) -> list[dict]:
        return [e for e in audit.entries(self.hub.store, client="so-xay-dung", limit=1_000_000)
                if (e["request_id"] or "").startswith(tag)]


def _serve(hub: Hub, tmp: Path, rate_limit: int, redis_url: str | None) -> Served:
    clients.create_client(hub.store, "so-xay-dung")
    token = clients.issue_key(hub.store, "so-xay-dung").token
    s = hub.settings
    env = hub_env(database_url=s.database_url, storage_dir=s.storage_dir, secret_key=s.secret_key,
                  catalog_path=s.catalog_path, rate_limit=rate_limit, redis_url=redis_url, workers=2, threads=4,
                  log_format="text")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp / "metrics")
    (port,) = free_ports(1)
    log = tmp / "web.log"
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", str(port)], env=env, cwd=tmp,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(hub, f"http://127.0.0.1:{port}", token, process, log)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"hub serve exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            return requests.get(f"{served.base}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_for(ready, "hub serve ready", timeout=120)
    return served


@pytest.fixture
def serve(backend: str, tmp_path: Path, templates: Templates) -> Iterator[Callable[..., Served]]:
    """Start `hub serve` on a hub of the test's own with every sample."""
    copy = samples_copy(templates, backend, tmp_path)
    started: list[Served] = []

    def start(rate_limit: int = 100_000, redis_url: str | None = None) -> Served:
        started.append(_serve(copy.hub, tmp_path, rate_limit, redis_url))
        return started[-1]

    try:
        yield start
    finally:
        for made in started:
            if made.process.poll() is None:
                os.killpg(made.process.pid, signal.SIGKILL)  # its own session: only what it started
                made.process.wait(30)
        copy.close()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve()


def _burst(served: Served, tag: str, threads: int, each: int, stop: threading.Event | None = None) -> dict[str, int]:
    """`threads` clients each sending `each` keyed requests, half the same page (the answer cache's after the
    first) and half pages of their own (not cached); request id -> status (0: no answer: the server was gone)."""
    sent: dict[str, int] = {}
    lock = threading.Lock()

    def client(n: int) -> None:
        session = requests.Session()
        for i in range(each):
            if stop is not None and stop.is_set():
                return
            request_id = f"{tag}-{n}-{i}"
            limit = 5 if i % 2 else 10 + n * each + i
            try:
                status = session.get(f"{served.base}/api/v1/datasets/{DATASET}/records?limit={limit}", timeout=60,
                                     headers={**bearer(served.token), "X-Request-ID": request_id}).status_code
            except requests.RequestException:
                status = 0
            with lock:
                sent[request_id] = status

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    return sent


def test_every_keyed_request_through_the_server_has_its_entry_in_one_chain(served: Served) -> None:
    tag = uuid.uuid4().hex[:8]
    sent = _burst(served, tag, threads=12, each=15)
    assert set(sent.values()) == {200}
    logged = served.entries(tag)
    assert sorted(e["request_id"] for e in logged) == sorted(sent)  # every one, none twice
    assert all(e["status"] == 200 and e["dataset"] == DATASET for e in logged)
    result = audit.verify(served.hub.store)
    assert result.ok and result.append_only


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["graceful-stop", "crash"])
def test_a_server_stopped_mid_burst_leaves_no_answer_without_its_entry(served: Served, how: signal.Signals) -> None:
    tag = uuid.uuid4().hex[:8]
    stop = threading.Event()
    result: dict[str, int] = {}
    burst = threading.Thread(target=lambda: result.update(_burst(served, tag, threads=8, each=10_000, stop=stop)))
    burst.start()
    wait_for(lambda: len(served.entries(tag)) >= 40, "requests under way", timeout=120, every=0.1)
    if how == signal.SIGTERM:
        served.process.send_signal(signal.SIGTERM)  # gunicorn: requests in flight finish, then the workers exit
        assert served.process.wait(60) == 0
    else:
        os.killpg(served.process.pid, signal.SIGKILL)  # master and workers at once, mid-write
        served.process.wait(30)
    stop.set()
    burst.join(120)
    answered = {r for r, status in result.items() if status == 200}
    logged = {e["request_id"] for e in served.entries(tag)}
    assert len(answered) >= 40 - 8  # 40 committed when stopped; at most one per client was not answered yet
    assert answered <= logged  # no answer was sent without its entry committed
    assert logged <= set(result)  # and no entry for a request never sent
    assert len(logged) - len(answered) <= 8  # at most one per client: committed, then the server was gone
    verified = audit.verify(served.hub.store)
    assert verified.ok and verified.append_only


def test_the_rate_limit_still_refuses_at_its_limit_and_refusals_are_audited(serve: Callable[..., Served]) -> None:
    redis_url = redis_db_url()  # shared by the server's workers, as in production
    served = serve(rate_limit=6, redis_url=redis_url)
    tag = uuid.uuid4().hex[:8]
    statuses = [requests.get(f"{served.base}/api/v1/datasets/{DATASET}/records?limit=5", timeout=30,
                             headers={**bearer(served.token), "X-Request-ID": f"{tag}-{i}"}).status_code
                for i in range(9)]
    flush_redis(redis_url)
    assert statuses == [200] * 6 + [429] * 3
    logged = sorted(served.entries(tag), key=lambda e: e["id"])
    assert [e["status"] for e in logged] == statuses  # the refused requests presented a key: audited too
    assert audit.verify(served.hub.store).ok
