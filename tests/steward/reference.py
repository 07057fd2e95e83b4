"""Hubs the validation and steward tests build on.

`reference_hub()`: one SpatiaLite hub per test process with the admin-units sample (the communes' codes and
boundaries) loaded, for tests that only validate files against it (no load: they never change it). Loading
the GeoJSON takes ~10 s, so it is built once and kept. `write_admin_units_csv()` writes the 95 communes
without boundaries: a fresh store gets its foreign-key targets in a second.
"""

from __future__ import annotations

import atexit
import csv
import json
import shutil
import tempfile
from datetime import date
from functools import cache
from pathlib import Path

from core.config import PROJECT_ROOT, Settings
from publish.context import Hub

SAMPLES = PROJECT_ROOT / "samples"
MESSY = SAMPLES / "messy"
#: "today" for quality rules in tests: after every date the clean samples hold, before the planted future ones
SAMPLES_DAY = date(2026, 5, 1)
DATASETS = ["admin-units", "heritage-sites", "sports-venues", "accommodation", "travel-agencies", "licences"]


@cache
def reference_hub() -> Hub:
    from publish import pipeline

    folder = Path(tempfile.mkdtemp(prefix="hub-reference-"))
    atexit.register(shutil.rmtree, folder, True)
    settings = Settings(database_url=f"sqlite:///{folder / 'hub.db'}", storage_dir=folder / "storage",
                        secret_key="test-secret")
    hub = Hub.open(settings, init=True)
    outcome = pipeline.run(hub.store, "admin-units", SAMPLES / "admin-units.geojson", user="tests")
    assert outcome.status == "committed", outcome.report.get("tasks")
    return hub


def write_admin_units_csv(path: Path) -> Path:
    """The 95 communes and wards as CSV, boundaries left out (fast to load)."""
    features = json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))["features"]
    names = ["code", "name", "name_en", "full_name", "full_name_en", "unit_type", "lat", "lon"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for feature in features:
            writer.writerow([feature["properties"][n] for n in names])
    return path


def expected(dataset: str) -> dict:
    return json.loads((MESSY / f"{dataset}.expected.json").read_text(encoding="utf-8"))
