"""Validation alone: the hub's Validator beside frictionless, on the same canonical file, with the same schema.

The source file is first turned into its canonical form by the hub's own ingest (field names as headers,
dates ISO, enum slugs, numbers with a point; not timed), so both validators read one plain CSV and check the
same rules: types, required, patterns, enums, ranges, the primary key. Foreign keys are left out of the schema
for both (frictionless would need the referenced table in a data package; the hub checks them against the
store) — everything else in the schema is the product's.

Each validator runs in a fresh process: `validate.validate_file` (CSV reading + Validator.check per batch +
the report) and `frictionless.validate(path, schema=...)`, errors not capped so every row is read.

    python -m bench.validation --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.proc import child, own_peak_mb, repeat

__all__ = ["canonical_csv", "validation_schema", "measure", "run"]

DATASET = "accommodation"


def validation_schema(catalog_path: Path, out: Path) -> Path:
    """The benchmark catalogue's accommodation schema without foreign keys, written to `out`."""
    from core.catalog import load_catalog

    schema = dict(load_catalog(catalog_path).dataset(DATASET).schema.descriptor)
    schema.pop("foreignKeys", None)
    out.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return out


def canonical_csv(source: Path, catalog_path: Path, out: Path) -> dict[str, Any]:
    """The hub's ingest output of `source` (canonical text per schema field) as a CSV; rows and seconds."""
    from core.catalog import load_catalog
    from ingest import read_table

    start = time.perf_counter()
    schema = load_catalog(catalog_path).dataset(DATASET).schema.descriptor
    names = [f["name"] for f in schema["fields"]]
    table = read_table(source, schema)
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for frame in table.batches():
            columns = [frame[n].tolist() if n in frame.columns else [None] * len(frame) for n in names]
            writer.writerows(zip(*columns, strict=True))
            rows += len(frame)
    return {"rows": rows, "seconds": round(time.perf_counter() - start, 2), "bytes": out.stat().st_size}


def _child(stage: str, file: Path, schema_path: Path) -> dict[str, Any]:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    if stage == "frictionless":
        import frictionless

        os.chdir(file.parent)  # frictionless refuses absolute paths of untrusted files
        descriptor = frictionless.Schema.from_descriptor(schema)
        start, cpu = time.perf_counter(), time.process_time()
        report = frictionless.validate(file.name, schema=descriptor, limit_errors=1_000_000_000)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        task = report.tasks[0]
        return {"rows": task.stats["rows"], "errors": task.stats["errors"], "seconds": seconds, "cpu_seconds": cpu,
                "peak_rss_mb": own_peak_mb()}
    from validate import validate_file

    start, cpu = time.perf_counter(), time.process_time()
    report = validate_file(file, schema)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = report.to_dict()["tasks"][0]["stats"]
    return {"rows": stats["rows"], "errors": stats["errors"], "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mb": own_peak_mb()}


def measure(stage: str, file: Path, schema_path: Path) -> dict[str, Any]:
    """One run of `stage` ("hub" or "frictionless") in a fresh process."""
    figures = child("bench.validation", {"stage": stage, "file": str(file), "schema": str(schema_path)})
    figures["rows_per_second"] = round(figures["rows"] / figures["seconds"])
    figures["rows_per_cpu_second"] = round(figures["rows"] / figures["cpu_seconds"]) if figures["cpu_seconds"] else None
    return figures


def run(file: Path, schema_path: Path, *, runs: int = 3, stages: tuple[str, ...] = ("hub", "frictionless"),
        frictionless_runs: int | None = None) -> dict[str, Any]:
    """Median figures of each stage; `vs_frictionless` is the hub's rows/s over frictionless's."""
    keys = ("rows_per_second", "rows_per_cpu_second", "peak_rss_mb", "seconds")
    out: dict[str, Any] = {}
    for stage in stages:
        n = frictionless_runs if stage == "frictionless" and frictionless_runs else runs
        out[stage] = repeat(n, lambda stage=stage: measure(stage, file, schema_path), keys)
    if "hub" in out and "frictionless" in out:
        out["vs_frictionless"] = round(out["hub"]["rows_per_second"] / out["frictionless"]["rows_per_second"], 2)
        out["errors_agree"] = out["hub"]["errors"] == out["frictionless"]["errors"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.validation", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.01)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec["stage"], Path(spec["file"]), Path(spec["schema"]))))
        return 0
    from bench.generate import generate
    from bench.ingest import bench_catalog

    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        work = Path(tmp)
        catalog_path = bench_catalog(work)
        source = work / "source.csv"
        generate(DATASET, args.rows, source, error_rate=args.error_rate)
        canonical_csv(source, catalog_path, work / "canonical.csv")
        result = run(work / "canonical.csv", validation_schema(catalog_path, work / "schema.json"), runs=args.runs)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
