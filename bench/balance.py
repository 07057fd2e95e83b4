"""How `hub serve`'s workers share a burst of keep-alive connections: wrk on the hot keyed page of 100 (the API
section's headline), and for each worker process the connections it holds and the requests it answered,
beside p50/p99. Variants of the gunicorn settings run in turn, round after round, so a change in the shared
machine's load falls on all of them alike.

    python -m bench.balance                                   # the shipped settings, PostGIS, 20,000 rows
    python -m bench.balance --variant wc16=worker_connections=16 --variant t8=HUB_THREADS=8 --runs 3

A variant is NAME=SETTING[,SETTING...]: `HUB_*=value` is an environment variable of the server, anything else
a gunicorn setting applied after deploy/gunicorn.conf.py (a Python literal: `reuse_port=True`). The server is
started as bench/api.py starts it (`hub serve --workers 2`, a department's key, the rate limit raised).

Connections per worker come from `ss` (the worker pid owning each established socket on the port, sampled
every half second; the figure is the most a worker held); requests per worker from the hub's own request
counter, kept per process in PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.api import hub_server, wrk
from bench.proc import ROOT, load_average
from bench.stores import DATASET, HubStore, prepare, write_source

__all__ = ["run"]

PAGE = f"/api/v1/datasets/{DATASET}/records?limit=100"
SHIPPED = ("shipped", {})


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, settings = text.partition("=")
    pairs = dict(part.split("=", 1) for part in settings.split(",") if part)
    return name, pairs


def _config(work: Path, name: str, settings: dict[str, str]) -> Path:
    """deploy/gunicorn.conf.py, then this variant's gunicorn settings."""
    path = work / f"gunicorn-{name}.conf.py"
    lines = [f"exec(compile(open({str(ROOT / 'deploy' / 'gunicorn.conf.py')!r}).read(), 'gunicorn.conf.py', 'exec'))"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def connections_by_pid(port: int) -> Counter[int]:
    """Established sockets on the server's port, by the pid that owns each."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                         text=True, check=True).stdout
    return Counter(int(m.group(1)) for m in re.finditer(r"pid=(\d+)", out))


def requests_by_pid(metrics_dir: Path) -> dict[int, float]:
    """hub_http_requests per worker process, from its counter file (prometheus_client's multiprocess mode)."""
    from prometheus_client.mmap_dict import MmapedDict

    out: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        total = 0.0
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            metric, sample, *_ = json.loads(key)
            if metric == "hub_http_requests" and sample.endswith("_total"):
                total += value
        out[pid] = total
    return out


def _both_workers(master: int, workers: int = 2) -> list[int]:
    """The worker pids once every worker is up: the first answers /healthz before the second has forked, and
    a burst then would all go to the first."""
    deadline = time.monotonic() + 60
    while len(pids := worker_pids(master)) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the last one forked: let it reach its accept loop
    return pids


def _sample(port: int, pids: list[int], stop: threading.Event, most: dict[int, int]) -> None:
    while not stop.wait(0.5):
        held = connections_by_pid(port)
        for pid in pids:
            most[pid] = max(most.get(pid, 0), held.get(pid, 0))


def measure(work: Path, store: HubStore, name: str, settings: dict[str, str], *, round_: int, duration: int,
            connections: int) -> dict[str, Any]:
    env = {k: v for k, v in settings.items() if k.startswith("HUB_")}
    gunicorn = {k: v for k, v in settings.items() if not k.startswith("HUB_")}
    metrics = work / f"metrics-{name}-{round_}"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    server = hub_server(work, store, f"hub {name}", **env)
    server.argv += ["--config", str(_config(work, name, gunicorn))]
    headers = {"Authorization": f"Bearer {store.token}"}
    base = f"http://127.0.0.1:{server.port}"
    server.start(f"{base}/healthz")
    try:
        pids = _both_workers(server.proc.pid)  # type: ignore[union-attr]
        before = requests_by_pid(metrics)
        most: dict[int, int] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(server.port, pids, stop, most), daemon=True)
        sampler.start()
        figures = wrk(base + PAGE, headers=headers, duration=duration, connections=connections)
        stop.set()
        sampler.join()
        after = requests_by_pid(metrics)
    finally:
        server.stop()
    served = {pid: after.get(pid, 0) - before.get(pid, 0) for pid in pids}
    return {**figures, "workers": [{"pid": pid, "connections": most.get(pid, 0), "requests": int(served[pid])}
                                   for pid in pids]}


def _say(log: Callable[[str], None], name: str, figures: dict[str, Any]) -> None:
    workers = figures["workers"]
    total = sum(w["requests"] for w in workers) or 1
    shares = " / ".join(f"{w['connections']} conn {100 * w['requests'] / total:.0f}%" for w in workers)
    log(f"  {name:<12} {figures.get('rps', 0):7.1f} req/s  p50 {figures.get('p50_ms', 0):6.1f} ms  "
        f"p99 {figures.get('p99_ms', 0):7.1f} ms  workers: {shares}"
        + (f"  socket errors {figures['socket_errors']}" if figures.get("socket_errors") else "")
        + (f"  non-2xx {figures['non_2xx']}" if figures.get("non_2xx") else ""))


def run(work: Path, store: HubStore, variants: list[tuple[str, dict[str, str]]], *, runs: int, duration: int,
        connections: int, log: Callable[[str], None] = print) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    for round_ in range(runs):
        for name, settings in variants:
            figures = measure(work, store, name, settings, round_=round_, duration=duration, connections=connections)
            results[name].append(figures)
            _say(log, name, figures)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.balance", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--backend", choices=("PostGIS", "SpatiaLite"), default="PostGIS")
    parser.add_argument("--variant", action="append", default=[], type=parse_variant,
                        help="NAME=SETTING[,SETTING...]; the shipped settings always run first")
    args = parser.parse_args(argv)
    cleanup: list[Callable[[], None]] = []
    print(f"load average at start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-balance-") as tmp:
        work = Path(tmp)
        source = write_source(work / "source.csv", args.rows)
        try:
            stores = prepare(work, source, args.rows, (args.backend,), key=True, log=print, cleanup=cleanup)
            print(f"wrk -c{args.connections} -d{args.duration}s on {PAGE} (a department's key), {args.backend}, "
                  f"{args.rows:,} rows")
            results = run(work, stores[0], [SHIPPED, *args.variant], runs=args.runs, duration=args.duration,
                          connections=args.connections)
        finally:
            for step in cleanup:
                step()
    print(f"load average at end: {load_average()}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
