"""The slow tail under re-ingests (issue 16): API p99 while the dataset is loaded again and again, beside p99
without loads, on each backend.

The hub is served as in production (`hub serve --workers 2`: deploy/gunicorn.conf.py, worker recycling
included; warmed by a 3-second wrk run first) with a department's key, so every request resolves the key, writes its audit entry and may record
the key's last use. wrk calls the page of 100 for `duration` seconds twice per round: once quiet, once while a
second process re-ingests the dataset back to back (each load a new version: every 50th row renamed, then
back), as `hub worker` runs an office's monthly file. The figure is p99 with re-ingests / p99 quiet (goal: at
most 2); wrk's slowest request and the loads made are kept beside it.

    python -m bench.soak --rows 20000 --duration 15 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.proc import ROOT, Server, free_port, http_get, median
from bench.stores import DATASET, HubStore, prepare, write_source

__all__ = ["run"]

EDIT_EVERY = 50
GOAL = 2.0  # p99 under re-ingests at most this many times p99 without


def _max_ms(text: str) -> float | None:
    """wrk's slowest request (the Max column of its Latency line), in ms."""
    m = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\b", text)
    if not m:
        return None
    return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[m.group(2)], 1)


def _wrk(url: str, headers: dict[str, str], duration: int, connections: int) -> dict[str, Any]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 60, check=True)
    from bench.api import parse_wrk

    figures = parse_wrk(done.stdout)
    figures["max_ms"] = _max_ms(done.stdout)
    return figures


def reingest(url: str, source: str, stop: str) -> dict[str, Any]:
    """Load `source` into the store at `url` again and again until the file `stop` exists (a child process)."""
    from bench.load import _open_store, edited_frames, typed_frames
    from publish.loads import Loader

    store = _open_store(url)
    dataset = store.catalog.dataset(DATASET)
    plain = typed_frames(Path(source))
    edited = edited_frames(plain, edit_every=EDIT_EVERY)
    seconds: list[float] = []
    print(json.dumps({"ready": True}), flush=True)  # the parent starts wrk now
    while not Path(stop).exists():
        frames = edited if len(seconds) % 2 == 0 else plain
        start, began = time.perf_counter(), time.time()
        with Loader(store, dataset, {"source_name": "soak.csv", "created_by": "bench"}) as loader:
            for frame in frames:
                loader.stage(frame)
            committing = time.time()
            loader.commit(rows_read=sum(len(f) for f in frames))
        seconds.append(time.perf_counter() - start)
        # when each load began, started its commit and ended (epoch seconds): to match slow requests in the log
        print(json.dumps({"load": len(seconds), "began": began, "commit": committing, "ended": time.time()}),
              flush=True)
    store.dispose()
    return {"loads": len(seconds), "load_seconds": round(median(seconds) or 0, 2)}


class Reingests:
    """The re-ingesting process, started and stopped around one wrk run."""

    def __init__(self, work: Path, store: HubStore, source: Path) -> None:
        self.stop_file = work / f"stop-{os.getpid()}-{time.monotonic_ns()}"
        spec = json.dumps({"url": store.url, "source": str(source), "stop": str(self.stop_file)})
        self.log = work / f"reingest-{store.backend.lower()}.out"
        self.out = self.log.open("a+")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.soak", "--child", spec], stdout=self.out,
                                     stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
        deadline = time.monotonic() + 300
        while '"ready"' not in self.log.read_text() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the re-ingesting process exited ({self.proc.returncode}) before it was ready")
            time.sleep(0.2)

    def finish(self) -> dict[str, Any]:
        self.stop_file.touch()
        try:
            self.proc.wait(timeout=600)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.stop_file.unlink(missing_ok=True)
        self.out.seek(0)
        lines = [json.loads(line) for line in self.out.read().splitlines() if line.startswith("{")]
        lines = lines[max((i for i, x in enumerate(lines) if "ready" in x), default=0):]  # this run's
        self.out.close()
        summary = next((x for x in reversed(lines) if "loads" in x), {"loads": None})
        return {**summary, "each": [x for x in lines if "load" in x]}


def run(work: Path, source: Path, stores: list[HubStore], *, runs: int = 1, duration: int = 15,
        connections: int = 16, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Per backend: p50, p99 and the slowest request quiet and under re-ingests (medians over `runs` rounds),
    and the p99 ratio."""
    out: dict[str, Any] = {"rows": stores[0].rows if stores else None, "duration": duration,
                           "connections": connections, "runs": runs, "goal": GOAL, "backends": {}}
    env = {"HUB_RATE_LIMIT": "1000000000", "HUB_STORAGE_DIR": str(work / "storage"), "HUB_LOG_LEVEL": "INFO",
           "HUB_SECRET_KEY": "bench-only-secret-key-not-for-production", "HUB_REDIS_URL": ""}
    for store in stores:
        port = free_port()
        server = Server(f"hub ({store.backend})", [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1",
                                                   "--port", str(port), "--workers", "2"], port,
                        {**env, "HUB_DATABASE_URL": store.url}, work / f"soak-{store.backend.lower()}.log")
        headers = {"Authorization": f"Bearer {store.token}"}
        url = f"http://127.0.0.1:{port}/api/v1/datasets/{DATASET}/records?limit=100"
        quiet: list[dict[str, Any]] = []
        busy: list[dict[str, Any]] = []
        loads: list[dict[str, Any]] = []
        try:
            server.start(f"http://127.0.0.1:{port}/healthz")
            status, _ = http_get(url, headers=headers)
            if status != 200:
                raise RuntimeError(f"hub ({store.backend}): HTTP {status} for {url}")
            _wrk(url, headers, 3, connections)  # not counted: every worker thread's connections and caches warm
            for round_ in range(runs):
                quiet.append(_wrk(url, headers, duration, connections))
                reingests = Reingests(work, store, source)
                try:
                    busy.append(_wrk(url, headers, duration, connections))
                finally:
                    loads.append(reingests.finish())
                q, b = quiet[-1], busy[-1]
                log(f"  round {round_ + 1}/{runs} hub ({store.backend}): quiet p99 {q.get('p99_ms')} ms "
                    f"(max {q.get('max_ms')}), re-ingesting p99 {b.get('p99_ms')} ms (max {b.get('max_ms')}), "
                    f"{loads[-1].get('loads')} loads of {loads[-1].get('load_seconds')} s")
        finally:
            server.stop()
        entry: dict[str, Any] = {}
        for name, samples in (("quiet", quiet), ("reingesting", busy)):
            entry[name] = {key: median(s.get(key) for s in samples) for key in ("rps", "p50_ms", "p99_ms", "max_ms")}
            entry[name]["non_2xx"] = sum(s.get("non_2xx", 0) for s in samples)
        entry["loads"] = sum(x.get("loads") or 0 for x in loads)
        entry["load_seconds"] = median(x.get("load_seconds") for x in loads)
        q99, b99 = entry["quiet"]["p99_ms"], entry["reingesting"]["p99_ms"]
        entry["p99_ratio"] = round(b99 / q99, 2) if q99 and b99 else None
        out["backends"][store.backend] = entry
    return out


def render(soak: dict[str, Any]) -> list[str]:
    """Lines for the table: one per backend."""
    lines = [f"API p99 under re-ingests (page of 100, {soak.get('rows') or 0:,} rows, {soak['connections']} connections, "
             f"{soak['duration']} s per wrk run, {soak['runs']} round(s); goal: ratio ≤ {soak['goal']:g})",
             f"  {'':<12}{'quiet p50/p99/max ms':>26}{'re-ingesting p50/p99/max ms':>32}{'loads':>7}{'ratio':>8}"]
    for backend, e in soak["backends"].items():
        q, b = e["quiet"], e["reingesting"]
        cell = lambda x: f"{x.get('p50_ms') or 0:.0f} / {x.get('p99_ms') or 0:.0f} / {x.get('max_ms') or 0:.0f}"  # noqa: E731
        ratio = e.get("p99_ratio")
        mark = "" if ratio is None else (" ✓" if ratio <= soak["goal"] else " ✗")
        lines.append(f"  {backend:<12}{cell(q):>26}{cell(b):>32}{e['loads']:>7}{(ratio or 0):>7.2f}{mark}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backends", default="PostGIS,SpatiaLite")
    parser.add_argument("--workdir", type=Path, help="keep the stores, the servers' logs (one JSON line per request, "
                        "with its duration) and the re-ingest's output here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(reingest(spec["url"], spec["source"], spec["stop"])), flush=True)
        return 0
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        try:
            source = write_source(work / "soak-source.csv", args.rows)
            stores = prepare(work, source, args.rows, tuple(args.backends.split(",")), key=True,
                             log=lambda m: print(m, file=sys.stderr), cleanup=cleanup)
            soak = run(work, source, stores, runs=args.runs, duration=args.duration, connections=args.connections,
                       log=lambda m: print(m, file=sys.stderr, flush=True))
        finally:
            for step in reversed(cleanup):
                step()
    print("\n".join(render(soak)))
    print(json.dumps(soak))
    return 0


if __name__ == "__main__":
    sys.exit(main())
