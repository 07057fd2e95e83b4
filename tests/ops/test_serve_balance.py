"""`hub serve`'s workers share a burst of keep-alive clients: 16 connections opened at once against two
workers of one thread each end up spread over both (gunicorn's own gthread worker left 13 or 15 of them on one
in some runs; hub/gthread.py). Which worker holds a connection is read from the kernel's socket table (/proc)."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import hub_env, wait_for
from tests.ops.stack import free_ports

CLIENTS = 16
REQUESTS_EACH = 20


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _server_inodes(port: int) -> dict[int, int]:
    """client port -> inode of the server's end of that connection (established on 127.0.0.1:`port`)."""
    out = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote, state, inode = parts[1], parts[2], parts[3], int(parts[9])
        if state == "01" and int(local.split(":")[1], 16) == port:
            out[int(remote.split(":")[1], 16)] = inode
    return out


def _owner(inode: int, pids: list[int]) -> int | None:
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if re.fullmatch(rf"socket:\[{inode}\]", str(fd.readlink())):
                    return pid
            except OSError:
                continue
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc socket table")
def test_a_burst_of_keep_alive_clients_is_served_by_both_workers(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    env = hub_env(database_url=f"sqlite:///{tmp_path / 'hub.db'}", storage_dir=str(tmp_path / "storage"),
                  workers=2, threads=1, log_level="WARNING", redis_url="")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    log = tmp_path / "web.log"
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", str(port)], env=env, cwd=tmp_path,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def up() -> list[int] | None:
            if server.poll() is not None:
                raise AssertionError(f"hub serve exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except requests.RequestException:
                return None
            pids = _children(server.pid)
            return pids if len(pids) == 2 else None

        workers = wait_for(up, "hub serve with two workers", timeout=120)
        seen: set[int | None] = set()

        def both_accepting() -> bool:  # a worker just forked may not be accepting yet: one connection at a time
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            seen.add(_owner(_server_inodes(port)[conn.sock.getsockname()[1]], workers))
            conn.close()
            return seen >= set(workers)

        wait_for(both_accepting, "both workers accepting", timeout=60, every=0.05)
        start = threading.Barrier(CLIENTS)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(CLIENTS)]
        statuses: list[int] = []

        def client(conn: http.client.HTTPConnection) -> None:
            start.wait()
            for _ in range(REQUESTS_EACH):  # one connection, kept alive
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)

        threads = [threading.Thread(target=client, args=(c,)) for c in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert statuses == [200] * CLIENTS * REQUESTS_EACH
        inodes = _server_inodes(port)
        held = Counter(_owner(inodes[conn.sock.getsockname()[1]], workers) for conn in connections)
        for conn in connections:
            conn.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert set(held) == set(workers), held
    assert min(held.values()) >= CLIENTS // 4, held  # each worker holds a share, not one or two connections
