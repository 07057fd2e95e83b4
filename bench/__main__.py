"""`python -m bench`: the hub measured beside its peers, in one run, printed as one table.

    python -m bench [--sizes 100000,1000000] [--quick] [--sections ingest,validation,load,api,soak,exports,reports]
                    [--runs 3] [--write-docs]

Sets up what it needs (the peers' virtual environment bench/.venv-peers with Datasette, bench_* databases in
PostgreSQL, generated files in a temporary folder), measures, cleans up, and prints the table with the machine's
facts and how long each section took. The time budget (about 20 minutes on 2 cores): every figure at the
smaller sizes is the median of --runs runs; past 200,000 rows the slow steps run --runs-large times (1 by
default) and frictionless's schema validation runs on the first 100,000 rows (it streams: its rate does not
depend on the size) — the table says so wherever it happens; --all measures everything at every size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.proc import (
    ROOT,
    call,
    create_database,
    database_url,
    drop_database,
    load_average,
    machine,
    postgres_problem,
)
from bench.proc import median as _median

SECTIONS = ("ingest", "validation", "load", "api", "soak", "exports", "reports")
LARGE = 200_000  # past this size the slow steps follow --runs-large
PREFIX = 100_000  # frictionless's schema validation on large files: the first rows only (see the docstring)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def _versions() -> dict[str, str | None]:
    from bench.proc import postgres_version

    def dist(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    wrk = None
    if shutil.which("wrk"):
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        wrk = (done.stdout + done.stderr).split()[1] if (done.stdout + done.stderr).split()[1:] else None
    return {"hub": machine()["commit"], "Python": machine()["python"], "PostgreSQL": postgres_version(),
            "pandas": dist("pandas"), "SQLAlchemy": dist("sqlalchemy"), "frictionless": dist("frictionless"),
            "gunicorn": dist("gunicorn"), "wrk": wrk}


class Interrupted(BaseException):  # not an Exception: a failed step is noted and skipped, a stop is not
    """SIGTERM or Ctrl-C: stop measuring, clean up, print what was measured."""


def _interrupt(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


class Bench:
    def __init__(self, args: argparse.Namespace, command: str, checkpoint: Path | None = None) -> None:
        self.checkpoint = checkpoint
        self.args = args
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="hub-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.cleanup: list[Callable[[], None]] = []
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.results: dict[str, Any] = {
            "command": command,
            "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "load_start": load_average(),
            "sizes": args.sizes,
            "requested_sections": list(args.sections),
            "runs_at": {str(s): self.runs(s) for s in args.sizes},
            "sections": {},
        }
        self.catalog_path: Path | None = None

    def runs(self, size: int) -> int:
        return self.args.runs if size <= LARGE or self.args.all else self.args.runs_large

    def timed(self, key: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        log(f"{key}…")
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others' figures
            log(f"{key} FAILED: {exc}\n{traceback.format_exc()}")
            self.notes.append(f"{key} failed: {str(exc).strip().splitlines()[0][:300] if str(exc) else type(exc).__name__}")
            return None
        finally:
            self.timings[key] = self.timings.get(key, 0) + time.perf_counter() - start
            log(f"{key} done in {time.perf_counter() - start:.0f} s")
            self.save()

    def save(self) -> None:
        """The figures so far, after every step: a run stopped half-way keeps what it measured."""
        if self.checkpoint:
            self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
            partial = {**self.results, "timings": {k: round(v, 1) for k, v in self.timings.items()},
                       "notes": self.notes}
            self.checkpoint.write_text(json.dumps(partial, ensure_ascii=False, indent=1, default=str), encoding="utf-8")

    def section(self, name: str, size: int) -> dict[str, Any]:
        return self.results["sections"].setdefault(name, {}).setdefault(str(size), {"notes": []})

    # -- the steps ----------------------------------------------------------------------------------------------

    def setup(self) -> None:
        from bench.peers import ensure_peers

        self.catalog_path = Path(call("bench.steps:bench_catalog", folder=str(self.work / "catalog")))
        versions = _versions()
        if "api" in self.args.sections:
            versions.update({"Datasette": ensure_peers(log).get("datasette")})
        self.results["versions"] = versions
        problem = postgres_problem()
        if problem:
            self.notes.append(f"PostGIS figures not measured: {problem}")
        if {"api", "soak"} & set(self.args.sections) and not shutil.which("wrk"):
            self.notes.append("API not measured: wrk is not installed (apt-get install wrk; `make bench` does it)")
            self.args.sections = [s for s in self.args.sections if s not in ("api", "soak")]

    def generate(self, size: int) -> Path:
        path = self.work / f"register-{size}.csv"
        facts = call("bench.steps:generate", dataset="accommodation", rows=size, path=str(path), seed=self.args.seed,
                     error_rate=self.args.error_rate)
        log(f"  {size:,} rows, {facts['bytes'] / 1e6:.0f} MB, {facts['planted']:,} planted errors")
        return path

    def ingest(self, size: int, source: Path) -> None:
        from bench.proc import repeat

        out = self.section("ingest", size)
        # vm_hwm_mb: the measured process's own peak (bench/ingest.py reports it beside wait4's ru_maxrss)
        keys = ("rows_per_second", "rows_per_cpu_second", "peak_rss_mb", "vm_hwm_mb", "seconds")
        runs = self.runs(size)
        pg = postgres_problem() is None
        stages = [s for s in self.args.ingest_backends if s != "postgis" or pg] + ["frictionless"]
        for stage in stages:
            out[stage] = repeat(runs, lambda stage=stage: call(
                "bench.steps:ingest_measure", stage=stage, file=str(source), catalog=str(self.catalog_path),
                work=str(self.work)), keys)
            e = out[stage]
            log(f"  {stage}: {e['rows_per_second']:,.0f} rows/s, {e['rows_per_cpu_second']:,.0f} rows/CPU-s, "
                f"peak {e['peak_rss_mb']:.0f} MB (runs: {e['rows_per_second_runs']})")
            if stage != "frictionless" and e.get("status") != "committed":
                out["notes"].append(f"hub pipeline ({stage}) ended {e.get('status')!r}, not committed")
        if pg:
            name = create_database("copy")
            try:
                url = database_url(name)
                out["copy"] = _repeat_simple(runs, lambda: call("bench.steps:raw_copy", url=url, path=str(source)),
                                             ("rows_per_second",))
            finally:
                drop_database(name)
            log(f"  COPY: {out['copy']['rows_per_second']:,.0f} rows/s")
        for hub in ("postgis", "spatialite"):
            if hub not in out:
                continue
            for peer in ("frictionless", "copy"):
                if peer in out:
                    out[f"{hub}_vs_{peer}"] = _div(out[hub]["rows_per_second"], out[peer]["rows_per_second"])
            if "frictionless" in out:
                out[f"{hub}_cpu_vs_frictionless"] = _div(out[hub]["rows_per_cpu_second"],
                                                         out["frictionless"]["rows_per_cpu_second"])
        fl = out.get("frictionless", {})
        if fl.get("errors") is not None:
            out["notes"].append(f"frictionless found {fl['errors']:,} errors with its inferred schema; the hub "
                                f"rejected {out.get('postgis', out.get('spatialite', {})).get('rows_rejected', 0):,} rows")

    def validation(self, size: int, source: Path) -> None:
        from bench import validation

        out = self.section("validation", size)
        canonical = self.work / f"canonical-{size}.csv"
        made = call("bench.steps:canonical_csv", source=str(source), catalog=str(self.catalog_path),
                    out=str(canonical))
        log(f"  canonical CSV (hub ingest, not timed): {made['rows']:,} rows in {made['seconds']:.0f} s")
        schema = Path(call("bench.steps:validation_schema", catalog=str(self.catalog_path),
                           out=str(self.work / "validation-schema.json")))
        runs = self.runs(size)
        out.update(validation.run(canonical, schema, runs=runs, stages=("hub",)))
        fl_file = canonical
        if size > LARGE and not self.args.all:
            fl_file = self.work / f"canonical-{size}-first-{PREFIX}.csv"
            with canonical.open(encoding="utf-8") as src, fl_file.open("w", encoding="utf-8") as dst:
                for i, line in enumerate(src):
                    if i > PREFIX:
                        break
                    dst.write(line)
            out["notes"].append(f"frictionless ran on the first {PREFIX:,} rows of this file ({runs} run): its "
                                f"rows/s does not depend on size; its error count covers those rows only")
        out.update({k: v for k, v in validation.run(fl_file, schema, runs=runs, stages=("frictionless",)).items()})
        out["vs_frictionless"] = _div(out["hub"]["rows_per_second"], out["frictionless"]["rows_per_second"])
        out["cpu_vs_frictionless"] = _div(out["hub"]["rows_per_cpu_second"], out["frictionless"]["rows_per_cpu_second"])
        log(f"  hub {out['hub']['rows_per_second']:,.0f} rows/s, frictionless {out['frictionless']['rows_per_second']:,.0f}"
            f" rows/s: {out['vs_frictionless']}×")

    def pipeline_vs_schema(self, size: int) -> None:
        """The pipeline beside frictionless validating with the hub's own schema (issue 21 asks for both figures).

        frictionless cannot check the office's file against the hub's schema (Vietnamese headers, labels,
        dd/mm/yyyy are what the pipeline turns into the schema's form), so its figure is the validation
        section's: the same rows in canonical form, the same schema. Measured in that section, not again."""
        ingest = self.results["sections"].get("ingest", {}).get(str(size))
        validation = self.results["sections"].get("validation", {}).get(str(size), {})
        peer = validation.get("frictionless")
        if not ingest or not peer:
            return
        for hub in ("postgis", "spatialite"):
            if hub in ingest:
                ingest[f"{hub}_vs_frictionless_schema"] = _div(ingest[hub]["rows_per_second"], peer["rows_per_second"])
                ingest[f"{hub}_cpu_vs_frictionless_schema"] = _div(ingest[hub]["rows_per_cpu_second"],
                                                                   peer["rows_per_cpu_second"])
        ingest["frictionless_schema"] = {k: peer.get(k) for k in ("rows_per_second", "rows_per_cpu_second", "peak_rss_mb")}

    def load(self, size: int) -> None:
        out = self.section("load", size)
        keys = ("hub_rows_per_second", "raw_rows_per_second", "ratio_to_raw", "reload_rows_per_second")
        backends = ["spatialite"] + (["postgis"] if postgres_problem() is None else [])
        for backend in backends:
            out[backend] = _repeat_simple(self.runs(size), lambda backend=backend: call(
                "bench.steps:load_run", rows=size, backend=backend), keys)

    def reports(self, size: int) -> None:
        """A year of monthly reports over `size` accommodation rows with 12 versions (bench/reports.py)."""
        out = self.section("reports", size)
        backends = ["spatialite"] + (["postgis"] if postgres_problem() is None else [])
        for backend in backends:
            out[backend] = call("bench.reports:run", rows=size, backend=backend)

    def reads(self, size: int) -> None:
        """Stores for the read benchmarks at `size`: the API (at --api-rows) and the exports."""
        from bench import api, exports, soak
        from bench.stores import prepare

        want_api = "api" in self.args.sections and size == self.args.api_rows
        want_soak = "soak" in self.args.sections and size == self.args.api_rows
        want_exports = "exports" in self.args.sections
        if not (want_api or want_soak or want_exports):
            return
        cleanup: list[Callable[[], None]] = []
        try:
            source = Path(call("bench.steps:write_source", path=str(self.work / f"read-source-{size}.csv"), rows=size))
            keyed = want_api or want_soak
            backends = ("PostGIS", "SpatiaLite") if keyed else ("PostGIS",)
            stores = self.timed(f"stores {_label(size)}", lambda: prepare(self.work, source, size, backends,
                                                                          key=keyed, log=log, cleanup=cleanup))
            if not stores and want_exports and not want_api:  # no PostgreSQL: the embedded store then
                stores = prepare(self.work, source, size, ("SpatiaLite",), key=False, log=log, cleanup=cleanup)
            if not stores:
                return
            if want_api:
                headline_runs = self.args.runs
                self.results["sections"]["api"] = self.timed("api", lambda: api.run(
                    self.work / "api", source, stores, runs=headline_runs, duration=self.args.duration,
                    connections=self.args.connections, headline_only_after=self.args.api_other_runs,
                    log=log)) or {}
            if want_soak:  # after the API: the re-ingests change the stores' rows
                self.results["sections"]["soak"] = self.timed("soak", lambda: soak.run(
                    self.work / "api", source, stores, runs=1 if self.args.quick else self.args.runs,
                    duration=max(self.args.duration * 3, 30), log=log)) or {}  # long enough to see recycling
            if want_exports:
                store = next((s for s in stores if s.backend == "PostGIS"), stores[0])
                out = self.section("exports", size)
                runs = self.runs(size)
                measured = self.timed(f"exports {_label(size)}", lambda: exports.run(store.url, runs=runs))
                out.update(measured or {})
                if store.backend != "PostGIS":
                    out["notes"].append("exports read from SpatiaLite (PostgreSQL not reachable)")
        finally:
            for step in reversed(cleanup):
                step()

    def run(self) -> dict[str, Any]:
        start = time.perf_counter()
        previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.timed("setup", self.setup)
            (self.work / "api").mkdir(exist_ok=True)
            for size in sorted(self.args.sizes):
                label = _label(size)
                needs_source = {"ingest", "validation"} & set(self.args.sections)
                source = self.timed(f"generate {label}", lambda size=size: self.generate(size)) if needs_source else None
                if "ingest" in self.args.sections and source:
                    self.timed(f"ingest {label}", lambda size=size, source=source: self.ingest(size, source))
                if "validation" in self.args.sections and source:
                    self.timed(f"validation {label}", lambda size=size, source=source: self.validation(size, source))
                self.pipeline_vs_schema(size)
                if "load" in self.args.sections:
                    self.timed(f"load {label}", lambda size=size: self.load(size))
                if "reports" in self.args.sections:
                    self.timed(f"reports {label}", lambda size=size: self.reports(size))
                self.reads(size)
                for leftover in self.work.glob(f"*{size}*.csv"):  # a million rows are 250 MB a file
                    leftover.unlink()
            if {"api", "soak"} & set(self.args.sections) and self.args.api_rows not in self.args.sizes:
                self.reads_api_only()
        except Interrupted as stop:
            log(f"stopped by {stop}: cleaning up, then the table of what was measured")
            self.notes.append(f"the run was stopped ({stop}) before its end: the table holds what was measured")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for step in reversed(self.cleanup):
                step()
            if not self.args.workdir:
                shutil.rmtree(self.work, ignore_errors=True)
        self.results.update(load_end=load_average(), timings={k: round(v, 1) for k, v in self.timings.items()},
                            total_seconds=round(time.perf_counter() - start, 1), notes=self.notes)
        return self.results

    def reads_api_only(self) -> None:
        sections = self.args.sections
        self.args.sections = [s for s in sections if s != "exports"]
        try:
            self.reads(self.args.api_rows)
        finally:
            self.args.sections = sections


def _div(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _repeat_simple(runs: int, measure: Callable[[], dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    results = [measure() for _ in range(runs)]
    out = dict(results[-1])
    for key in keys:
        out[key] = _median(r.get(key) for r in results)
        out[f"{key}_runs"] = [r.get(key) for r in results]
    out["runs"] = runs
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="row counts, comma-separated")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 rows, one run each, 3-second wrk runs: checks the harness, measures little")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of: {', '.join(SECTIONS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is shown)")
    parser.add_argument("--runs-large", type=int, default=1, help=f"runs per figure past {LARGE:,} rows")
    parser.add_argument("--api-rows", type=int, default=100_000, help="rows served in the API benchmark")
    parser.add_argument("--api-other-runs", type=int, default=1,
                        help="wrk rounds for the endpoints other than the page of 100 (which gets --runs)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--ingest-backends", default="postgis", help="hub pipeline stores: postgis,spatialite")
    parser.add_argument("--error-rate", type=float, default=0.01, help="share of generated rows with a planted error")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="no time-budget shortcuts: every step, every size, --runs")
    parser.add_argument("--workdir", type=Path, help="keep generated files, logs and databases' files here")
    parser.add_argument("--write-docs", action="store_true", help="write the table to docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here (default: bench/out/)")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.ingest_backends = [b for b in args.ingest_backends.split(",") if b]
    if args.quick:
        args.sizes = [20_000]
        args.runs = 1
        args.duration = 3
        args.api_rows = 20_000
    return args


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    command = "python -m bench" + ("" if not raw else " " + " ".join(raw))
    out = args.json or ROOT / "bench" / "out" / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    results = Bench(args, command, checkpoint=out).run()
    from bench.report import render, write_docs

    table = render(results)
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    log(f"results: {out}")
    if args.write_docs:
        write_docs(results, table, ROOT / "docs" / "benchmarks.md")
        log("docs/benchmarks.md written")
    return 1 if results["notes"] and any("failed" in n for n in results["notes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
