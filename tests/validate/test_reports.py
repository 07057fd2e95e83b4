"""The steward's report: what it lists for the messy samples, the files `hub validate` / `hub report` write, the
HTML in a real browser and rows-to-fix.xlsx going back through ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from hub.cli import cli
from ingest import read_table
from publish import pipeline
from tests.steward.browser import new_page, screenshot
from tests.steward.reference import (
    DATASETS,
    MESSY,
    SAMPLES,
    SAMPLES_DAY,
    expected,
    reference_hub,
    write_admin_units_csv,
)
from validate.render_files import write_report_files
from validate.render_html import render_html
from validate.render_xlsx import rows_from_frame

HERITAGE_HEADERS = ["Mã di tích", "Tên di tích", "Loại hình", "Xếp hạng", "Số quyết định", "Ngày quyết định", "Địa chỉ",
                    "Mã xã/phường", "Vĩ độ (WGS84)", "Kinh độ (WGS84)", "Đơn vị quản lý", "Mô tả"]


def _validate(sid: str, path: Path | None = None) -> pipeline.Outcome:
    return pipeline.run(reference_hub().store, sid, path or MESSY / f"{sid}.csv", load=False, today=SAMPLES_DAY,
                        keep_rejected=1000)


def _planted(sid: str) -> list[tuple[str, int, str | None]]:
    return [(e["type"], e["rowNumber"], e.get("fieldName")) for e in expected(sid)["errors"]]


@pytest.mark.parametrize("sid", DATASETS)
def test_messy_report_lists_the_planted_errors_and_no_other(sid: str) -> None:
    """Every planted error with its type, row and field, in frictionless's order, blank, short and long rows
    included; nothing else (a cell ingest repairs is no error: see the next test)."""
    report = _validate(sid).report
    found = [(e["type"], e["rowNumber"], e.get("fieldName") or None) for e in report["tasks"][0]["errors"]]
    assert set(found) == set(_planted(sid)), (sorted(set(found) - set(_planted(sid)), key=repr),
                                              sorted(set(_planted(sid)) - set(found), key=repr))
    assert found == _planted(sid)


@pytest.mark.parametrize("sid", DATASETS)
def test_messy_notations_ingest_repairs_are_in_the_change_log(sid: str) -> None:
    """Cells written the way offices write them ("15/03/1991", "Hotel", "+84 251 ...") are rewritten, shown
    to the steward in the change log, and not reported as errors."""
    report = _validate(sid).report
    changes = {(c["row"], c["field"]): (c["original"], c["value"]) for c in report["hub"]["changes"]}
    repairs = expected(sid)["repairs"]
    assert repairs
    for repair in repairs:
        key = (repair["rowNumber"], repair["fieldName"])
        assert changes.get(key) == (repair["original"], repair["value"]), key
    repaired_rows = {r["rowNumber"] for r in repairs}
    assert not repaired_rows & {e["rowNumber"] for e in report["tasks"][0]["errors"]}


@pytest.mark.parametrize("sid", DATASETS)
def test_clean_sample_reports_no_error(sid: str) -> None:
    path = SAMPLES / (f"{sid}.geojson" if sid == "admin-units" else f"{sid}.csv")
    outcome = pipeline.run(reference_hub().store, sid, path, load=False, today=SAMPLES_DAY)
    assert outcome.report["tasks"][0]["errors"] == []
    assert outcome.valid and outcome.rows_rejected == 0 and outcome.rows_read > 0


def test_report_json_is_frictionless_shaped_with_hub_and_quality_sections(tmp_path: Path) -> None:
    outcome = _validate("accommodation")
    paths = write_report_files(outcome.report, tmp_path, rows_from_frame(outcome.rejected))
    report = json.loads(paths["report.json"].read_text(encoding="utf-8"))
    assert report["valid"] is False and report["stats"]["tasks"] == 1
    task = report["tasks"][0]
    assert task["stats"]["errors"] == len(task["errors"]) == 19 and task["labels"][0] == "code"
    first = task["errors"][0]
    assert {"type", "rowNumber", "fieldName", "cell", "cells", "message", "messages", "note"} <= set(first)
    assert first["messages"]["vi"].startswith("Dòng 3") and first["messages"]["en"].startswith("Row 3")
    assert report["hub"]["source"]["mapping"]["code"] == "code" and report["hub"]["changes_total"] == 2
    assert report["quality"]["engine"].startswith("great_expectations 1.")
    assert report["hub"]["quality_score"] == outcome.quality_score


def test_html_report_opens_offline_in_chromium_with_its_chart_and_bad_cells(tmp_path: Path, browser: Any) -> None:
    outcome = _validate("accommodation")
    schema = reference_hub().catalog.dataset("accommodation").schema
    paths = write_report_files(outcome.report, tmp_path, rows_from_frame(outcome.rejected), schema=schema,
                               dataset_title="Cơ sở lưu trú du lịch")
    requests: list[str] = []
    page = new_page(browser)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(paths["report.html"].as_uri())
    assert page.locator("h1").inner_text() == "Báo cáo kiểm tra dữ liệu"
    charts = page.locator("svg.chart")
    assert charts.count() == 2 and charts.first.is_visible()
    by_type = page.locator("#chart-types rect.bar")
    assert by_type.count() == 7  # constraint, missing-cell, type, primary-key, then one each of the rest
    assert [int(by_type.nth(i).get_attribute("data-count")) for i in range(7)] == [7, 4, 3, 2, 1, 1, 1]
    assert int(by_type.first.get_attribute("width")) > int(by_type.nth(1).get_attribute("width"))
    bad = page.locator(".hr-grid td.bad")
    assert bad.count() >= 9 and "36012345" in bad.first.inner_text()
    assert "enterprise_code" in bad.first.get_attribute("title")
    quality = page.locator("#q-star-rank-not-applicable")
    assert quality.inner_text().startswith("Không đạt")
    quality.locator("summary").click()  # the example rows fold out
    assert "Dòng 18" in quality.inner_text() and "nha_o_co_phong_cho_khach_du_lich_thue" in quality.inner_text()
    assert page.locator(".hr-changes tbody tr").count() == 2
    screenshot(page, "report")
    assert page.problems == []
    assert all(url.startswith("file://") for url in requests), requests  # nothing fetched: it works offline


def test_english_report_reads_in_english() -> None:
    html = render_html(_validate("licences").report, lang="en")
    assert "<html lang=\"en\">" in html and "Data validation report" in html and "Báo cáo" not in html
    assert "Row 3" in html and "The expiry date is not earlier than the issue date" in html


def test_change_log_says_in_words_what_each_repair_did() -> None:
    report = _validate("licences").report
    vi, en = render_html(report, lang="vi"), render_html(report, lang="en")
    assert "Ngày về dạng yyyy-mm-dd" in vi and "Tên gọi → mã danh mục" in vi and "Số điện thoại" in vi
    assert "Date to yyyy-mm-dd" in en and "Label → code of the list" in en and "Ngày về dạng" not in en


def test_rows_to_fix_keep_the_source_headers_and_go_back_through_ingest(tmp_path: Path) -> None:
    lines = (MESSY / "heritage-sites.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    source = tmp_path / "danh-sach-di-tich.csv"
    source.write_text(",".join(HERITAGE_HEADERS) + "\n" + "".join(lines[1:]), encoding="utf-8")
    outcome = _validate("heritage-sites", source)
    paths = write_report_files(outcome.report, tmp_path / "out", rows_from_frame(outcome.rejected))
    sheet = openpyxl.load_workbook(paths["rows-to-fix.xlsx"]).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[: len(HERITAGE_HEADERS)] == HERITAGE_HEADERS
    assert header[-2:] == ["Lỗi cần sửa / What to fix", "Dòng gốc / Source row"]
    rows = {int(r[-1].value): r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == {e["rowNumber"] for e in outcome.report["tasks"][0]["errors"]}
    code = rows[5][0]  # planted: "DT-12" breaks the code pattern
    assert code.value == "DT-12" and code.fill.fgColor.rgb.endswith("FBD5D1") and "DT-12" in code.comment.text
    what = rows[5][-2].value
    assert "Dòng 5" in what and "Row 5" in what
    assert code.number_format == "@"  # text: codes and phone numbers keep their leading zeros
    again = read_table(paths["rows-to-fix.xlsx"], reference_hub().catalog.dataset("heritage-sites").schema.descriptor)
    assert again.mapping == {h: f for h, f in outcome.report["hub"]["source"]["mapping"].items()}
    assert again.unknown_columns == header[-2:]
    quality = openpyxl.load_workbook(paths["rows-to-fix.xlsx"])["Chất lượng - Quality"]
    assert {int(r[0].value) for r in quality.iter_rows(min_row=2)} >= {17, 18, 19}


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    hub = reference_hub()
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("HUB_STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_hub_validate_prints_a_summary_and_writes_three_files_here(cli_env: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "sports-venues", str(MESSY / "sports-venues.csv")])
    assert result.exit_code == 6, result.output
    assert "Báo cáo kiểm tra dữ liệu" in result.output and "Dòng đã đọc" in result.output
    for name in ("report.json", "report.html", "rows-to-fix.xlsx"):
        assert (cli_env / name).is_file(), name
    result = CliRunner().invoke(cli, ["validate", "sports-venues", str(MESSY / "sports-venues.csv"), "--out", "en",
                                      "--lang", "en"])
    assert "Data validation report" in result.output and "Rows read" in result.output
    assert "Data validation report" in (cli_env / "en" / "report.html").read_text(encoding="utf-8")


def test_hub_report_writes_the_files_of_a_stored_load(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    pipeline.run(hub.store, "admin-units", write_admin_units_csv(tmp_path / "units.csv"), user="tests")
    outcome = pipeline.run(hub.store, "accommodation", MESSY / "accommodation.csv", user="tests", today=SAMPLES_DAY)
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    result = CliRunner().invoke(cli, ["report", str(outcome.load.load_id), "--out", str(tmp_path / "again"),
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "again" / "report.json").read_text(encoding="utf-8")) == \
        json.loads(json.dumps(outcome.report, default=str))
    sheet = openpyxl.load_workbook(tmp_path / "again" / "rows-to-fix.xlsx").worksheets[0]
    assert sheet.max_row - 1 == outcome.rows_rejected == 14  # the blank row too
    assert "Data validation report" in (tmp_path / "again" / "report.html").read_text(encoding="utf-8")
    missing = CliRunner().invoke(cli, ["report", "999999"])
    assert missing.exit_code != 0
