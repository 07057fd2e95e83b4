"""The heavy steps `python -m bench` runs through `bench.proc.call`, each in a process of its own: JSON-friendly
wrappers (paths as text, results as plain dicts) around the other engineers' modules and ours.

The orchestrator stays small that way (see bench/proc.py: a child's ru_maxrss starts from its parent's peak).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["bench_catalog", "generate", "ingest_measure", "canonical_csv", "validation_schema", "load_run",
           "raw_copy", "write_source", "datasette_db"]


def _log(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def bench_catalog(folder: str) -> str:
    from bench.ingest import bench_catalog as make

    Path(folder).mkdir(parents=True, exist_ok=True)
    return str(make(Path(folder)))


def generate(dataset: str, rows: int, path: str, seed: int, error_rate: float) -> dict[str, Any]:
    from bench.generate import generate as make

    facts = make(dataset, rows, Path(path), seed=seed, error_rate=error_rate)
    return {k: v for k, v in facts.items() if k != "errors"} | {"planted": len(facts["errors"])}


def ingest_measure(stage: str, file: str, catalog: str, work: str) -> dict[str, Any]:
    from bench.ingest import measure

    return measure(stage, Path(file), Path(catalog), Path(work))


def canonical_csv(source: str, catalog: str, out: str) -> dict[str, Any]:
    from bench.validation import canonical_csv as make

    return make(Path(source), Path(catalog), Path(out))


def validation_schema(catalog: str, out: str) -> str:
    from bench.validation import validation_schema as make

    return str(make(Path(catalog), Path(out)))


def load_run(rows: int, backend: str) -> dict[str, Any]:
    from bench.load import run

    return run(rows, backend, log=_log)


def raw_copy(url: str, path: str) -> dict[str, Any]:
    from bench.peers import raw_copy as copy

    return copy(url, Path(path))


def write_source(path: str, rows: int) -> str:
    from bench.stores import write_source as write

    return str(write(Path(path), rows))


def datasette_db(source: str, out: str) -> dict[str, Any]:
    from bench.stores import datasette_db as make

    return make(Path(source), Path(out))
