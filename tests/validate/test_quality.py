"""Quality suites (schemas/<id>.quality.yaml) run with Great Expectations on the rows that passed the schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalog import Schema
from core.errors import CatalogError
from core.text import search_fold
from publish import pipeline
from tests.steward.reference import (
    DATASETS,
    MESSY,
    SAMPLES,
    SAMPLES_DAY,
    expected,
    reference_hub,
    write_admin_units_csv,
)
from validate.quality import QualityRun, _folded_hash, quality_score
from validate.quality_suite import load_suite

#: findings on rows the sample did not plant, each explained: they are true problems of those rows
EXPLAINED = {"travel-agencies": {6}}  # row 6 holds row 7's domestic licence (the planted duplicate) yet is "quoc_te"
SOURCES = {sid: SAMPLES / ("admin-units.geojson" if sid == "admin-units" else f"{sid}.csv") for sid in DATASETS}


def _quality(sid: str, path: Path) -> tuple[pipeline.Outcome, dict]:
    hub = reference_hub()
    outcome = pipeline.run(hub.store, sid, path, load=False, today=SAMPLES_DAY)
    return outcome, outcome.report["quality"]


def _found(quality: dict) -> set[tuple[str, int, str]]:
    return {(e["type"], r["rowNumber"], f) for e in quality["expectations"] if not e["success"]
            for r in e["rows"] for f in e["fields"]}


@pytest.mark.parametrize("sid", DATASETS)
def test_every_planted_quality_problem_is_found(sid: str) -> None:
    outcome, quality = _quality(sid, MESSY / f"{sid}.csv")
    found = _found(quality)
    for planted in expected(sid)["quality"]:
        assert (planted["type"], planted["rowNumber"], planted["fieldName"]) in found, (planted, sorted(found))
    # other findings only where the sample planted a schema error that ingest repaired (the row became valid)
    # or in whole-file completeness checks, never on a row the sample's author marked as clean
    quality_rows = {q["rowNumber"] for q in expected(sid)["quality"]} | EXPLAINED.get(sid, set())
    repaired_rows = {e["rowNumber"] for e in expected(sid)["errors"]} & {c["row"] for c in outcome.report["hub"]["changes"]}
    for e in quality["expectations"]:
        if not e["success"] and not e.get("threshold"):
            for r in e["rows"]:
                assert r["rowNumber"] in quality_rows | repaired_rows, (e["id"], r)


@pytest.mark.parametrize("sid", DATASETS)
def test_clean_sample_meets_every_expectation(sid: str) -> None:
    outcome, quality = _quality(sid, SOURCES[sid])
    assert outcome.valid and not outcome.blocked
    assert [e["id"] for e in quality["expectations"] if not e["success"]] == []
    assert outcome.quality_score == 1.0
    assert quality["notes"] == []  # boundaries were there: every point was checked


def test_a_quality_row_names_the_fields_and_values_to_look_at() -> None:
    _, quality = _quality("accommodation", MESSY / "accommodation.csv")
    star = next(e for e in quality["expectations"] if e["id"] == "star-rank-not-applicable")
    assert star["success"] is False and star["severity"] == "warn" and star["unexpected"] == 1
    assert star["rows"] == [{"rowNumber": 18, "values": {"star_rank": 3, "type": "nha_o_co_phong_cho_khach_du_lich_thue"}}]
    assert star["description"]["vi"].startswith("Chỉ khách sạn") and star["description"]["en"].startswith("Only hotels")
    assert star["expectation"] == "expect_column_values_to_be_null"


def test_personal_values_never_reach_the_quality_section() -> None:
    _, quality = _quality("licences", MESSY / "licences.csv")
    text = json.dumps(quality, ensure_ascii=False)
    cccd = "075190999123"  # row 20: an organisation's row with a CCCD number (planted)
    assert cccd in (MESSY / "licences.csv").read_text(encoding="utf-8") and cccd not in text
    flagged = next(e for e in quality["expectations"] if e["id"] == "unexpected-personal-data")
    assert flagged["rows"][0]["rowNumber"] == 20 and flagged["rows"][0]["hidden"] == ["holder_id_number"]


def test_a_blocking_expectation_marks_the_file_blocked() -> None:
    outcome, quality = _quality("licences", MESSY / "licences.csv")
    expiry = next(e for e in quality["expectations"] if e["id"] == "expiry-before-issue")
    assert expiry["severity"] == "block" and not expiry["success"]
    assert quality["blocked"] and outcome.blocked and outcome.status == "invalid"


def test_without_published_boundaries_points_are_not_checked_and_the_report_says_so(hub, tmp_path: Path) -> None:  # noqa: ANN001
    pipeline.run(hub.store, "admin-units", write_admin_units_csv(tmp_path / "units.csv"), user="tests")  # codes only
    outcome = pipeline.run(hub.store, "sports-venues", MESSY / "sports-venues.csv", load=False, today=SAMPLES_DAY)
    quality = outcome.report["quality"]
    province = next(e for e in quality["expectations"] if e["id"] == "point-outside-province")
    assert province["success"] and province["checked"] == 0
    assert quality["notes"] and "boundaries" in quality["notes"][0]["en"]


def test_score_is_valid_share_times_weighted_share_met() -> None:
    entries = [{"weight": 1.0, "success": True, "met": 1.0}, {"weight": 3.0, "success": False, "met": 0.5}]
    assert quality_score(200, 150, {"expectations": entries}) == round(0.75 * (1 + 3 * 0.5) / 4, 4)
    assert quality_score(10, 10, None) == 1.0
    assert quality_score(0, 0, None) is None


def test_many_failures_are_all_counted_and_twenty_are_listed() -> None:
    schema = reference_hub().catalog.dataset("accommodation").schema
    suite = load_suite(schema)
    n = 30_000
    rows = np.arange(2, n + 2)
    frame = pd.DataFrame({
        "code": [f"LT-{i:05d}" for i in range(n)], "name": ["Nhà nghỉ A"] * n, "address": [f"Số {i}" for i in range(n)],
        "type": ["nha_nghi_du_lich"] * n, "star_rank": pd.array([2] * n, dtype="Int64"),
        "rooms": pd.array([12] * n, dtype="Int64"), "phone": pd.Series([None] * n, dtype="str"),
        "lat": pd.array([11.0] * n, dtype="Float64"), "lon": pd.array([107.0] * n, dtype="Float64"),
        "commune_code": ["26041"] * n, "_row": rows})
    run = QualityRun(suite, schema, today=SAMPLES_DAY)
    run.add(frame.iloc[: n // 2])
    run.add(frame.iloc[n // 2:])
    quality = run.run()
    star = next(e for e in quality["expectations"] if e["id"] == "star-rank-not-applicable")
    assert star["unexpected"] == n and star["checked"] == n and star["met"] == 0.0
    assert [r["rowNumber"] for r in star["rows"]] == list(range(2, 22))
    phone = next(e for e in quality["expectations"] if e["id"] == "phone-completeness")
    assert not phone["success"] and phone["threshold"] == 0.8 and phone["unexpected"] == n


def test_the_checked_rows_are_freed_once_the_quality_run_is_over() -> None:
    """Great Expectations' data source keeps every batch it validated: a million-row ingest would carry its
    rows (~100 MB) into the commit, and a server would hold the last upload's rows until the next one."""
    import gc

    schema = reference_hub().catalog.dataset("accommodation").schema
    run = QualityRun(load_suite(schema), schema, today=SAMPLES_DAY)
    n = 2_000
    run.add(pd.DataFrame({
        "code": [f"LT-{i:05d}" for i in range(n)], "name": ["Nhà nghỉ A"] * n, "address": [f"Số {i}" for i in range(n)],
        "type": ["khach_san"] * n, "star_rank": pd.array([2] * n, dtype="Int64"),
        "rooms": pd.array([12] * n, dtype="Int64"), "phone": ["0251 3822 123"] * n,
        "lat": pd.array([11.0] * n, dtype="Float64"), "lon": pd.array([107.0] * n, dtype="Float64"),
        "commune_code": ["26041"] * n, "_row": np.arange(2, n + 2)}))
    quality = run.run()
    assert quality["rows"] == n
    del run
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) == n]  # GE gets copies too
    assert kept == []


def test_the_same_name_at_the_same_address_is_a_duplicate_whatever_the_accents(tmp_path: Path) -> None:
    schema = reference_hub().catalog.dataset("heritage-sites").schema
    frame = pd.DataFrame({"code": ["DT-0001", "DT-0002", "DT-0003"], "name": ["Đình Tân Lân", "đình tan lan ", "Đình Khác"],
                          "address": ["Phường Trấn Biên", "phuong tran bien", "Phường Trấn Biên"],
                          "_row": [2, 3, 4]})
    run = QualityRun(load_suite(schema), schema, today=SAMPLES_DAY)
    run.add(frame.assign(**{c: None for c in schema.field_names if c not in frame.columns}))
    duplicate = next(e for e in run.run()["expectations"] if e["id"] == "duplicate-site")
    assert duplicate["unexpected"] == 2 and duplicate["severity"] == "block"
    assert [(r["rowNumber"], r["same_as"]) for r in duplicate["rows"]] == [(2, [3]), (3, [2])]


def test_every_dataset_suite_loads_against_its_schema() -> None:
    for dataset in reference_hub().catalog:
        if dataset.report:  # a report's statistics dataset: its rows are checked by the generated schema only
            continue
        suite = load_suite(dataset.schema)
        assert suite is not None and suite.expectations, dataset.id
        for e in suite.expectations:
            assert e.description["vi"] and e.description["en"] and e.severity in ("warn", "block")


def test_a_mistake_in_a_suite_names_the_file_and_the_expectation(tmp_path: Path) -> None:
    descriptor = {"name": "demo", "fields": [{"name": "code", "type": "string"}], "primaryKey": ["code"]}
    (tmp_path / "demo.quality.yaml").write_text(
        "expectations:\n  - id: code-filled\n    check: filled\n    field: kode\n"
        "    description: {vi: Có mã, en: Has a code}\n", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_suite(Schema(descriptor, tmp_path / "demo.json"))
    assert caught.value.context["file"].endswith("demo.quality.yaml") and caught.value.context["field"] == "code-filled"
    assert "kode" in caught.value.vi and "kode" in caught.value.en


def test_a_file_without_valid_rows_is_reported_by_the_schema_not_blocked_by_quality(tmp_path: Path) -> None:
    lines = (SAMPLES / "heritage-sites.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    broken = tmp_path / "broken.csv"
    broken.write_text(lines[0] + lines[1].replace("DT-0001", "DT1", 1), encoding="utf-8")
    outcome, quality = _quality("heritage-sites", broken)
    assert outcome.rows_valid == 0 and not outcome.valid and not outcome.blocked
    assert quality["rows"] == 0 and all(e["success"] and e["checked"] == 0 for e in quality["expectations"])
    assert outcome.quality_score == 0.0


@pytest.mark.parametrize("sid", ["accommodation", "heritage-sites", "licences"])
def test_quality_findings_do_not_depend_on_how_the_file_is_batched(sid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, whole = _quality(sid, MESSY / f"{sid}.csv")
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 3)  # many small batches: categories differ from batch to batch
    _, batched = _quality(sid, MESSY / f"{sid}.csv")
    assert batched == whole


@pytest.mark.parametrize("sid", DATASETS)
def test_a_big_files_quality_counted_column_by_column_reports_the_same(sid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """From quality_gx.SPLIT_ROWS rows GX counts each expectation on only the columns it reads (issue 21's peak
    memory): the report is the one a single pass over every column gives, findings and counts alike."""
    from validate import quality_gx

    _, whole = _quality(sid, MESSY / f"{sid}.csv")
    monkeypatch.setattr(quality_gx, "SPLIT_ROWS", 0)
    _, split = _quality(sid, MESSY / f"{sid}.csv")
    assert [e["success"] for e in whole["expectations"]].count(False) > 0  # the messy sample fails some
    assert split == whole


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.none() | st.text(alphabet="aAđĐ ởờ\u0301ßﬁ\x00,", max_size=8),
                          st.none() | st.text(alphabet="aAđĐ ởờ\u0301ßﬁ\x00,", max_size=8)), min_size=1, max_size=30),
       st.sampled_from(["str", "string", "object"]))
def test_duplicate_keys_are_the_search_folded_texts_hashes_whatever_the_columns_dtype(
        rows: list[tuple[str | None, str | None]], dtype: str) -> None:
    """`unique_together` compares hashes of the fields' search-folded texts, joined by U+001F (NA where one is
    missing): a text column's are folded from its Arrow strings, another's from its Python texts; the same
    hashes either way."""
    frame = pd.DataFrame({"name": pd.Series([r[0] for r in rows], dtype=dtype),
                          "address": pd.Series([r[1] for r in rows], dtype=dtype)})
    keys = _folded_hash(frame, ["name", "address"])
    expected = [hash("\x1f".join(search_fold(v if isinstance(v, str) else "") for v in row)) for row in rows]
    assert keys.to_numpy(dtype=np.int64, na_value=0).tolist() == [
        0 if None in row else h for row, h in zip(rows, expected, strict=True)]
    assert keys.isna().tolist() == [None in row for row in rows]
    alone = _folded_hash(frame, ["name"])
    assert [h for h, row in zip(alone.to_numpy(dtype=np.int64, na_value=0).tolist(), rows, strict=True)
            if row[0] is not None] == [hash(search_fold(row[0])) for row in rows if row[0] is not None]


def test_listed_rows_show_their_own_values_whatever_the_order_of_the_batches() -> None:
    """The listed rows' values are found by row number (without pandas' label lookup, whose hash table of a
    big frame's index costs ~30 MB): right when the batches come in another order than the rows."""
    schema = reference_hub().catalog.dataset("accommodation").schema
    n = 4
    frame = pd.DataFrame({
        "code": [f"LT-{i:05d}" for i in range(n)], "name": ["Khách sạn A"] * n, "address": [f"Số {i}" for i in range(n)],
        "type": ["khach_san"] * n, "star_rank": pd.array([1] * n, dtype="Int64"),
        "rooms": pd.array([5, 20, 3, 30], dtype="Int64"), "phone": ["0251 3822 123"] * n,
        "lat": pd.array([11.0] * n, dtype="Float64"), "lon": pd.array([107.0] * n, dtype="Float64"),
        "commune_code": ["26041"] * n, "_row": [7, 3, 9, 5]})
    run = QualityRun(load_suite(schema), schema, today=SAMPLES_DAY)
    run.add(frame.iloc[2:])
    run.add(frame.iloc[:2])
    rooms = next(e for e in run.run()["expectations"] if e["id"] == "hotel-1-star-rooms")
    assert [(r["rowNumber"], r["values"]["rooms"]) for r in rooms["rows"]] == [(7, 5), (9, 3)]


def test_the_frame_of_spilled_batches_is_the_frame_of_all_rows_at_once() -> None:
    """The batches' parts wait pickled in a temporary file until the run: read back, they make the same frame
    (values, dtypes, row numbers) as the rows given in one batch."""
    schema = reference_hub().catalog.dataset("accommodation").schema
    n = 9
    frame = pd.DataFrame({
        "code": [f"LT-{i:05d}" for i in range(n)], "name": ["Khách sạn A", "Nhà nghỉ B", None] * 3,
        "address": [f"Số {i}" for i in range(n)], "type": ["khach_san", "nha_nghi_du_lich", "khach_san"] * 3,
        "star_rank": pd.array([1, None, 3] * 3, dtype="Int64"), "rooms": pd.array(range(n), dtype="Int64"),
        "phone": ["0251 3822 123", None, "0251 3822 124"] * 3,
        "lat": pd.array([11.0, None, 11.2] * 3, dtype="Float64"), "lon": pd.array([107.0] * n, dtype="Float64"),
        "commune_code": ["26041", "26068", "26041"] * 3, "_row": np.arange(2, n + 2)})
    whole, parts = QualityRun(load_suite(schema), schema), QualityRun(load_suite(schema), schema)
    whole.add(frame)
    for start in range(0, n, 4):
        parts.add(frame.iloc[start:start + 4])
    one, joined = whole.frame(), parts.frame()
    assert parts.rows == n and list(joined.index) == list(range(2, n + 2))
    for name in one.columns:
        assert joined[name].astype(object).tolist() == one[name].astype(object).tolist(), name
        assert str(joined[name].dtype).startswith(str(one[name].dtype).split("(")[0]), name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.none() | st.integers(-3, 3) | st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=40))
def test_a_uniqueness_check_counts_what_great_expectations_counts(keys: list[int | None]) -> None:
    """The hashed keys' uniqueness is counted by sorting them (GX's hash table of a million keys was the
    highest point of a million-row ingest): the same counts and verdict as GX's own check of the same column,
    and the rows listed still come from GX."""
    from validate import quality_gx

    gx = quality_gx.gx()
    frame = pd.DataFrame({"k": pd.array(keys, dtype="Int64")},
                         index=pd.Index(np.arange(len(keys), dtype=np.int64) * 2 + 2, name="_row"))
    check = gx.expectations.ExpectColumnValuesToBeUnique(column="k", meta={"hub_n": 0})
    [(ours, rows, error)] = quality_gx.validate(frame, [check], 20)
    source = quality_gx._context().data_sources.add_or_update_pandas("test-unique")
    try:
        batch = source.add_dataframe_asset("rows").add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame})
        theirs = batch.validate(check, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20})
    finally:
        quality_gx._context().data_sources.delete("test-unique")
    expected = theirs.to_json_dict()
    summary_only = {"partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts"}
    assert error is None and ours["success"] == expected["success"]
    assert {k: v for k, v in ours.items() if k not in summary_only | {"success"}} == {
        k: v for k, v in expected["result"].items() if k not in summary_only}
    listed = expected["result"]["partial_unexpected_index_list"] or []
    assert rows == sorted(item["_row"] for item in listed)
