"""Ingest benchmark: a generated accommodation register through the whole pipeline, beside frictionless.

    python -m bench.ingest --rows 1000000            # every stage, a table and a JSON line
    python -m bench.ingest --rows 200000 --stages ingest,frictionless

Each measurement runs in its own process, so its peak memory (VmHWM from /proc, read by the process at its
end) is its own and nothing is shared or warmed between them. The timed part excludes interpreter start, imports and setup;
frictionless is timed the same way, on the same file in the same run. Figures are given per wall second and
per CPU second of the measured process: on a shared machine the CPU figure is the steadier one, but it leaves
out the database server's own work (PostGIS), which the wall figure includes.

Stages:
- `ingest`: read + normalise only (ingest.read_table, every batch);
- `validate`: publish.pipeline.run(load=False): read, normalise, validate;
- `spatialite`, `postgis`: publish.pipeline.run: read, normalise, validate, load into a fresh store;
- `frictionless`: what `frictionless validate FILE` runs (`frictionless.validate`, schema inferred, as a
  steward would run it; errors not capped, so that every row is read).

The file is shaped like a department's accommodation register (bench/generate.py). A million rows need
keys wider than the published `LT-\\d{4}` and the register has a dd/mm/yyyy notification date, so the
benchmark runs on a copy of the catalogue whose accommodation schema has a wider key pattern and one date
field more; everything else (aliases, normalisers, validation, storage) is the product's own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.generate import CODE_PATTERN, generate

__all__ = ["run", "measure", "bench_catalog", "STAGES"]

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("ingest", "validate", "spatialite", "postgis", "frictionless")
DATASET = "accommodation"
NOTIFIED_ON = {
    "name": "notified_on",
    "type": "date",
    "titles": {"vi": "Ngày thông báo hoạt động", "en": "Notified on"},
    "aliases": ["Ngày thông báo", "Ngày thông báo đủ điều kiện"],
    "classification": "public",
}


def bench_catalog(folder: Path) -> Path:
    """A copy of catalog.yaml and schemas/ in `folder`, with the benchmark's accommodation schema."""
    shutil.copy(ROOT / "catalog.yaml", folder / "catalog.yaml")
    shutil.copytree(ROOT / "schemas", folder / "schemas", dirs_exist_ok=True)
    (folder / "samples").mkdir(exist_ok=True)
    shutil.copy(ROOT / "samples" / "admin-units.geojson", folder / "samples" / "admin-units.geojson")
    path = folder / "schemas" / f"{DATASET}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    for f in schema["fields"]:
        if f["name"] == "code":
            f["constraints"]["pattern"] = CODE_PATTERN
    schema["fields"].append(NOTIFIED_ON)
    path.write_text(json.dumps(schema, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder / "catalog.yaml"


# ---- the measured processes -------------------------------------------------------------------------------


def _child(stage: str, file: Path, catalog_path: Path, db_url: str | None) -> dict[str, Any]:
    """One measurement, inside its own process; returns figures as a dict (printed as JSON)."""
    from core.catalog import load_catalog

    if stage == "frictionless":  # the call `frictionless validate FILE` makes, errors not capped
        import frictionless

        os.chdir(file.parent)  # a relative path: frictionless refuses absolute paths of untrusted files
        start, cpu = time.perf_counter(), time.process_time()
        report = frictionless.validate(file.name, limit_errors=1_000_000_000)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        task = report.tasks[0]
        return {"rows": task.stats["rows"], "seconds": seconds, "cpu_seconds": cpu, "valid": report.valid,
                "errors": task.stats["errors"]}
    catalog = load_catalog(catalog_path)
    dataset = catalog.dataset(DATASET)
    if stage == "ingest":
        from ingest import read_table

        start, cpu = time.perf_counter(), time.process_time()
        table = read_table(file, dataset.schema.descriptor)
        rows = sum(len(frame) for frame in table.batches())
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu,
                "changes": len(table.changes) + table.changes_not_kept}

    from publish import pipeline
    from publish.store import Store

    parts = _time_parts()
    store = Store.connect(db_url, catalog)
    store.init()
    # the communes first, so that foreign keys resolve (not timed)
    admin = pipeline.run(store, "admin-units", catalog.resolve("samples/admin-units.geojson"), user="bench")
    assert admin.status == "committed", admin.report.get("errors")
    for part in parts.values():
        part[:] = [0.0, 0.0]
    start, cpu = time.perf_counter(), time.process_time()
    outcome = pipeline.run(store, DATASET, file, load=stage != "validate", user="bench")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.dispose()
    breakdown = {name: {"seconds": round(w, 2), "cpu_seconds": round(c, 2)} for name, (w, c) in parts.items()}
    breakdown["other"] = {"seconds": round(seconds - sum(w for w, _ in parts.values()), 2),
                          "cpu_seconds": round(cpu - sum(c for _, c in parts.values()), 2)}
    return {
        "parts": breakdown,
        "rows": outcome.rows_read,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "status": outcome.status,
        "rows_valid": outcome.rows_valid,
        "rows_rejected": outcome.rows_rejected,
        "errors": outcome.report["tasks"][0]["stats"]["errors"],
    }


def _time_parts() -> dict[str, list[float]]:
    """Wall and CPU seconds spent in each part of pipeline.run, by wrapping the parts' entry points (in the
    measured process only; nothing else changes): read + normalise (each batch ingest yields), schema
    validation, quality checks, loading."""
    from ingest.pipeline import SourceTable
    from publish.loads import Loader
    from validate import Validator
    from validate.quality import QualityRun

    parts: dict[str, list[float]] = {"read+normalise": [0.0, 0.0], "validate": [0.0, 0.0], "quality": [0.0, 0.0],
                                     "load": [0.0, 0.0]}

    def timed(part: list[float], function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                part[0] += time.perf_counter() - wall
                part[1] += time.process_time() - cpu
        return wrapper

    batches = SourceTable.batches

    def timed_batches(self: Any, *args: Any, **kwargs: Any) -> Any:
        stream = batches(self, *args, **kwargs)
        step = timed(parts["read+normalise"], lambda: next(stream, None))
        while (frame := step()) is not None:
            yield frame

    SourceTable.batches = timed_batches  # type: ignore[method-assign]
    for cls, names, part in ((Validator, ("check", "finish"), "validate"), (QualityRun, ("add", "run"), "quality"),
                             (Loader, ("open", "stage", "reject", "commit"), "load")):
        for name in names:
            setattr(cls, name, timed(parts[part], getattr(cls, name)))
    return parts


def measure(stage: str, file: Path, catalog_path: Path, work: Path) -> dict[str, Any]:
    """One stage on `file`, in a fresh process: rows, seconds, rows/second and memory in MB.

    Memory comes three ways: `vm_hwm_mb`, the measured process's own peak (VmHWM, read by it at its end);
    `ru_maxrss_mb`, wait4's figure, which also counts what the forked child shared with this (generating)
    parent before exec (bench/proc.py); `peak_rss_mb`, the first of them that is known."""
    from bench.proc import create_database, database_url, drop_database, spawn

    db_url, database = None, None
    if stage in ("spatialite", "validate"):  # validate needs the communes stored for foreign keys
        db_url = f"sqlite:///{work / ('hub-' + uuid.uuid4().hex[:8] + '.db')}"
    elif stage == "postgis":
        database = create_database("ingest")
        db_url = database_url(database)
    args = json.dumps({"stage": stage, "file": str(file), "catalog": str(catalog_path), "db_url": db_url})
    try:
        text, ru_maxrss_kb, wall = spawn([sys.executable, "-m", "bench.ingest", "--child", args])
    finally:
        if database:
            drop_database(database)
        if db_url and db_url.startswith("sqlite:///"):
            for leftover in work.glob(Path(db_url.removeprefix("sqlite:///")).name + "*"):
                leftover.unlink()
    figures = json.loads(text.strip().splitlines()[-1])
    figures["ru_maxrss_mb"] = round(ru_maxrss_kb / 1024, 1)
    figures["vm_hwm_mb"] = figures.get("vm_hwm_mb") or None
    figures.update(stage=stage, wall_seconds=round(wall, 2), peak_rss_mb=figures["vm_hwm_mb"] or figures["ru_maxrss_mb"])
    figures["rows_per_second"] = round(figures["rows"] / figures["seconds"]) if figures["seconds"] else None
    figures["rows_per_cpu_second"] = round(figures["rows"] / figures["cpu_seconds"]) if figures["cpu_seconds"] else None
    figures["seconds"] = round(figures["seconds"], 2)
    figures["cpu_seconds"] = round(figures["cpu_seconds"], 2)
    return figures


def run(rows: int, *, seed: int = 1, error_rate: float = 0.0, stages: tuple[str, ...] = STAGES,
        workdir: Path | None = None, fmt: str = "csv") -> dict[str, Any]:
    """Generate `rows` rows and measure every stage; rows/second of each pipeline stage is also given as a
    ratio to frictionless's (the product goal: the full pipeline at least twice frictionless's speed)."""
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-")) if own else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        catalog_path = bench_catalog(work)
        file = work / f"accommodation-{rows}.{fmt}"
        start = time.perf_counter()
        planted = generate(DATASET, rows, file, seed=seed, error_rate=error_rate, fmt=fmt)
        result: dict[str, Any] = {
            "rows": rows,
            "format": fmt,
            "bytes": planted["bytes"],
            "seed": seed,
            "error_rate": error_rate,
            "planted_errors": len(planted["errors"]),
            "generate_seconds": round(time.perf_counter() - start, 1),
            "stages": {},
        }
        for stage in stages:
            if stage == "frictionless" and fmt != "csv":
                continue
            result["stages"][stage] = measure(stage, file, catalog_path, work)
        base = result["stages"].get("frictionless", {})
        for figures in result["stages"].values():
            for key, ratio in (("rows_per_second", "vs_frictionless"), ("rows_per_cpu_second", "cpu_vs_frictionless")):
                if base.get(key):
                    figures[ratio] = round(figures[key] / base[key], 2)
        return result
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def _table(result: dict[str, Any]) -> str:
    lines = [f"{result['rows']:,} rows, {result['bytes'] / 1e6:.0f} MB {result['format']}, seed {result['seed']}",
             f"{'stage':<13}{'rows/s':>10}{'seconds':>9}{'x fl.':>7}{'rows/cpu-s':>12}{'cpu s':>8}{'x fl.':>7}"
             f"{'peak MB':>9}"]
    for stage, f in result["stages"].items():
        lines.append(f"{stage:<13}{f['rows_per_second']:>10,}{f['seconds']:>9}{f.get('vs_frictionless', ''):>7}"
                     f"{f['rows_per_cpu_second']:>12,}{f['cpu_seconds']:>8}{f.get('cpu_vs_frictionless', ''):>7}"
                     f"{f['peak_rss_mb']:>9}")
    for stage, f in result["stages"].items():
        if f.get("parts"):
            lines.append(f"  {stage}: " + ", ".join(f"{name} {v['seconds']}s ({v['cpu_seconds']} cpu)"
                                                    for name, v in f["parts"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
    parser.add_argument("--workdir", type=Path, help="keep the generated file and databases here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        figures = _child(spec["stage"], Path(spec["file"]), Path(spec["catalog"]), spec["db_url"])
        from bench.proc import own_peak_mb  # imported after the work: its modules do not raise the peak

        figures["vm_hwm_mb"] = own_peak_mb()  # the process's own view, beside wait4's
        print(json.dumps(figures))
        return 0
    stages = tuple(s for s in args.stages.split(",") if s)
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    result = run(args.rows, seed=args.seed, error_rate=args.error_rate, stages=stages, workdir=args.workdir,
                 fmt=args.format)
    print(_table(result))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
