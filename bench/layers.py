"""CPU microseconds per request, layer by layer, of the sharing API in process (no server, no network): where a
request's time goes, for docs/benchmarks.md's per-layer table (issue 20).

Each `before_request` / `after_request` hook of the app, the steps of security's outgoing hook (304, audit,
gzip, headers), the view, and inside the view the answer cache's parts (current versions, read before the view
with a remembered key's generation, visibility class, cache look-up) are wrapped to add up their thread CPU time (`time.thread_time_ns`); `total` is the whole
`client.get`. Nested layers are inside their parents (the cache's parts are inside `view`). Scenarios: a hot
page (the same page again: from the answer cache), a cold page (the cache emptied before each request), one
record hot and cold, a change-feed page, and `/healthz` (the pipeline alone); each anonymous and with a
department's key (audit on every request). The app's objects are frozen out of garbage collection after it is
built, as deploy/gunicorn.conf.py does before forking (hub.app.freeze_startup).

    python -m bench.layers --rows 20000 --requests 300            # SpatiaLite and PostGIS when present
    python -m bench.layers --write-docs                            # and into docs/benchmarks.md

Measure on a quiet machine: CPU time is less disturbed by other load than wall time, but not immune to it.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.stores import DATASET, HubStore, prepare, write_source

__all__ = ["BEGIN", "END", "instrument", "measure", "render", "main", "write_docs"]

# docs/benchmarks.md's per-layer section lies between these lines (bench/report.py's write_docs keeps it)
BEGIN = "<!-- layers: written by `python -m bench.layers --write-docs`; do not edit by hand -->"
END = "<!-- /layers -->"

Spent = dict[str, float]


def _timed(spent: defaultdict[str, int], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.thread_time_ns() - start

    return wrapper


def _name(fn: Any) -> str:
    fn = getattr(fn, "func", fn)  # a functools.partial (security's rate limit hook)
    owner = getattr(fn, "__self__", None)
    qualname = getattr(fn, "__qualname__", repr(fn))
    module = getattr(owner, "__module__", None) or getattr(fn, "__module__", "")
    return f"{module}.{qualname}"


def instrument(app: Any, spent: defaultdict[str, int]) -> None:
    """Wrap the app's hooks, security's outgoing steps, the views and the answer cache's parts (this app's
    process only: a bench, never a test)."""
    from hub import security
    from hub.api import answers

    for funcs in app.before_request_funcs.values():
        funcs[:] = [_timed(spent, f"before {_name(f)}", f) for f in funcs]
    for funcs in app.after_request_funcs.values():
        funcs[:] = [_timed(spent, f"after {_name(f)}", f) for f in funcs]
    for name in ("_conditional", "_audit", "_compress", "_headers"):
        setattr(security, name, _timed(spent, f"  outgoing {name.lstrip('_')}", getattr(security, name)))
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api.") or endpoint == "ops.healthz":
            app.view_functions[endpoint] = _timed(spent, "view", view)
    for name in ("visibility_class", "cache_key"):
        setattr(answers, name, _timed(spent, f"  view: answers.{name}", getattr(answers, name)))
    reader = app.extensions["hub_versions"]  # asked by the view, or with a remembered key's generation before it
    reader.read = _timed(spent, "  current versions (+ key generation)", reader.read)
    cache = app.extensions["hub_answers"]
    cache.get = _timed(spent, "  view: cache look-up", cache.get)


def measure(store: HubStore, requests: int) -> dict[str, Spent]:
    """Scenario -> layer -> CPU µs per request."""
    from core.config import Settings
    from hub.app import create_app, freeze_startup

    settings = Settings(database_url=store.url, secret_key="bench-" + "x" * 40, rate_limit=10_000_000,
                        storage_dir=Path(tempfile.mkdtemp(prefix="hub-layers-")))
    app = create_app(settings)
    freeze_startup()  # as the served app (deploy/gunicorn.conf.py): its objects out of garbage collection
    spent: defaultdict[str, int] = defaultdict(int)
    instrument(app, spent)
    client = app.test_client()
    cache = app.extensions["hub_answers"]
    keyed = {"Authorization": f"Bearer {store.token}"} if store.token else {}
    key = f"LT-{store.rows // 2:07d}"
    page = f"/api/v1/datasets/{DATASET}/records?limit=100"
    scenarios: dict[str, tuple[str, dict[str, str], bool]] = {
        "healthz": ("/healthz", {}, False),
        "page hot, anonymous": (page, {}, False),
        "page hot, key": (page, keyed, False),
        "page cold, key": (page, keyed, True),
        "record hot, key": (f"/api/v1/datasets/{DATASET}/records/{key}", keyed, False),
        "record cold, key": (f"/api/v1/datasets/{DATASET}/records/{key}", keyed, True),
        "changes hot, key": (f"/api/v1/datasets/{DATASET}/changes?since=0&limit=100", keyed, False),
    }
    out: dict[str, Spent] = {}
    for name, (url, headers, cold) in scenarios.items():
        client.get(url, headers=headers)  # warm: first request's set-up, the cache for hot runs
        spent.clear()
        for _ in range(requests):
            if cold:
                cache.clear()
            start = time.thread_time_ns()
            response = client.get(url, headers=headers)
            spent["total"] += time.thread_time_ns() - start
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        out[name] = {layer: ns / requests / 1000 for layer, ns in spent.items()}
    return out


def render(backend: str, table: dict[str, Spent]) -> str:
    """A markdown table: one row per layer, one column per scenario."""
    scenarios = list(table)
    layers = sorted({layer for spent in table.values() for layer in spent}, key=lambda n: (n != "total", n))
    lines = [f"CPU µs per request by layer ({backend}, in process)", "",
             "| layer | " + " | ".join(scenarios) + " |", "|---|" + "---:|" * len(scenarios)]
    for layer in layers:
        cells = [f"{table[s][layer]:.0f}" if layer in table[s] else "" for s in scenarios]
        lines.append(f"| {layer.strip()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_docs(block: str, path: Path) -> None:
    """Put `block` between BEGIN and END in `path` (before "## Latest run" the first time)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = f"{BEGIN}\n{block.strip()}\n{END}"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        text = head + section + rest.partition(END)[2]
    elif "## Latest run" in text:
        head, _, rest = text.partition("## Latest run")
        text = head + section + "\n\n## Latest run" + rest
    else:
        text += "\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from datetime import UTC, datetime

    from bench.proc import ROOT, load_average, machine

    parser = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--backend", choices=("SpatiaLite", "PostGIS"), action="append")
    parser.add_argument("--write-docs", action="store_true", help="also write the tables to docs/benchmarks.md")
    args = parser.parse_args(argv)
    started, load_start = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), load_average()
    cleanup: list[Callable[[], None]] = []
    tables: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="hub-layers-") as tmp:
            work = Path(tmp)
            source = write_source(work / f"{DATASET}.csv", args.rows)
            stores = prepare(work, source, args.rows, tuple(args.backend or ("SpatiaLite", "PostGIS")), key=True,
                             log=lambda m: print(m, file=sys.stderr), cleanup=cleanup)
            for store in stores:
                tables.append(render(store.backend, measure(store, args.requests)))
                print(tables[-1])
                print()
    finally:
        for step in cleanup:
            step()
    if args.write_docs:
        m, load_end = machine(), load_average()
        command = "python -m bench.layers" + ("" if argv is None and len(sys.argv) < 2 else " " + " ".join(
            sys.argv[1:] if argv is None else argv))
        block = "\n".join([
            f"Command: `{command}`, {started}, hub {m['commit']}, {args.rows:,} rows, {args.requests} requests a "
            f"scenario; machine: {m['cores']} cores, {m['cpu']}, load average {load_start[0]:.2f} {load_start[1]:.2f} "
            f"{load_start[2]:.2f} at start, {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at end (a shared "
            "machine: other work inflates CPU time too, less than wall time).", "",
            *[f"{t}\n" for t in tables]])
        write_docs(block, ROOT / "docs" / "benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
