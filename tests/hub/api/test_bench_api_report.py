"""The API benchmark's table (bench/report.py) judges every goal of issue 20 from a run's figures, and
`--write-docs` of one section keeps the per-layer tables and the earlier runs of other sections
(docs/benchmarks.md is written by more than one command). No server: made-up figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import api
from bench.layers import BEGIN, END
from bench.layers import write_docs as write_layers
from bench.report import render, write_docs


def _figures(rps: float, p99: float = 50.0) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "non_2xx": 0, "socket_errors": 0}


def _results(command: str, sections: list[str]) -> dict[str, Any]:
    hub = {e: _figures(900.0) for e in api.JSON_ENDPOINTS} | {"csv": {**_figures(3.0), "rows_per_second": 30_000}}
    hub["walk"] = _figures(300.0, p99=150.0)
    targets = {"hub (PostGIS)": hub, "bare (PostGIS)": {e: _figures(400.0) for e in ("page", "walk", "filtered")},
               "Datasette": {e: _figures(100.0) for e in api.ENDPOINTS} | {"csv": {**_figures(1.0), "rows_per_second": 10_000}},
               api.CEILING: {e: _figures(3600.0) for e in ("page", "record")}}
    section = {"rows": 100_000, "duration": 10, "connections": 32, "runs": 1, "other_runs": 1, "targets": targets,
               "ratios": api.ratios(targets), "notes": []}
    return {"command": command, "started": "2026-12-06 17:00 UTC", "requested_sections": sections,
            "machine": {"cores": 2, "cpu": "test", "memory_gb": 1, "os": "test", "commit": "x", "python": "3"},
            "load_start": (0.1, 0.1, 0.1), "load_end": (0.1, 0.1, 0.1), "sizes": [100_000],
            "runs_at": {"100000": 1}, "sections": {"api": section}, "timings": {}, "total_seconds": 1}


def test_the_api_table_judges_each_goal_against_its_peer() -> None:
    table = render(_results("python -m bench --sections api", ["api"]))
    lines = {line.split("÷", 1)[1].split("  ")[0].strip(): line for line in table.splitlines()
             if line.startswith("  hub (PostGIS) ÷")}
    assert lines["bare, page hot"].rstrip().endswith("2.25× ✓   ≥ 2×")
    assert lines["Datasette, page hot"].rstrip().endswith("9.00× ✓   ≥ 8×")
    assert lines["bare, cursor walk cold"].rstrip().endswith("0.75× ✓   ≥ 0.7×")
    assert lines["Datasette, record cold"].rstrip().endswith("9.00× ✓   ≥ 1×")
    # the Flask ceiling is a reference, not a goal: its share is shown without a mark
    assert lines["Flask ceiling, page hot"].rstrip().endswith("0.25×")
    p99 = next(line for line in table.splitlines() if line.startswith("  hub (PostGIS) p99 ms:"))
    assert "walk 150" in p99 and p99.rstrip().endswith("✗ (goal < 100 ms at 32 connections, each)")


def test_writing_one_section_keeps_the_layer_tables_and_the_other_sections_runs(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    full = _results("python -m bench --write-docs", ["ingest", "api"])
    write_docs(full, "FULL RUN TABLE", docs)
    write_layers("LAYER TABLE", docs)
    write_docs(_results("python -m bench --sections api", ["api"]), "API RUN TABLE", docs)
    text = docs.read_text(encoding="utf-8")
    assert f"{BEGIN}\nLAYER TABLE\n{END}" in text
    assert text.index("API RUN TABLE") < text.index("FULL RUN TABLE")  # the newest first, the full run kept
    write_docs(full, "NEW FULL RUN TABLE", docs)  # a run of every section replaces both
    text = docs.read_text(encoding="utf-8")
    assert "NEW FULL RUN TABLE" in text and "API RUN TABLE" not in text and "LAYER TABLE" in text
