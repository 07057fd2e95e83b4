"""Every produced report is itself published: the report's statistics dataset (schema generated from its
definition, one row per period × indicator × breakdown category) is served by the sharing API, CKAN, DCAT,
downloads and the web site like any other dataset, with the access its sources give it; an aggregate-only
report never publishes a cell under its minimum; the office form (XLSX) reads back with `hub ingest`."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ckanapi import RemoteCKAN
from openpyxl import load_workbook

from core.config import PROJECT_ROOT
from core.statistics import dataset_entry
from hub.app import create_app
from publish.context import Hub
from publish.reports import compute, statistics
from tests.conftest import LiveServer, free_port
from tests.reports.conftest import sample_frame

MONTHS = ["2026-07", "2026-08", "2026-09"]
QUARTERS = ["2026-Q1", "2026-Q2"]
KEY = ("period", "indicator", "breakdown", "category")


@pytest.fixture(scope="module")
def published(reports_hub: Hub) -> Hub:
    """Three months of the accommodation report and two quarters of the licences report, produced (and so
    published) once per backend."""
    for report, periods in (("accommodation-monthly", MONTHS), ("licences-quarterly", QUARTERS)):
        definition = reports_hub.catalog.report(report)
        for period in periods:
            compute.produce(reports_hub.store, definition, period, by="tests")
    return reports_hub


@pytest.fixture(scope="module")
def server(published: Hub) -> Iterator[LiveServer]:
    live = LiveServer(create_app(published.settings, hub=published), free_port()).start()
    yield live
    live.stop()


def records(client: Any, dataset: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/datasets/{dataset}/records?limit=1000")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["records"]


def hub_cli(hub: Hub, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATABASE_URL=hub.settings.database_url, HUB_CATALOG_PATH=str(PROJECT_ROOT / "catalog.yaml"),
               HUB_STORAGE_DIR=str(hub.settings.storage_dir), HUB_LOG_FORMAT="text")
    return subprocess.run([sys.executable, "-m", "hub", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_a_report_is_published_as_a_dataset_of_the_catalogue(published: Hub, server: LiveServer) -> None:
    client = create_app(published.settings, hub=published).test_client()
    listed = {d["id"] for d in client.get("/api/v1/datasets").json["datasets"]}
    assert {"accommodation-monthly", "licences-quarterly"} <= listed
    assert "sports-venues-half-yearly" not in listed  # listed from its first produced report on

    definition = published.catalog.report("accommodation-monthly")
    got = records(client, "accommodation-monthly")
    want = statistics.dataset_rows(published.store, definition)
    assert len(got) == len(want) == sum(len(compute.read(published.store, definition.id, m).cells) for m in MONTHS)
    assert {tuple(r[k] for k in (*KEY, "value", "records")) for r in got} == \
        {tuple(r[k] or None for k in KEY) + (r["value"], r["records"]) for r in want}
    labels = {r["label"] for r in got if r["breakdown"] == "type|star_rank"}
    assert any(label.startswith("Loại hình") and ": Khách sạn - " in label for label in labels)

    # one version per produced period, each with its provenance; CKAN and DCAT describe it
    history = client.get("/api/v1/datasets/accommodation-monthly/versions").json
    assert len(history["versions"]) == len(MONTHS)
    ckan = RemoteCKAN(server.url)
    found = ckan.action.package_search(q="thống kê lưu trú", rows=50)
    assert "accommodation-monthly" in [p["name"] for p in found["results"]]
    package = ckan.action.package_show(id="accommodation-monthly")
    csv_resource = next(r for r in package["resources"] if r["format"] == "CSV")
    assert [f["name"] for f in csv_resource["schema"]["fields"]][:4] == ["period", "period_start", "period_end", "indicator"]
    assert "sports-venues-half-yearly" not in ckan.action.package_list()
    turtle = client.get("/catalog.ttl").get_data(as_text=True)
    assert "/dcat/datasets/accommodation-monthly>" in turtle and "/dcat/datasets/licences-quarterly>" in turtle
    download = client.get("/api/v1/datasets/accommodation-monthly/records?format=csv&limit=1000").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(download)))) == len(got)


def test_the_dataset_page_shows_the_charts(published: Hub) -> None:
    client = create_app(published.settings, hub=published).test_client()
    page = client.get("/datasets/accommodation-monthly?lang=vi").get_data(as_text=True)
    charts = page.split('id="charts"', 1)[1].split("</section>\n</section>", 1)[0]
    for code in ("01", "02"):
        chart = charts.split(f'id="indicator-{code}"', 1)[1].split("</svg>", 1)[0]
        assert chart.count('class="column"') == len(MONTHS)
    assert "/reports/accommodation-monthly" in charts


def test_an_aggregate_only_report_publishes_no_cell_under_its_minimum(published: Hub, tmp_path: Path) -> None:
    definition = published.catalog.report("licences-quarterly")
    dataset = published.catalog.dataset("licences-quarterly")
    assert published.catalog.dataset("licences").access == "shared" and dataset.access == "open"
    produced = [compute.read(published.store, definition.id, q) for q in QUARTERS]
    assert any(c.records < definition.min_cell for p in produced for c in p.cells)  # the samples have small cells
    client = create_app(published.settings, hub=published).test_client()
    got = records(client, "licences-quarterly")  # anonymous
    assert got and all(r["records"] >= definition.min_cell and r["value"] is not None for r in got)
    assert len(got) == sum(1 for p in produced for c in p.cells if c.records >= definition.min_cell)

    # nothing personal of the licences register reaches the open statistics
    frame = sample_frame("licences")
    personal = published.catalog.dataset("licences").schema.personal_fields
    secrets = {v for name in personal for v in frame[name] if len(v) >= 6}
    assert secrets
    download = client.get("/api/v1/datasets/licences-quarterly/records?format=csv&limit=1000").get_data(as_text=True)
    page = client.get("/datasets/licences-quarterly").get_data(as_text=True)
    assert not [s for s in secrets if s in download or s in page]

    # the office form holds every figure; loaded as the open dataset, the small cells are refused
    form = tmp_path / "licences.xlsx"
    written = hub_cli(published, "reports", "export", definition.id, "--period", "2026-Q1", "--out", str(form),
                      cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    refused = hub_cli(published, "ingest", definition.id, str(form), "--scope", "period=2026-Q1", cwd=tmp_path)
    assert refused.returncode == 6, refused.stdout + refused.stderr  # rows breaking the schema: the file is refused
    assert records(client, "licences-quarterly") == got

    # without aggregate_only, the statistics are as restricted as their source
    plain = dataclasses.replace(definition, raw={**definition.raw, "aggregate_only": False})
    assert dataset_entry(published.catalog, plain)["access"] == "shared"


def test_the_office_form_reads_back_with_hub_ingest(published: Hub, tmp_path: Path) -> None:
    report, period = "accommodation-monthly", "2026-09"
    form = tmp_path / "form.xlsx"
    written = hub_cli(published, "reports", "export", report, "--period", period, "--out", str(form), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    sheet = load_workbook(form).active
    cells = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(cells) if row[:4] == ("Mã số", "Chỉ tiêu", "Đơn vị tính", "Số lượng"))
    assert cells[header + 1][4:] == ("Kỳ báo cáo", "Từ ngày", "Đến ngày", "Mã chỉ tiêu", "Chia theo", "Mã nhóm",
                                     "Số bản ghi")
    assert any(str(r).startswith(f"A{header + 1}:A{header + 2}") for r in sheet.merged_cells.ranges)
    client = create_app(published.settings, hub=published).test_client()
    before = records(client, report)
    versions = len(client.get(f"/api/v1/datasets/{report}/versions").json["versions"])

    same = hub_cli(published, "ingest", report, str(form), "--scope", f"period={period}", cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert records(client, report) == before  # the same numbers: no new version
    assert len(client.get(f"/api/v1/datasets/{report}/versions").json["versions"]) == versions

    # a figure corrected on the form is read back as the dataset's next version
    workbook = load_workbook(form)
    ws = workbook.active
    total_row = header + 3  # the first line under the two-row header: indicator 01's total
    assert ws.cell(row=total_row, column=8).value == "01" and ws.cell(row=total_row, column=9).value is None
    ws.cell(row=total_row, column=4).value = ws.cell(row=total_row, column=4).value + 1
    workbook.save(form)
    corrected = hub_cli(published, "ingest", report, str(form), "--scope", f"period={period}", cwd=tmp_path)
    assert corrected.returncode == 0, corrected.stdout + corrected.stderr
    after = {tuple(r[k] for k in KEY): r["value"] for r in records(client, report)}
    was = {tuple(r[k] for k in KEY): r["value"] for r in before}
    changed = {k for k in after if after[k] != was.get(k)}
    assert changed == {(period, "01", None, None)} and after[(period, "01", None, None)] == was[(period, "01", None, None)] + 1


@pytest.mark.browser
def test_the_dataset_page_with_its_charts_in_chromium(published: Hub, server: LiveServer, browser: Any) -> None:
    from tests.steward import browser as chromium_browser

    if published.store.dialect != "sqlite":
        pytest.skip("the page reads the same statistics on both backends (test_the_dataset_page_shows_the_charts)")
    for lang, viewport in (("vi", chromium_browser.DESKTOP), ("en", {"width": 360, "height": 740})):
        page = chromium_browser.new_page(browser, viewport=viewport)
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.goto(f"{server.url}/datasets/accommodation-monthly?lang={lang}")
        assert page.locator("h1").inner_text().startswith("Thống kê" if lang == "vi" else "Statistics")
        charts = page.locator("#charts")
        assert charts.locator("svg.report-chart").count() == 2
        columns = charts.locator("#indicator-02 rect.column")
        assert columns.count() == len(MONTHS)
        rooms = {m: c.value for m in MONTHS for c in compute.read(published.store, "accommodation-monthly", m).cells
                 if c.indicator == "02" and not c.breakdown}
        assert {c.get_attribute("data-period"): float(c.get_attribute("data-value")) for c in columns.all()} == rooms
        box = charts.locator("svg.report-chart").first.bounding_box()
        assert box is not None and box["width"] <= viewport["width"]  # the chart fits a phone
        assert page.locator("#preview table.data tbody tr").count() > 0  # the rows, as any dataset
        assert all(url.startswith(server.url) for url in requests)  # nothing fetched from elsewhere
        assert page.problems == [], page.problems
        chromium_browser.screenshot(page, f"statistics-dataset-{lang}-{viewport['width']}")
        page.context.close()
