"""The records endpoint under load (wrk), served by the hub on PostGIS and on SpatiaLite, beside Datasette and a
bare Flask + SQLAlchemy endpoint, all holding the same rows.

- hub: `hub serve --workers 2` (gunicorn, the production configuration in deploy/gunicorn.conf.py) with a
  department's API key in `Authorization: Bearer`, so key resolution, access control, personal-data
  filtering, the audit log and the rate limiter all run on every request. The rate limit is raised
  (HUB_RATE_LIMIT) so that it counts but never refuses: wrk's thousands of requests a minute from one
  client would otherwise be 429s, which is the limiter working, not the endpoint.
- Datasette: `datasette serve DB --setting suggest_facets off` (its own process model: one async process).
- bare: bench/bare_app.py under gunicorn, 2 sync workers: the same 100 rows and nothing else.

Every target is up at once and the runs go round the targets in turn, so a change in the machine's load
falls on all of them alike. Each endpoint is called once first (status, row count checked; not timed).

    python -m bench.api --rows 20000 --duration 3 --runs 1
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.proc import POSTGRES_URL, Server, free_port, http_get, median
from bench.stores import DATASET, HubStore, prepare, write_source

__all__ = ["ENDPOINTS", "run", "wrk"]

CSV_ROWS = 10_000
# endpoint name -> what it is, in the table's words
ENDPOINTS = {
    "page": "page of 100 (JSON)",
    "filtered": "filtered page of 100",  # type=khach_san: about a third of the rows
    "record": "one record by key",
    "csv": f"CSV of {CSV_ROWS:,} rows",
}
# A 10,000-row answer takes a good part of a second: at 32 connections a 10-second run finishes few or none
# (Datasette serves them one after another), so the CSV runs use 4 connections, at least 10 seconds; what is
# compared is rows per second.
CSV_MIN_SECONDS = 10
CSV_CONNECTIONS = 4


@dataclass
class Target:
    name: str
    server: Server
    ready: str
    paths: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, endpoint: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{self.paths[endpoint]}"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(text: str) -> dict[str, Any]:
    """Requests/second, p50/p99 in ms, requests, non-2xx answers and socket errors from wrk --latency."""
    out: dict[str, Any] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        out["rps"] = float(m.group(1))
    for pct in ("50", "75", "90", "99"):
        if m := re.search(rf"^\s+{pct}%\s+([\d.]+[a-z]+)", text, re.M):
            out[f"p{pct}_ms"] = round(_ms(m.group(1)), 2)
    if m := re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", text):
        out["requests"] = int(m.group(1))
        out["read"] = m.group(3)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    out["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    out["timeouts"] = int(m.group(4)) if m else 0
    return out


def wrk(url: str, *, headers: dict[str, str] | None = None, duration: int = 10, connections: int = 32,
        threads: int = 2) -> dict[str, Any]:
    """`wrk -t2 -c32 -d10s --latency` on `url` (timeout 30 s, so slow answers count in the latency, not
    as errors)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 60, check=True)
    return parse_wrk(done.stdout)


def _check(target: Target, endpoint: str, record_key: str) -> int:
    """Call an endpoint once (warms the workers too); the rows it returned, or an error naming the answer."""
    status, body = http_get(target.url(endpoint), headers=target.headers)
    if status != 200:
        raise RuntimeError(f"{target.name} {endpoint}: HTTP {status}: {body[:300]!r}")
    if endpoint == "csv":
        return body.count(b"\n") - 1
    data = json.loads(body)
    if endpoint == "record":
        record = data if "code" in data else dict(zip(data.get("columns", []), (data.get("rows") or [[]])[0], strict=False))
        if record.get("code") != record_key:
            raise RuntimeError(f"{target.name} record: expected {record_key}, got {str(data)[:300]}")
        return 1
    rows = data.get("records", data.get("rows"))
    return len(rows or [])


def _targets(work: Path, source: Path, rows: int, stores: list[HubStore], log: Callable[[str], None]) -> list[Target]:
    from bench.peers import datasette_bin
    from bench.proc import call

    with source.open(encoding="utf-8") as handle:  # the schema's field names, as bench/load.py wrote them
        fields = handle.readline().strip().split(",")

    record_key = f"LT-{rows // 2:07d}"
    csv_last = f"LT-{CSV_ROWS:07d}"
    hub_paths = {
        "page": f"/api/v1/datasets/{DATASET}/records?limit=100",
        "filtered": f"/api/v1/datasets/{DATASET}/records?type=khach_san&limit=100",
        "record": f"/api/v1/datasets/{DATASET}/records/{record_key}",
        "csv": f"/api/v1/datasets/{DATASET}/records?format=csv&limit={CSV_ROWS}",
    }
    hub_env = {"HUB_RATE_LIMIT": "1000000000", "HUB_STORAGE_DIR": str(work / "storage"), "HUB_LOG_LEVEL": "INFO",
               "HUB_SECRET_KEY": "bench-only-secret-key-not-for-production", "HUB_REDIS_URL": ""}
    targets: list[Target] = []
    for store in stores:
        backend = store.backend
        port = free_port()
        server = Server(f"hub ({backend})", [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1", "--port",
                                             str(port), "--workers", "2"], port,
                        {**hub_env, "HUB_DATABASE_URL": store.url}, work / f"hub-{backend.lower()}.log")
        targets.append(Target(f"hub ({backend})", server, "/healthz", hub_paths,
                              {"Authorization": f"Bearer {store.token}"}))
        port = free_port()
        # on SQLite the stdlib driver reads the hub's SpatiaLite file as it is (no geometry is selected)
        server = Server(f"bare ({backend})", [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b",
                                              f"127.0.0.1:{port}", "--log-level", "warning", "bench.bare_app:app"],
                        port, {"BARE_DATABASE_URL": store.url, "BARE_DATASET": DATASET, "BARE_FIELDS": ",".join(fields)},
                        work / f"bare-{backend.lower()}.log")
        targets.append(Target(f"bare ({backend})", server, "/records", {"page": "/records"}))
    db = work / "bench.db"
    made = call("bench.steps:datasette_db", source=str(source), out=str(db))
    log(f"  Datasette file: {made['rows']:,} rows in {made['seconds']:.1f} s (setup)")
    port = free_port()
    table = DATASET.replace("-", "_")
    server = Server("Datasette", [str(datasette_bin()), "serve", str(db), "--host", "127.0.0.1", "--port", str(port),
                                  "--setting", "suggest_facets", "off"], port, {}, work / "datasette.log")
    targets.append(Target("Datasette", server, "/-/versions.json", {
        "page": f"/bench/{table}.json?_size=100",
        "filtered": f"/bench/{table}.json?type=khach_san&_size=100",
        "record": f"/bench/{table}/{record_key}.json",
        "csv": f"/bench/{table}.csv?_stream=on&_size=max&code__lte={csv_last}",
    }))
    return targets


def run(work: Path, source: Path, stores: list[HubStore], *, runs: int = 3, duration: int = 10,
        connections: int = 32, headline_only_after: int = 1, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every target's endpoints under wrk; medians per (target, endpoint) and the ratios.

    `stores` hold the rows of `source` (bench.stores.prepare). The page of 100 (the headline) gets `runs`
    rounds; the other endpoints stop after `headline_only_after` rounds (time budget)."""
    rows = stores[0].rows if stores else sum(1 for _ in source.open(encoding="utf-8")) - 1
    cleanup: list[Callable[[], None]] = []
    results: dict[str, dict[str, Any]] = {}
    record_key = f"LT-{rows // 2:07d}"
    try:
        targets = _targets(work, source, rows, stores, log)
        for target in targets:
            cleanup.insert(0, target.server.stop)
            target.server.start(f"http://127.0.0.1:{target.server.port}{target.ready}")
        for target in targets:
            for endpoint in target.paths:
                got = _check(target, endpoint, record_key)
                want = {"page": 100, "filtered": 100, "record": 1, "csv": CSV_ROWS}[endpoint]
                if got != want:
                    raise RuntimeError(f"{target.name} {endpoint}: {got} rows, expected {want}")
        samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for round_ in range(runs):
            for target in targets:
                for endpoint in target.paths:
                    if endpoint != "page" and round_ >= headline_only_after:
                        continue
                    csv = endpoint == "csv"
                    figures = wrk(target.url(endpoint), headers=target.headers,
                                  connections=min(connections, CSV_CONNECTIONS) if csv else connections,
                                  duration=max(duration, CSV_MIN_SECONDS) if csv else duration)
                    samples.setdefault((target.name, endpoint), []).append(figures)
                    log(f"  round {round_ + 1}/{runs} {target.name:<18} {endpoint:<9} {figures.get('rps', 0):8.1f} req/s"
                        f"  p50 {figures.get('p50_ms', 0):7.1f} ms  p99 {figures.get('p99_ms', 0):7.1f} ms"
                        + (f"  non-2xx {figures['non_2xx']}" if figures["non_2xx"] else "")
                        + (f"  socket errors {figures['socket_errors']}" if figures["socket_errors"] else ""))
        for (name, endpoint), runs_ in samples.items():
            entry = {key: median(r.get(key) for r in runs_) for key in ("rps", "p50_ms", "p99_ms")}
            entry["runs"] = len(runs_)
            entry["rps_runs"] = [r.get("rps") for r in runs_]
            entry["non_2xx"] = sum(r["non_2xx"] for r in runs_)
            entry["socket_errors"] = sum(r["socket_errors"] for r in runs_)
            entry["requests"] = sum(r.get("requests", 0) for r in runs_)
            if endpoint == "csv":
                entry["rows_per_second"] = round(entry["rps"] * CSV_ROWS) if entry["rps"] else None
            results.setdefault(name, {})[endpoint] = entry
    finally:
        for step in cleanup:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - cleaning up must go on
                log(f"  cleanup: {exc}")
    return {"rows": rows, "duration": duration, "connections": connections, "runs": runs,
            "other_runs": min(runs, headline_only_after), "postgres": POSTGRES_URL, "targets": results,
            "ratios": ratios(results)}


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    def rps(target: str, endpoint: str) -> float | None:
        return (results.get(target) or {}).get(endpoint, {}).get("rps")

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    out: dict[str, float | None] = {}
    for backend in ("PostGIS", "SpatiaLite"):
        hub = f"hub ({backend})"
        out[f"{hub} / bare ({backend}) page"] = ratio(rps(hub, "page"), rps(f"bare ({backend})", "page"))
        for endpoint in ENDPOINTS:
            out[f"{hub} / Datasette {endpoint}"] = ratio(rps(hub, endpoint), rps("Datasette", endpoint))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    from bench.peers import ensure_peers

    ensure_peers()
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        source = write_source(work / "api-source.csv", args.rows)
        try:
            stores = prepare(work, source, args.rows, ("PostGIS", "SpatiaLite"), key=True, log=print, cleanup=cleanup)
            result = run(work, source, stores, runs=args.runs, duration=args.duration, connections=args.connections,
                         headline_only_after=args.runs)
        finally:
            for step in cleanup:
                step()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
