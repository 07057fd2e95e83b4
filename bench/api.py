"""The sharing API under load (wrk), served by the hub on PostGIS and on SpatiaLite, beside Datasette and a bare
Flask + SQLAlchemy endpoint, all holding the same rows: hot answers (the same page or record again, as popular
pages and sync clients ask), cold ones (a cursor walk where every request is a new page, a filtered walk, a new
record each request), p50/p99, and two app servers behind nginx sharing Redis.

- hub: `hub serve --workers 2` (gunicorn, the production configuration in deploy/gunicorn.conf.py) with a
  department's API key in `Authorization: Bearer`, so key resolution, access control, personal-data
  filtering, the audit log and the rate limiter all run on every request. The rate limit is raised
  (HUB_RATE_LIMIT) so that it counts but never refuses: wrk's thousands of requests a minute from one
  client would otherwise be 429s, which is the limiter working, not the endpoint.
- cold answers come from a second hub server on the same store started with HUB_ANSWER_CACHE_MB=0 (no answer is
  kept), so every request is built as a never-seen page is, however often wrk wraps around its list of paths
  (a walk of 100,000 rows is only 1,000 pages). The paths are a real walk: the hub's own cursors (checked
  against the first pages' `next`), Datasette's `next_url`s, the bare app's offsets.
- Datasette: `datasette serve DB --setting suggest_facets off` (its own process model: one async process).
- bare: bench/bare_app.py under gunicorn, 2 sync workers: the same rows and nothing else.
- Flask ceiling: bench/ceiling_app.py under gunicorn with the hub's own worker model (2 workers, hub/gthread.py,
  the hub's default threads), answering the bytes of the hub's hot page and record, read from it once, with
  nothing else (no key, rules, audit, rate limit, log line, database): as fast as any Flask answer of those bytes
  comes on this machine, so hub ÷ ceiling is the share of it the hub reaches.
- nginx (bench/nginx.py): two hub servers on the PostGIS store, HUB_REDIS_URL shared (answers and rate
  limits), behind one nginx; measured after the others.

Every target is up at once and, endpoint by endpoint, the runs go round the targets in turn, so a change in
the machine's load falls on the runs a ratio compares as alike as it can. Each endpoint is called once first (status, row count checked; not timed).

    python -m bench.api --rows 20000 --duration 3 --runs 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.proc import POSTGRES_URL, Server, free_port, http_get, median
from bench.stores import DATASET, HubStore, prepare, write_source

__all__ = ["ENDPOINTS", "GOALS", "run", "wrk"]

CSV_ROWS = 10_000
# endpoint name -> what it is, in the table's words
ENDPOINTS = {
    "page": "page of 100, hot",  # the same page again
    "walk": "cursor walk, cold",  # every request a new page of 100, in key order
    "filtered": "filtered walk, cold",  # type=khach_san (about a seventh of the rows), every request a new page
    "record": "record by key, hot",
    "record_cold": "record by key, cold",  # every request another key
    "csv": f"CSV of {CSV_ROWS:,} rows",
}
JSON_ENDPOINTS = ("page", "walk", "filtered", "record", "record_cold")
EXPECTED_ROWS = {"page": 100, "walk": 100, "filtered": 100, "record": 1, "record_cold": 1, "csv": CSV_ROWS}
CEILING = "Flask ceiling"  # bench/ceiling_app.py's column
# (label, endpoint, peer, goal): the goals, as ratios of requests/second in the same run
GOALS = [
    ("÷ bare, page hot", "page", "bare", 2.0),
    ("÷ Datasette, page hot", "page", "Datasette", 8.0),
    ("÷ bare, cursor walk cold", "walk", "bare", 0.7),
    ("÷ Datasette, cursor walk cold", "walk", "Datasette", None),
    ("÷ Datasette, filtered walk cold", "filtered", "Datasette", 2.0),
    ("÷ Datasette, record hot", "record", "Datasette", 1.5),
    ("÷ Datasette, record cold", "record_cold", "Datasette", 1.0),
    ("÷ Datasette, CSV rows/s", "csv", "Datasette", 1.0),
    ("÷ Flask ceiling, page hot", "page", CEILING, None),  # no goal: how much of Flask's own speed is left
    ("÷ Flask ceiling, record hot", "record", CEILING, None),
]
P99_GOAL_MS = 100
FILTER = ("type", "khach_san")
COLD_KEYS = 20_000  # distinct keys in the cold record list: more than a 10-second run asks
# A 10,000-row answer takes a good part of a second: at 32 connections a 10-second run finishes few or none
# (Datasette serves them one after another), so the CSV runs use 4 connections, at least 10 seconds; what is
# compared is rows per second.
CSV_MIN_SECONDS = 10
CSV_CONNECTIONS = 4
PATHS_SCRIPT = Path(__file__).with_name("paths.lua")


@dataclass
class Target:
    """One server's endpoints; `label` is the table's column (a hub's hot and cold servers share one)."""

    label: str
    server: Server
    ready: str
    paths: dict[str, str]  # endpoint -> one path, asked again and again
    headers: dict[str, str] = field(default_factory=dict)
    lists: dict[str, Path] = field(default_factory=dict)  # endpoint -> a file of paths, one per request

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def endpoints(self) -> list[str]:
        return [e for e in ENDPOINTS if e in self.paths or e in self.lists]

    def first_path(self, endpoint: str) -> str:
        if endpoint in self.paths:
            return self.paths[endpoint]
        return self.lists[endpoint].read_text(encoding="utf-8").split("\n", 1)[0]


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
        threads: int = 2, paths: Path | None = None) -> dict[str, Any]:
    """`wrk -t2 -c32 -d10s --latency` on `url` (timeout 30 s, so slow answers count in the latency, not
    as errors); with `paths`, every request asks the next path of that file (bench/paths.lua)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["-s", str(PATHS_SCRIPT), url, "--", str(paths), str(threads)] if paths else [url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=True)
    return parse_wrk(done.stdout)


def _check(target: Target, endpoint: str) -> int:
    """Call an endpoint once (warms the workers too); the rows it returned, or an error naming the answer."""
    path = target.first_path(endpoint)
    status, body = http_get(target.base + path, headers=target.headers)
    if status != 200:
        raise RuntimeError(f"{target.label} {endpoint} {path}: HTTP {status}: {body[:300]!r}")
    if endpoint == "csv":
        return body.count(b"\n") - 1
    data = json.loads(body)
    if endpoint.startswith("record"):
        key = path.rsplit("/", 1)[-1].removesuffix(".json")
        record = data if "code" in data else dict(zip(data.get("columns", []), (data.get("rows") or [[]])[0], strict=False))
        if record.get("code") != key:
            raise RuntimeError(f"{target.label} {endpoint}: expected {key}, got {str(data)[:300]}")
        return 1
    rows = data.get("records", data.get("rows"))
    return len(rows or [])


def _source_rows(source: Path) -> list[tuple[str, str]]:
    """(code, type) of every source row, in key order (the order all three serve pages in)."""
    import csv

    with source.open(encoding="utf-8", newline="") as handle:
        return sorted((r["code"], r["type"]) for r in csv.DictReader(handle))


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _hub_cursor(version: int, key: str) -> str:
    """The hub's cursor after the row of `key` in key order (publish/cursor.py: a keyset cursor, the last row's
    stored key, which for this dataset is its code); the walk checks it against the hub's own `next`."""
    import base64

    raw = json.dumps({"v": version, "s": "", "k": [key]}, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _hub_walk(target: Target, first: str, codes: list[str]) -> list[str]:
    """The hub's cursor walk from `first` (a page of 100): its first page, then every cursor to the end."""
    status, body = http_get(target.base + first, headers=target.headers)
    if status != 200:
        raise RuntimeError(f"{target.label} {first}: HTTP {status}: {body[:300]!r}")
    page = json.loads(body)
    version = page["version"]
    paths = [first] + [f"{first}&cursor={_hub_cursor(version, codes[i - 1])}" for i in range(100, len(codes), 100)]
    if len(codes) > 100 and page["next_cursor"] != _hub_cursor(version, codes[99]):
        raise RuntimeError(f"{target.label}: the hub's cursor is no longer bench's copy of it ({page['next_cursor']})")
    return paths


def _datasette_walk(target: Target, first: str, codes: list[str]) -> list[str]:
    """Datasette's walk from `first`: `_next` is the last row's key (checked against its `next_url`)."""
    status, body = http_get(target.base + first, headers=target.headers)
    page = json.loads(body)
    paths = [first] + [f"{first}&_next={codes[i - 1]}" for i in range(100, len(codes), 100)]
    got = urlsplit(page.get("next_url") or "")
    if status != 200 or len(paths) > 1 and f"{got.path}?{got.query}" != paths[1]:
        raise RuntimeError(f"Datasette's next page is {page.get('next_url')}, not {paths[1]}")
    return paths


def _lists(work: Path, source: Path, targets: list[Target]) -> None:
    """The cold endpoints' lists of paths, one file per target and endpoint."""
    table = DATASET.replace("-", "_")
    rows = _source_rows(source)
    codes = [code for code, _ in rows]
    typed = [code for code, kind in rows if kind == FILTER[1]]
    cold_keys = random.Random(20).sample(codes, min(COLD_KEYS, len(codes)))
    for target in targets:
        name = re.sub(r"\W+", "-", f"{target.label}-{target.server.port}").strip("-")
        if target.label.startswith("hub"):
            if "walk" not in target.lists:  # a hot server: its cold lists belong to the cold one
                continue
            base = f"/api/v1/datasets/{DATASET}/records"
            walks = {"walk": _hub_walk(target, f"{base}?limit=100", codes),
                     "filtered": _hub_walk(target, f"{base}?limit=100&{FILTER[0]}={FILTER[1]}", typed),
                     "record_cold": [f"{base}/{key}" for key in cold_keys]}
        elif target.label == "Datasette":
            walks = {"walk": _datasette_walk(target, f"/bench/{table}.json?_size=100", codes),
                     "filtered": _datasette_walk(target, f"/bench/{table}.json?{FILTER[0]}={FILTER[1]}&_size=100", typed),
                     "record_cold": [f"/bench/{table}/{key}.json" for key in cold_keys]}
        else:  # bare: the same walk, after the last row's key
            walks = {"walk": ["/records"] + [f"/records?after={codes[i - 1]}" for i in range(100, len(codes), 100)],
                     "filtered": [f"/records?{FILTER[0]}={FILTER[1]}"] + [
                         f"/records?{FILTER[0]}={FILTER[1]}&after={typed[i - 1]}" for i in range(100, len(typed), 100)],
                     "record_cold": [f"/records/{key}" for key in cold_keys]}
        for endpoint, paths in walks.items():
            target.lists[endpoint] = _write(work / f"paths-{name}-{endpoint}.txt", paths)


HUB_ENV = {"HUB_RATE_LIMIT": "1000000000", "HUB_LOG_LEVEL": "INFO", "HUB_REDIS_URL": "",
           "HUB_SECRET_KEY": "bench-only-secret-key-not-for-production"}


def hub_server(work: Path, store: HubStore, name: str, **env: str) -> Server:
    port = free_port()
    return Server(name, [sys.executable, "-m", "hub", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                         "2"], port, {**HUB_ENV, "HUB_STORAGE_DIR": str(work / "storage"), "HUB_DATABASE_URL": store.url,
                                      **env}, work / f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.log")


def _targets(work: Path, source: Path, rows: int, stores: list[HubStore], log: Callable[[str], None]) -> list[Target]:
    from bench.peers import datasette_bin
    from bench.proc import call

    with source.open(encoding="utf-8") as handle:  # the schema's field names, as bench/load.py wrote them
        fields = handle.readline().strip().split(",")

    record_key = f"LT-{rows // 2:07d}"
    csv_last = f"LT-{CSV_ROWS:07d}"
    hub_paths = {
        "page": f"/api/v1/datasets/{DATASET}/records?limit=100",
        "record": f"/api/v1/datasets/{DATASET}/records/{record_key}",
        "csv": f"/api/v1/datasets/{DATASET}/records?format=csv&limit={CSV_ROWS}",
    }
    cold = dict.fromkeys(("walk", "filtered", "record_cold"), Path())  # filled by _lists
    targets: list[Target] = []
    for store in stores:
        backend = store.backend
        key = {"Authorization": f"Bearer {store.token}"}
        targets.append(Target(f"hub ({backend})", hub_server(work, store, f"hub ({backend})"), "/healthz",
                              hub_paths, key))
        targets.append(Target(f"hub ({backend})", hub_server(work, store, f"hub cold ({backend})",
                                                             HUB_ANSWER_CACHE_MB="0"), "/healthz", {}, key, dict(cold)))
        port = free_port()
        # on SQLite the stdlib driver reads the hub's SpatiaLite file as it is (no geometry is selected)
        server = Server(f"bare ({backend})", [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b",
                                              f"127.0.0.1:{port}", "--log-level", "warning", "bench.bare_app:app"],
                        port, {"BARE_DATABASE_URL": store.url, "BARE_DATASET": DATASET, "BARE_FIELDS": ",".join(fields)},
                        work / f"bare-{backend.lower()}.log")
        targets.append(Target(f"bare ({backend})", server, "/records",
                              {"page": "/records", "record": f"/records/{record_key}"}, {}, dict(cold)))
    db = work / "bench.db"
    made = call("bench.steps:datasette_db", source=str(source), out=str(db))
    log(f"  Datasette file: {made['rows']:,} rows in {made['seconds']:.1f} s (setup)")
    port = free_port()
    table = DATASET.replace("-", "_")
    server = Server("Datasette", [str(datasette_bin()), "serve", str(db), "--host", "127.0.0.1", "--port", str(port),
                                  "--setting", "suggest_facets", "off"], port, {}, work / "datasette.log")
    targets.append(Target("Datasette", server, "/-/versions.json", {
        "page": f"/bench/{table}.json?_size=100",
        "record": f"/bench/{table}/{record_key}.json",
        "csv": f"/bench/{table}.csv?_stream=on&_size=max&code__lte={csv_last}",
    }, {}, dict(cold)))
    return targets


def _ceiling(work: Path, hub: Target) -> Target:
    """The Flask ceiling's target, serving the bytes of `hub`'s own hot page and record (bench/ceiling_app.py)."""
    from core.config import read_env

    env = {}
    for endpoint in ("page", "record"):
        status, body = http_get(hub.base + hub.paths[endpoint], headers=hub.headers)
        if status != 200:
            raise RuntimeError(f"{hub.label} {endpoint}: HTTP {status}: {body[:300]!r}")
        path = work / f"ceiling-{endpoint}.json"
        path.write_bytes(body)
        env[f"CEILING_{endpoint.upper()}"] = str(path)
    port = free_port()
    server = Server(CEILING, [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "hub.gthread.ThreadWorker", "--threads",
                              str(read_env().settings.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                              "bench.ceiling_app:app"], port, env, work / "ceiling.log")
    key = hub.paths["record"].rsplit("/", 1)[-1]  # (the answer names it: the row check reads it back)
    return Target(CEILING, server, "/page", {"page": "/page", "record": f"/record/{key}"})


def _measure(target: Target, endpoint: str, *, duration: int, connections: int) -> dict[str, Any]:
    csv = endpoint == "csv"
    return wrk(target.base + target.paths.get(endpoint, ""), headers=target.headers, paths=target.lists.get(endpoint),
               connections=min(connections, CSV_CONNECTIONS) if csv else connections,
               duration=max(duration, CSV_MIN_SECONDS) if csv else duration)


def _say(log: Callable[[str], None], prefix: str, label: str, endpoint: str, figures: dict[str, Any]) -> None:
    log(f"  {prefix} {label:<26} {endpoint:<12} {figures.get('rps', 0):8.1f} req/s"
        f"  p50 {figures.get('p50_ms', 0):7.1f} ms  p99 {figures.get('p99_ms', 0):7.1f} ms"
        + (f"  non-2xx {figures['non_2xx']}" if figures["non_2xx"] else "")
        + (f"  socket errors {figures['socket_errors']}" if figures["socket_errors"] else ""))


def _summary(runs_: list[dict[str, Any]], endpoint: str, paths: Path | None) -> dict[str, Any]:
    entry: dict[str, Any] = {key: median(r.get(key) for r in runs_) for key in ("rps", "p50_ms", "p99_ms")}
    entry["runs"] = len(runs_)
    entry["rps_runs"] = [r.get("rps") for r in runs_]
    entry["non_2xx"] = sum(r["non_2xx"] for r in runs_)
    entry["socket_errors"] = sum(r["socket_errors"] for r in runs_)
    entry["requests"] = sum(r.get("requests", 0) for r in runs_)
    if paths is not None:
        entry["distinct_paths"] = sum(1 for line in paths.read_text(encoding="utf-8").splitlines() if line)
    if endpoint == "csv":
        entry["rows_per_second"] = round(entry["rps"] * CSV_ROWS) if entry["rps"] else None
    return entry


def run(work: Path, source: Path, stores: list[HubStore], *, runs: int = 3, duration: int = 10,
        connections: int = 32, headline_only_after: int = 1, nginx: bool = True,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every target's endpoints under wrk; medians per (target, endpoint) and the ratios.

    `stores` hold the rows of `source` (bench.stores.prepare). The hot page of 100 (the headline) gets `runs`
    rounds; the other endpoints stop after `headline_only_after` rounds (time budget). With `nginx`, two hub
    servers behind nginx on the PostGIS store are one more target (bench/nginx.py)."""
    rows = stores[0].rows if stores else sum(1 for _ in source.open(encoding="utf-8")) - 1
    cleanup: list[Callable[[], None]] = []
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    try:
        targets = _targets(work, source, rows, stores, log)
        for target in targets:
            cleanup.insert(0, target.server.stop)
            target.server.start(f"{target.base}{target.ready}")
        _lists(work, source, targets)
        if stores:
            ceiling = _ceiling(work, next(t for t in targets if t.label == f"hub ({stores[0].backend})" and t.paths))
            cleanup.insert(0, ceiling.server.stop)
            ceiling.server.start(f"{ceiling.base}{ceiling.ready}")
            targets.append(ceiling)
        postgis = next((s for s in stores if s.backend == "PostGIS"), None)
        if nginx and postgis is not None:
            from bench import nginx as pair

            try:
                more, stop = pair.targets(work, source, postgis)
                cleanup.insert(0, stop)
                targets += more
            except Exception as exc:  # noqa: BLE001 - the single-server figures stand without it
                log(f"  two servers behind nginx FAILED: {exc}")
                notes.append(f"two servers behind nginx not measured: {str(exc).strip().splitlines()[0][:300]}")
        elif nginx:
            notes.append("two servers behind nginx not measured: they share a PostGIS store, and PostgreSQL is absent")
        for target in targets:
            for endpoint in target.endpoints:
                got = _check(target, endpoint)
                if got != EXPECTED_ROWS[endpoint]:
                    raise RuntimeError(f"{target.label} {endpoint}: {got} rows, expected {EXPECTED_ROWS[endpoint]}")
        samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
        lists: dict[tuple[str, str], Path] = {}
        for round_ in range(runs):
            # endpoint by endpoint, round the targets: the runs compared in a ratio follow each other, so a
            # change in the shared machine's load falls on both alike as far as it can
            for endpoint in ENDPOINTS:
                if endpoint != "page" and round_ >= headline_only_after:
                    continue
                for target in (t for t in targets if endpoint in t.endpoints):
                    figures = _measure(target, endpoint, duration=duration, connections=connections)
                    samples.setdefault((target.label, endpoint), []).append(figures)
                    if endpoint in target.lists:
                        lists[target.label, endpoint] = target.lists[endpoint]
                    _say(log, f"round {round_ + 1}/{runs}", target.label, endpoint, figures)
        for (name, endpoint), runs_ in samples.items():
            results.setdefault(name, {})[endpoint] = _summary(runs_, endpoint, lists.get((name, endpoint)))
    finally:
        for step in cleanup:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - cleaning up must go on
                log(f"  cleanup: {exc}")
    return {"rows": rows, "duration": duration, "connections": connections, "runs": runs,
            "other_runs": min(runs, headline_only_after), "postgres": POSTGRES_URL, "targets": results,
            "ratios": ratios(results), "notes": notes}


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """`hub (B) ÷ peer, endpoint` for every goal of GOALS and both backends, from requests/second (CSV: rows)."""
    def rate(target: str, endpoint: str) -> float | None:
        entry = (results.get(target) or {}).get(endpoint, {})
        return entry.get("rows_per_second" if endpoint == "csv" else "rps")

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    out: dict[str, float | None] = {}
    for backend in ("PostGIS", "SpatiaLite"):
        hub = f"hub ({backend})"
        for label, endpoint, peer, _ in GOALS:
            other = f"bare ({backend})" if peer == "bare" else peer
            out[f"{hub} {label}"] = ratio(rate(hub, endpoint), rate(other, endpoint))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-nginx", action="store_true", help="leave out the two servers behind nginx")
    parser.add_argument("--backend", choices=("PostGIS", "SpatiaLite"), action="append")
    args = parser.parse_args(argv)
    from bench.peers import ensure_peers

    ensure_peers()
    cleanup: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        source = write_source(work / "api-source.csv", args.rows)
        try:
            stores = prepare(work, source, args.rows, tuple(args.backend or ("PostGIS", "SpatiaLite")), key=True,
                             log=print, cleanup=cleanup)
            result = run(work, source, stores, runs=args.runs, duration=args.duration, connections=args.connections,
                         headline_only_after=args.runs, nginx=not args.no_nginx)
        finally:
            for step in cleanup:
                step()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
