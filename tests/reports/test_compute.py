"""Every shipped indicator, computed by the hub as of a period's end, equals the same figure worked out here
with pandas from the sample CSVs; later versions do not change a period's report; recomputing is byte-identical."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest

from core.errors import InputError, NotFound
from core.reports import parse_period
from publish import pipeline
from publish.context import Hub
from publish.reports import compute
from tests.reports.conftest import SAMPLES, backdate, count_rows, sample_frame

Expected = dict[tuple[str, str], tuple[float, int]]


def cells(frame: pd.DataFrame, breakdowns: list[list[str]], value: str | None = None, *,
          every: dict[str, list[str]] | None = None) -> Expected:
    """{(breakdown, category): (value, records)}: count of rows, or sum of `value`, total and per breakdown;
    a one-field breakdown by a field in `every` has a line for each of its values, 0 where no row has it."""

    def measure(part: pd.DataFrame) -> tuple[float, int]:
        if value is None:
            return float(len(part)), len(part)
        return float(pd.to_numeric(part[value].replace("", "0")).sum()), len(part)

    out: Expected = {("", ""): measure(frame)}
    for fields in breakdowns:
        for key, part in frame.groupby(fields, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            out[("|".join(fields), "|".join(str(k) for k in key))] = measure(part)
        if len(fields) == 1 and fields[0] in (every or {}):
            for listed in (every or {})[fields[0]]:
                out.setdefault((fields[0], listed), (0.0, 0))
    return out


def enum(dataset: str, field: str) -> list[str]:
    """The values the schema file lists for a field (an enum, or a minimum..maximum integer range)."""
    descriptor = json.loads((SAMPLES.parent / "schemas" / f"{dataset}.json").read_text(encoding="utf-8"))
    constraints = next(f for f in descriptor["fields"] if f["name"] == field).get("constraints", {})
    if "enum" in constraints:
        return [str(v) for v in constraints["enum"]]
    return [str(v) for v in range(constraints["minimum"], constraints["maximum"] + 1)]


def communes() -> list[str]:
    features = json.loads((SAMPLES / "admin-units.geojson").read_text(encoding="utf-8"))["features"]
    return [f["properties"]["code"] for f in features]


def in_period(frame: pd.DataFrame, column: str, start: str, end: str) -> pd.DataFrame:
    return frame[(frame[column] >= start) & (frame[column] < end)]


def acc_active() -> pd.DataFrame:
    frame = sample_frame("accommodation")
    return frame[frame.status == "dang_hoat_dong"]


def agencies() -> pd.DataFrame:
    return sample_frame("travel-agencies")


def venues() -> pd.DataFrame:
    return sample_frame("sports-venues")


def licences() -> pd.DataFrame:
    return sample_frame("licences")


LICENCE_TYPES = {"type": enum("licences", "type")}
# (report, period) -> {indicator code: how pandas works it out}; every shipped indicator must be here
EXPECTED: dict[tuple[str, str], dict[str, Callable[[], Expected]]] = {
    ("accommodation-monthly", "2026-09"): {
        "01": lambda: cells(acc_active(), [["type", "star_rank"], ["commune_code"]]),
        "02": lambda: cells(acc_active(), [["type", "star_rank"], ["commune_code"]], "rooms"),
    },
    ("travel-agencies-quarterly", "2026-Q3"): {
        "01": lambda: cells(agencies()[agencies().status == "dang_hoat_dong"], [["licence_scope"], ["commune_code"]],
                            every={"licence_scope": enum("travel-agencies", "licence_scope")}),
        "02": lambda: cells(agencies()[agencies().status != "dang_hoat_dong"], [["licence_scope", "status"]]),
    },
    ("heritage-sites-yearly", "2025"): {
        "01": lambda: cells(sample_frame("heritage-sites"), [["rank"], ["rank", "type"], ["commune_code"]],
                            every={"rank": enum("heritage-sites", "rank"), "commune_code": communes()}),
        "02": lambda: cells(in_period(sample_frame("heritage-sites"), "decision_date", "2025-01-01", "2026-01-01"),
                            [["rank"]], every={"rank": enum("heritage-sites", "rank")}),
    },
    ("sports-venues-half-yearly", "2026-H1"): {
        "01": lambda: cells(venues(), [["type", "ownership"], ["status"], ["commune_code"]],
                            every={"status": enum("sports-venues", "status")}),
        "02": lambda: cells(venues()[venues().status == "dang_hoat_dong"], [["type"]], "capacity",
                            every={"type": enum("sports-venues", "type")}),
    },
    ("licences-quarterly", "2026-Q1"): {
        "01": lambda: cells(in_period(licences(), "issue_date", "2026-01-01", "2026-04-01"), [["type"], ["commune_code"]],
                            every=LICENCE_TYPES),
        "02": lambda: cells(in_period(licences(), "expiry_date", "2026-01-01", "2026-04-01"), [["type"]], every=LICENCE_TYPES),
        "03": lambda: cells(licences()[licences().status == "con_hieu_luc"], [["type"]], every=LICENCE_TYPES),
    },
    ("licences-quarterly", "2026-Q2"): {
        "01": lambda: cells(in_period(licences(), "issue_date", "2026-04-01", "2026-07-01"), [["type"], ["commune_code"]],
                            every=LICENCE_TYPES),
        "02": lambda: cells(in_period(licences(), "expiry_date", "2026-04-01", "2026-07-01"), [["type"]], every=LICENCE_TYPES),
        "03": lambda: cells(licences()[licences().status == "con_hieu_luc"], [["type"]], every=LICENCE_TYPES),
    },
}


def test_every_shipped_indicator_is_checked(catalog) -> None:  # noqa: ANN001
    shipped = {(r.id, i.code) for r in catalog.reports.values() for i in r.indicators}
    checked = {(report, code) for (report, _), codes in EXPECTED.items() for code in codes}
    assert shipped == checked
    assert len(catalog.reports) >= 5


@pytest.mark.parametrize("report,period", list(EXPECTED))
def test_indicators_equal_pandas_over_the_samples(reports_hub: Hub, report: str, period: str) -> None:
    definition = reports_hub.catalog.report(report)
    produced = compute.produce(reports_hub.store, definition, period, by="tests")
    assert produced.status == "produced" and produced.period == period
    assert produced.versions == {ds: 1 for ds in definition.datasets}
    got: dict[str, Expected] = {}
    for cell in produced.cells:
        got.setdefault(cell.indicator, {})[(cell.breakdown, cell.category)] = (cell.value, cell.records)
    for code, work_out in EXPECTED[(report, period)].items():
        want = work_out()
        assert got[code] == want, (report, code)
    assert set(got) == set(EXPECTED[(report, period)])
    # the figures are not trivially zero: the samples give each report something to count
    assert any(v for c in produced.cells if not c.breakdown for v in [c.value])


def test_a_period_not_ended_or_of_another_kind_is_refused(reports_hub: Hub) -> None:
    definition = reports_hub.catalog.report("accommodation-monthly")
    with pytest.raises(InputError) as refused:
        compute.produce(reports_hub.store, definition, "2099-01")
    assert "2099-01" in refused.value.en and "not ended" in refused.value.en
    with pytest.raises(InputError):
        compute.produce(reports_hub.store, definition, "2026-Q3")


def test_a_period_before_any_version_says_so(reports_hub: Hub) -> None:
    definition = reports_hub.catalog.report("accommodation-monthly")
    with pytest.raises(NotFound) as missing:
        compute.produce(reports_hub.store, definition, "2025-11")
    assert "accommodation" in missing.value.en and "2025-11" in missing.value.en
    with pytest.raises(NotFound):  # nothing half-made is left behind
        compute.read(reports_hub.store, "accommodation-monthly", "2025-11")


def test_a_later_version_does_not_change_the_period_and_recompute_is_byte_identical(
        fresh_reports_hub: Hub, tmp_path) -> None:  # noqa: ANN001
    hub = fresh_reports_hub
    definition = hub.catalog.report("accommodation-monthly")
    first = compute.produce(hub.store, definition, "2026-09")
    before = compute.rows_csv(first.cells)

    # October: half the hotels close and every room count doubles, published on 15 October
    frame = sample_frame("accommodation")
    frame.loc[frame.index[::2], "status"] = "ngung_hoat_dong"
    frame["rooms"] = (pd.to_numeric(frame["rooms"]) * 2).astype(str)
    changed = tmp_path / "accommodation.csv"
    frame.to_csv(changed, index=False)
    outcome = pipeline.run(hub.store, "accommodation", changed, user="tests")
    assert outcome.status == "committed" and outcome.load.version == 2
    backdate(hub, pd.Timestamp("2026-10-15 03:00").to_pydatetime(), dataset="accommodation", version=2)

    again = compute.produce(hub.store, definition, "2026-09", force=True)
    assert again.computed_now and again.versions == {"accommodation": 1}
    assert compute.rows_csv(again.cells) == before
    assert again.rows_sha256 == first.rows_sha256
    stored = compute.read(hub.store, "accommodation-monthly", "2026-09")
    assert compute.rows_csv(stored.cells) == before

    october = compute.produce(hub.store, definition, "2026-10")
    assert october.versions == {"accommodation": 2}
    total = {c.indicator: c.value for c in october.cells if not c.breakdown}
    active = frame[frame.status == "dang_hoat_dong"]
    assert total == {"01": len(active), "02": float(pd.to_numeric(active.rooms).sum())}


def test_a_produced_report_is_kept_once(reports_hub: Hub) -> None:
    definition = reports_hub.catalog.report("travel-agencies-quarterly")
    first = compute.produce(reports_hub.store, definition, parse_period("2026-Q2"))
    runs = count_rows(reports_hub, "hub_report_runs")
    second = compute.produce(reports_hub.store, definition, "2026-Q2")
    assert not second.computed_now and second.computed_at == first.computed_at
    assert count_rows(reports_hub, "hub_report_runs") == runs


def test_definitions_read_as_written(catalog) -> None:  # noqa: ANN001
    definition = catalog.report("accommodation-monthly")
    first = definition.indicator("01")
    assert first.name == {"vi": "Số cơ sở lưu trú du lịch đang hoạt động", "en": "Accommodation establishments in operation"}
    assert first.where == {"status": "dang_hoat_dong"} and first.breakdowns == (("type", "star_rank"), ("commune_code",))
    assert definition.form == "Biểu số 01/DL-LT" and definition.period_kind == "month"
    assert definition.deadline(parse_period("2026-09")).isoformat() == "2026-10-05"


def test_a_misspelt_field_is_one_clear_error(catalog, tmp_path) -> None:  # noqa: ANN001
    from core.errors import CatalogError
    from core.reports import load_definition

    source = (catalog.root / "schemas/reports/accommodation.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(source.replace("field: rooms", "field: room"), encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        load_definition(broken, catalog)
    assert "room" in error.value.en and "02" in error.value.en and error.value.context["file"] == str(broken)
    broken.write_text(source.replace("[[type, star_rank], commune_code]", "[[type, holder_name]]", 1), encoding="utf-8")
    with pytest.raises(CatalogError):
        load_definition(broken, catalog)
