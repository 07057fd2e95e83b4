"""What a load does with rows that fail: the dataset's policy for schema errors, the suite's severity for quality
problems. Real stores, both backends (the `hub` fixture)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from publish import pipeline, query, versions
from tests.steward.reference import MESSY, SAMPLES, SAMPLES_DAY, write_admin_units_csv


@pytest.fixture
def communes(hub, tmp_path: Path):  # noqa: ANN001, ANN201
    """The hub with its 95 communes and wards published (codes only: fast)."""
    outcome = pipeline.run(hub.store, "admin-units", write_admin_units_csv(tmp_path / "units.csv"), user="tests")
    assert outcome.status == "committed"
    return hub


def _served_keys(hub, dataset: str) -> set[str]:  # noqa: ANN001
    ds = hub.catalog.dataset(dataset)
    key = ds.schema.primary_key[0]
    return {r[key] for r in query.iter_records(hub.store, ds)}


def test_quarantined_load_serves_only_valid_rows_and_keeps_the_rest(communes) -> None:  # noqa: ANN001
    hub = communes
    outcome = pipeline.run(hub.store, "heritage-sites", MESSY / "heritage-sites.csv", user="tests", today=SAMPLES_DAY)
    assert outcome.status == "committed" and outcome.rows_rejected > 0
    served = _served_keys(hub, "heritage-sites")
    kept = versions.rejected_rows(hub.store, outcome.load.load_id)
    assert len(served) == outcome.rows_valid and len(kept) == outcome.rows_rejected
    rejected_rows = {r["row"] for r in kept}
    assert rejected_rows == {e["rowNumber"] for e in outcome.report["tasks"][0]["errors"]}
    # a rejected row is kept with its source text and messages, and is not served
    bad = next(r for r in kept if r["row"] == 5)  # planted: code "DT-12" breaks the pattern DT-nnnn
    assert bad["data"]["code"] == "DT-12" and bad["errors"] and "DT-12" not in served
    load = versions.loads(hub.store, "heritage-sites")[0]
    assert load["status"] == "committed" and load["rows_rejected"] == outcome.rows_rejected
    assert load["quality_score"] == outcome.quality_score and 0 < load["quality_score"] < 1


def test_reject_policy_refuses_the_whole_file_and_keeps_its_invalid_rows(communes) -> None:  # noqa: ANN001
    hub = communes
    outcome = pipeline.run(hub.store, "licences", MESSY / "licences.csv", user="tests", today=SAMPLES_DAY)
    assert outcome.status == "rejected" and outcome.load.version is None
    assert _served_keys(hub, "licences") == set()
    assert len(versions.rejected_rows(hub.store, outcome.load.load_id)) == outcome.rows_rejected > 0
    assert versions.load_report(hub.store, outcome.load.load_id)["quality"]["blocked"] is True


def _with_extra_row(source: Path, target: Path, change: dict[str, str]) -> Path:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows.append({**rows[0], **change})
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_a_blocking_quality_problem_refuses_a_quarantine_load(communes, tmp_path: Path) -> None:  # noqa: ANN001
    hub = communes
    first = pipeline.run(hub.store, "heritage-sites", SAMPLES / "heritage-sites.csv", user="tests", today=SAMPLES_DAY)
    assert first.status == "committed" and first.load.version == 1
    # the first site again under a new code: the same site recorded twice (duplicate-site is a `block` check)
    twice = _with_extra_row(SAMPLES / "heritage-sites.csv", tmp_path / "twice.csv", {"code": "DT-0999"})
    outcome = pipeline.run(hub.store, "heritage-sites", twice, user="tests", today=SAMPLES_DAY)
    assert outcome.valid and outcome.blocked and outcome.status == "rejected"
    assert hub.store.current_version("heritage-sites") == 1 and "DT-0999" not in _served_keys(hub, "heritage-sites")
    duplicate = next(e for e in outcome.report["quality"]["expectations"] if e["id"] == "duplicate-site")
    assert duplicate["unexpected"] == 2 and {r["rowNumber"] for r in duplicate["rows"]} == {2, 50}


def test_a_warning_quality_problem_loads_and_is_reported(communes, tmp_path: Path) -> None:  # noqa: ANN001
    hub = communes
    starred = _with_extra_row(SAMPLES / "accommodation.csv", tmp_path / "starred.csv",
                              {"code": "LT-0999", "name": "Homestay Sao", "type": "nha_o_co_phong_cho_khach_du_lich_thue",
                               "star_rank": "4"})
    outcome = pipeline.run(hub.store, "accommodation", starred, user="tests", today=SAMPLES_DAY)
    assert outcome.status == "committed" and "LT-0999" in _served_keys(hub, "accommodation")
    star = next(e for e in outcome.report["quality"]["expectations"] if e["id"] == "star-rank-not-applicable")
    assert not star["success"] and star["rows"][0]["rowNumber"] == 152
    assert versions.loads(hub.store, "accommodation")[0]["quality_score"] < 1
