"""The statistics of a report (every produced period, minimum-cell rule, inherited access) and the leadership
page: each indicator over time as a server-rendered SVG chart with the figures in a table beside it."""

from __future__ import annotations

import dataclasses
import re

from core.reports import ReportDefinition
from publish.context import Hub
from publish.reports import compute, statistics

MONTHS = ["2026-07", "2026-08", "2026-09"]


def produce(hub: Hub, report: str, periods: list[str]) -> list[compute.Produced]:
    definition = hub.catalog.report(report)
    return [compute.produce(hub.store, definition, p) for p in periods]


def test_access_follows_the_sources_unless_aggregate_only(reports_hub: Hub) -> None:
    catalog = reports_hub.catalog
    licences = catalog.report("licences-quarterly")
    assert catalog.dataset("licences").access == "shared"
    assert statistics.access_of(catalog, licences) == "open"  # aggregate-only, min_cell 3
    plain = dataclasses.replace(licences, raw={**licences.raw, "aggregate_only": False})
    assert isinstance(plain, ReportDefinition) and statistics.access_of(catalog, plain) == "shared"
    assert statistics.access_of(catalog, catalog.report("accommodation-monthly")) == "open"


def test_no_published_cell_counts_fewer_than_the_minimum(reports_hub: Hub) -> None:
    definition = reports_hub.catalog.report("licences-quarterly")
    produced = produce(reports_hub, "licences-quarterly", ["2026-Q1", "2026-Q2"])
    small = [c for p in produced for c in p.cells if c.records < definition.min_cell]
    assert small  # the samples do have small cells
    rows = statistics.rows(reports_hub.store, definition)
    assert len(rows) == sum(len(p.cells) for p in produced)
    assert all(r["value"] is None and r["records"] is None for r in rows
               if (r["records"] is None) or r["records"] < definition.min_cell)
    assert all(r["records"] >= definition.min_cell for r in rows if r["value"] is not None)
    field_names = [f["name"] for f in statistics.schema(definition)["fields"]]
    assert all(set(r) == set(field_names) for r in rows)


def test_leadership_page_charts_each_indicator_over_time(reports_hub: Hub) -> None:
    from hub.app import create_app

    produced = produce(reports_hub, "accommodation-monthly", MONTHS)
    app = create_app(reports_hub.settings, hub=reports_hub)
    app.config["TESTING"] = True
    client = app.test_client()

    listing = client.get("/reports?lang=vi")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Báo cáo định kỳ" in page and "/reports/accommodation-monthly" in page and "/reports/licences-quarterly" in page

    for lang, heading in (("vi", "Số cơ sở lưu trú du lịch đang hoạt động"), ("en", "Accommodation establishments in operation")):
        answer = client.get(f"/reports/accommodation-monthly?lang={lang}")
        assert answer.status_code == 200
        html = answer.get_data(as_text=True)
        assert heading in html and "<script" not in html.split("<main", 1)[-1]
        for code in ("01", "02"):
            section = html.split(f'id="indicator-{code}"', 1)[1].split("</section>", 1)[0]
            chart = section.split("<svg", 1)[1].split("</svg>", 1)[0]
            columns = dict(re.findall(r'data-period="([^"]+)" data-value="([^"]+)"', chart))
            totals = {p.period: int(c.value) for p in produced for c in p.cells if c.indicator == code and not c.breakdown}
            assert columns == {period: str(value) for period, value in totals.items()}
            table = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>",
                                    section.split('class="report-series"', 1)[1].split("</table>", 1)[0]))
            separator = "." if lang == "vi" else ","
            assert table == {period: f"{value:,}".replace(",", separator) for period, value in totals.items()}
    assert client.get("/reports/no-such-report").status_code == 404


def test_steward_page_lists_due_late_produced_and_delivered(reports_hub: Hub) -> None:
    from hub.app import create_app
    from publish import clients

    produce(reports_hub, "sports-venues-half-yearly", ["2026-H1"])
    clients.create_client(reports_hub.store, "reports-steward", "steward")
    token = clients.issue_key(reports_hub.store, "reports-steward").token
    app = create_app(reports_hub.settings, hub=reports_hub)
    app.config["TESTING"] = True
    client = app.test_client()
    assert client.get("/steward/reports").status_code in (302, 303)  # signed-out visitors go to the login
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/steward/login").get_data(as_text=True)).group(1)
    assert client.post("/steward/login", data={"key": token, "csrf_token": csrf}).status_code == 303
    page = client.get("/steward/reports?lang=en").get_data(as_text=True)
    states = dict(re.findall(r'data-report="sports-venues-half-yearly" data-period="([^"]+)" data-state="([^"]+)"', page))
    assert states["2026-H1"] == "late"  # produced, never sent, due on 10 July
    assert "Periodic reports" in page and "Biểu số 04/TDTT-CT" in page
    accommodation = dict(re.findall(r'data-report="accommodation-monthly" data-period="([^"]+)" data-state="([^"]+)"', page))
    assert set(accommodation) >= {"2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}


def test_statistics_in_the_sharing_api(reports_hub: Hub) -> None:
    from hub.app import create_app

    produce(reports_hub, "licences-quarterly", ["2026-Q1", "2026-Q2"])
    app = create_app(reports_hub.settings, hub=reports_hub)
    app.config["TESTING"] = True
    client = app.test_client()
    listed = client.get("/api/v1/reports")
    assert listed.status_code == 200
    by_id = {r["id"]: r for r in listed.json}
    assert set(by_id) == set(reports_hub.catalog.reports)
    assert by_id["licences-quarterly"]["access"] == "open" and by_id["licences-quarterly"]["min_cell"] == 3
    answer = client.get("/api/v1/reports/licences-quarterly/statistics")
    assert answer.status_code == 200
    body = answer.json
    assert body["schema"]["primaryKey"] == ["period", "indicator", "breakdown", "category"]
    assert {r["period"] for r in body["rows"]} >= {"2026-Q1", "2026-Q2"}
    assert all(r["value"] is None or r["records"] >= 3 for r in body["rows"])
    csv_answer = client.get("/api/v1/reports/licences-quarterly/statistics?format=csv")
    assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
    assert csv_answer.get_data(as_text=True).splitlines()[0].startswith("period,period_start,period_end,indicator")
    assert client.get("/api/v1/reports/no-such/statistics").status_code == 404
