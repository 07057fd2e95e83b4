"""`python -m bench.load` stays runnable: a tiny run reports every figure, with the loads it timed correct."""

from __future__ import annotations

import pytest

from tests.conftest import require_postgres


@pytest.mark.parametrize("backend", ["spatialite", "postgis"])
def test_load_benchmark_reports_rates_beside_the_raw_baseline(backend: str) -> None:
    from bench.load import run

    if backend == "postgis":
        require_postgres()
    figures = run(2_000, backend, log=lambda *_: None)
    assert figures["rows"] == 2_000 and figures["backend"] == backend
    for name in ("raw_rows_per_second", "hub_rows_per_second", "reload_rows_per_second"):
        assert figures[name] > 0
    assert figures["ratio_to_raw"] > 0 and figures["reload_seconds"] > 0
