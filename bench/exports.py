"""Exports of the whole dataset: `publish.exports.export_stream` for CSV, GeoJSON and XLSX, each in a fresh
process reading a filled hub store, as the web site's downloads and `hub export` do. The bytes are consumed and
counted, not kept; peak memory is the process's RSS high-water mark, and the RSS before the export started
(imports, store) is given too, so what the export itself adds is visible.

    python -m bench.exports --rows 20000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.proc import child, own_peak_mb, repeat

__all__ = ["FORMATS", "measure", "run"]

FORMATS = ("csv", "geojson", "xlsx")
DATASET = "accommodation"


def _rss_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _child(url: str, fmt: str) -> dict[str, Any]:
    from core.catalog import load_catalog
    from publish.exports import export_stream
    from publish.query import count_current
    from publish.store import Store

    store = Store.connect(url, load_catalog(Path(__file__).resolve().parent.parent / "catalog.yaml"))
    dataset = store.catalog.dataset(DATASET)
    rows = count_current(store, dataset)
    before = _rss_mb("VmRSS")
    size = 0
    start, cpu = time.perf_counter(), time.process_time()
    for chunk in export_stream(store, dataset, fmt):
        size += len(chunk)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.dispose()
    return {"format": fmt, "rows": rows, "bytes": size, "seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": before,
            "peak_rss_mb": own_peak_mb()}


def measure(url: str, fmt: str) -> dict[str, Any]:
    figures = child("bench.exports", {"url": url, "format": fmt})
    figures["rows_per_second"] = round(figures["rows"] / figures["seconds"]) if figures["seconds"] else None
    return figures


def run(url: str, *, runs: int = 3, formats: tuple[str, ...] = FORMATS) -> dict[str, Any]:
    """Median rows/s, seconds and peak RSS per format."""
    keys = ("rows_per_second", "seconds", "peak_rss_mb", "rss_before_mb")
    return {fmt: repeat(runs, lambda fmt=fmt: measure(url, fmt), keys) for fmt in formats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(_child(spec["url"], spec["format"])))
        return 0
    from bench.stores import fill_hub, write_source

    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'hub.db'}"
        fill_hub(url, write_source(work / "accommodation.csv", args.rows))
        print(json.dumps(run(url, runs=args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
