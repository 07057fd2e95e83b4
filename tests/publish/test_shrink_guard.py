"""Nothing lost by an ordinary mistake: the shrink guard, partial loads and what `hub validate` says a load
would do, on both backends (publish/guard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.catalog import Dataset
from core.errors import ShrinkRefused, ValidationFailed
from publish import pipeline, query, versions
from publish.context import Hub
from publish.guard import LoadPlan, Scope
from tests.publish.conftest import SAMPLES, hub_command, ingest, read_rows, write_rows

DISTRICT = ("25217", "26170", "26377")  # the communes of one former district's office (27 of 150 records)


def published(hub: Hub, dataset: str) -> list[tuple]:
    """Every current row of `dataset` as stored (key, hash, version it came in), for byte-for-byte checks."""
    table = hub.store.table(dataset)
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(table.c._key, table.c._hash, table.c._from).where(table.c._to.is_(None))
                            .order_by(table.c._key)).all()


def last_load(hub: Hub, dataset: str) -> dict:
    """The newest load of `dataset`, whatever its status, with its error text."""
    from publish import tables

    with hub.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(tables.loads).where(tables.loads.c.dataset == dataset)
                                 .order_by(tables.loads.c.id.desc()).limit(1)).one()._mapping)


@pytest.fixture
def accommodation(units_loaded: Hub) -> Hub:
    outcome = ingest(units_loaded, "accommodation", SAMPLES / "accommodation.csv")
    assert outcome.status == "committed" and outcome.load.rows_added == 150
    return units_loaded


def assert_refused_and_kept(hub: Hub, dataset: str, before: list[tuple], outcome: pipeline.Outcome) -> None:
    assert outcome.load is not None and outcome.load.status == "rejected" and outcome.load.version is None
    assert published(hub, dataset) == before  # the previous version, row for row
    assert hub.store.current_version(dataset) == 1
    load = last_load(hub, dataset)
    assert load["status"] == "rejected" and "stays published" in load["error"]


def test_header_only_csv_is_refused_with_one_clear_line(accommodation: Hub, tmp_path: Path) -> None:
    before = published(accommodation, "accommodation")
    header = tmp_path / "h.csv"
    header.write_text((SAMPLES / "accommodation.csv").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    outcome = ingest(accommodation, "accommodation", header)
    assert isinstance(outcome.refusal, ValidationFailed) and outcome.refusal.code == "no-valid-rows"
    assert_refused_and_kept(accommodation, "accommodation", before, outcome)
    done = hub_command(accommodation, "ingest", "accommodation", str(header), check=False)
    assert done.returncode == 6, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "không có dòng hợp lệ" in lines[0] and "no valid row" in lines[0]
    assert lines[0].index("không có dòng hợp lệ") < lines[0].index("no valid row")  # Vietnamese, then English
    assert "Traceback" not in done.stderr
    assert published(accommodation, "accommodation") == before


def test_header_only_xlsx_is_refused(accommodation: Hub, tmp_path: Path) -> None:
    from openpyxl import Workbook

    before = published(accommodation, "accommodation")
    book = Workbook()
    book.active.append(list(read_rows(SAMPLES / "accommodation.csv")[0]))
    book.save(tmp_path / "h.xlsx")
    outcome = ingest(accommodation, "accommodation", tmp_path / "h.xlsx")
    assert outcome.refusal is not None and outcome.refusal.code == "no-valid-rows"
    assert_refused_and_kept(accommodation, "accommodation", before, outcome)


def test_another_datasets_file_is_refused_and_named_so(accommodation: Hub) -> None:
    before = published(accommodation, "accommodation")
    outcome = ingest(accommodation, "accommodation", SAMPLES / "heritage-sites.csv")
    assert outcome.rows_valid == 0 and outcome.rows_rejected == 48
    assert outcome.refusal is not None and "another dataset's file" in outcome.refusal.en
    assert_refused_and_kept(accommodation, "accommodation", before, outcome)


def test_no_valid_row_under_quarantine_is_refused(accommodation: Hub, tmp_path: Path) -> None:
    assert accommodation.catalog.dataset("accommodation").policy == "quarantine"
    before = published(accommodation, "accommodation")
    rows = read_rows(SAMPLES / "accommodation.csv")
    for row in rows:
        row["type"] = "lau_dai"  # not in the enum: every row fails
    outcome = ingest(accommodation, "accommodation", write_rows(tmp_path / "bad.csv", rows))
    assert outcome.rows_valid == 0 and outcome.rows_rejected == 150
    assert outcome.refusal is not None and outcome.refusal.code == "no-valid-rows"
    assert_refused_and_kept(accommodation, "accommodation", before, outcome)
    assert len(versions.rejected_rows(
        accommodation.store, last_load(accommodation, "accommodation")["id"])) == 150  # kept for fixing


def test_ingesting_rows_to_fix_is_refused_with_counts_and_keys(accommodation: Hub, tmp_path: Path) -> None:
    """The documented fix cycle: validate the messy file, fix rows-to-fix.xlsx, and (the natural mistake)
    ingest that file itself: it holds only the rows that had errors."""
    from validate.render_files import write_report_files
    from validate.render_xlsx import rows_from_frame

    before = published(accommodation, "accommodation")
    checked = pipeline.run(accommodation.store, "accommodation", SAMPLES / "messy" / "accommodation.csv", load=False,
                           keep_rejected=1000)
    dataset = accommodation.catalog.dataset("accommodation")
    files = write_report_files(checked.report, tmp_path, rows_from_frame(checked.rejected), schema=dataset.schema)
    fix = files["rows-to-fix.xlsx"]
    preview = pipeline.run(accommodation.store, "accommodation", fix, load=False)
    assert isinstance(preview.refusal, ShrinkRefused)
    outcome = ingest(accommodation, "accommodation", fix)
    assert isinstance(outcome.refusal, ShrinkRefused)
    context = outcome.refusal.context
    assert context["current"] == 150 and context["removed"] > 100 and len(context["first_removed"]) == 10
    assert context["removed"] == preview.impact.removed  # `hub validate` said what the load would do
    assert f"{context['removed']} of the 150 published records" in outcome.refusal.en
    assert context["first_removed"][0] in outcome.refusal.en
    assert_refused_and_kept(accommodation, "accommodation", before, outcome)
    report = versions.load_report(accommodation.store, last_load(accommodation, "accommodation")["id"])
    assert report["hub"]["load"]["mode"] == "full" and report["hub"]["load"]["impact"]["removed"] == context["removed"]
    done = hub_command(accommodation, "ingest", "accommodation", str(fix), check=False)
    assert done.returncode == 10 and "--allow-shrink" in done.stderr and "Traceback" not in done.stderr
    allowed = pipeline.run(accommodation.store, "accommodation", fix, allow_shrink=True)
    assert allowed.status == "committed" and allowed.load.rows_removed == context["removed"]


def test_validate_shows_what_the_load_would_do(accommodation: Hub, tmp_path: Path) -> None:
    rows = read_rows(SAMPLES / "accommodation.csv")
    removed = rows.pop(3)
    rows[0]["name"] += " (sửa)"
    rows.append({**rows[1], "code": "LT-9999"})
    path = write_rows(tmp_path / "next.csv", rows)
    done = hub_command(accommodation, "validate", "accommodation", str(path), "--out", str(tmp_path / "out"))
    assert "thêm/add 1, đổi/change 1, giữ nguyên/keep 148, xoá/remove 1" in done.stdout.replace("\n", " ")
    assert removed["code"] in done.stdout
    outcome = ingest(accommodation, "accommodation", path)  # within the limit: loads
    assert (outcome.load.rows_added, outcome.load.rows_changed, outcome.load.rows_removed) == (1, 1, 1)
    assert outcome.impact.removed_keys == [removed["code"]]


def district_file(tmp_path: Path) -> tuple[Path, list[dict[str, str]], str, str]:
    """The district office's file: its communes' rows, one name edited and one record dropped."""
    rows = [r for r in read_rows(SAMPLES / "accommodation.csv") if r["commune_code"] in DISTRICT]
    assert len(rows) == 27
    dropped = rows.pop(5)["code"]
    rows[0]["name"] += " (đã sửa)"
    return write_rows(tmp_path / "district.csv", rows), rows, dropped, rows[0]["code"]


def test_partial_district_file_refused_as_full_accepted_as_partial(accommodation: Hub, tmp_path: Path) -> None:
    path, rows, dropped, edited = district_file(tmp_path)
    dataset = accommodation.catalog.dataset("accommodation")
    before = published(accommodation, "accommodation")
    others = [r for r in before if r[0] not in {x["code"] for x in rows} | {dropped}]
    assert len(others) == 123

    full = ingest(accommodation, "accommodation", path)
    assert isinstance(full.refusal, ShrinkRefused) and full.refusal.context["removed"] == 124
    assert published(accommodation, "accommodation") == before

    scope = "commune_code=" + ",".join(DISTRICT)
    preview = pipeline.run(accommodation.store, "accommodation", path, load=False, scope=scope)
    assert preview.refusal is None
    assert (preview.impact.current, preview.impact.removed, preview.impact.changed) == (27, 1, 1)
    scoped = pipeline.run(accommodation.store, "accommodation", path, scope=scope)
    assert scoped.status == "committed" and scoped.refusal is None
    assert (scoped.load.rows_added, scoped.load.rows_changed, scoped.load.rows_removed) == (0, 1, 1)
    after = published(accommodation, "accommodation")
    assert [r for r in after if r[0] not in {x["code"] for x in rows}] == others  # other districts untouched
    assert dropped not in {r[0] for r in after} and len(after) == 149
    assert query.get_record(accommodation.store, dataset, edited)["name"].endswith("(đã sửa)")

    upsert = ingest_upsert(accommodation, path)
    assert upsert.status == "unchanged" and upsert.load.rows_removed == 0


def ingest_upsert(hub: Hub, path: Path) -> pipeline.Outcome:
    return pipeline.run(hub.store, "accommodation", path, mode="upsert")


def test_upsert_removes_nothing(accommodation: Hub, tmp_path: Path) -> None:
    path, rows, dropped, edited = district_file(tmp_path)
    upsert = ingest_upsert(accommodation, path)
    assert upsert.status == "committed" and (upsert.load.rows_changed, upsert.load.rows_removed) == (1, 0)
    assert dropped in {r[0] for r in published(accommodation, "accommodation")}
    assert len(published(accommodation, "accommodation")) == 150


def test_scope_refuses_rows_outside_it(accommodation: Hub, tmp_path: Path) -> None:
    path, *_ = district_file(tmp_path)
    before = published(accommodation, "accommodation")
    with pytest.raises(ValidationFailed) as refused:
        pipeline.run(accommodation.store, "accommodation", path, scope="commune=25217")  # `commune`: commune_code
    assert refused.value.code == "outside-scope" and refused.value.context["field"] == "commune_code"
    assert published(accommodation, "accommodation") == before
    assert last_load(accommodation, "accommodation")["status"] == "failed"
    done = hub_command(accommodation, "ingest", "accommodation", str(path), "--scope", "commune_code=25217", check=False)
    assert done.returncode == 6 and "outside the load's scope" in done.stderr and "Traceback" not in done.stderr


def test_plan_settings_and_catalogue_limit(catalog) -> None:  # noqa: ANN001
    dataset = catalog.dataset("accommodation")
    assert LoadPlan.make(dataset).shrink_limit == 0.25
    assert LoadPlan.make(dataset, shrink_limit=0.6).shrink_limit == 0.6
    own = Dataset(dataset.id, {**dataset.entry, "shrink_limit": 0.05}, dataset.schema)
    assert LoadPlan.make(own, shrink_limit=0.6).shrink_limit == 0.05  # the catalogue wins
    assert LoadPlan.make(dataset, scope="commune=1,2").scope == Scope("commune_code", ("1", "2"))
    with pytest.raises(Exception, match="no field"):
        LoadPlan.make(dataset, scope="district=1")
    assert catalog.dataset("admin-units").shrink_limit is not None
