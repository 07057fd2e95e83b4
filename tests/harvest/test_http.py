"""The one-stop system's JSON API as a source: cursor paging, a bearer token from the environment, ETag."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from publish import tables
from publish.harvest import run
from publish.query import count_current
from tests.harvest.conftest import DATASET, RENAMED, OneStop

pytest_plugins: list[str] = []


def spec_for(api: OneStop, **extra: Any) -> dict[str, Any]:
    return {"kind": "http", "url": f"{api.url}/api/travel-agencies", "format": "json", "rows": "data.items",
            "paging": {"style": "cursor", "param": "cursor", "next": "meta.next_cursor"},
            "auth": {"header": "Authorization", "scheme": "Bearer", "env": "HUB_TEST_ONESTOP_TOKEN"},
            "fields": {v: k for k, v in RENAMED.items()}, "timeout": 1, **extra}


def load_row(hub: Any, load_id: int) -> Any:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(tables.loads).where(tables.loads.c.id == load_id)).one()


def test_first_unchanged_changed(harvest_hub: Any, one_stop: OneStop) -> None:
    hub = harvest_hub(spec_for(one_stop))
    dataset = hub.catalog.dataset(DATASET)

    first = run.harvest(hub.store, DATASET)
    assert first["status"] == "committed", first
    assert first["version"] == 1 and first["rows"] == 60
    assert len(one_stop.seen) == 3  # 60 rows, 25 a page, following the cursor
    assert count_current(hub.store, dataset) == 60
    load = load_row(hub, first["load_id"])
    note = json.loads(load.note)["harvest"]
    assert note["etag"] == one_stop.etag() and note["sha256"] == load.source_sha256 == first["sha256"]
    assert load.source_name == one_stop.url + "/api/travel-agencies"

    one_stop.seen.clear()
    second = run.harvest(hub.store, DATASET)
    assert second["status"] == "unchanged" and second["conditional"]
    assert [h.get("If-None-Match") for h in one_stop.seen] == [one_stop.etag()]  # one conditional request
    assert hub.store.current_version(DATASET) == 1

    one_stop.rows[3]["ten_doanh_nghiep"] = "Công ty Du lịch Đổi Tên (mẫu)"
    one_stop.rows.append({**one_stop.rows[0], "ma_doanh_nghiep": "9900000001", "licence_number": "75-9999/2026/X"})
    third = run.harvest(hub.store, DATASET)
    assert third["status"] == "committed" and third["version"] == 2
    load = load_row(hub, third["load_id"])
    assert (load.rows_added, load.rows_changed, load.rows_removed) == (1, 1, 0)
    assert count_current(hub.store, dataset) == 61


def test_dry_run_loads_nothing(harvest_hub: Any, one_stop: OneStop) -> None:
    hub = harvest_hub(spec_for(one_stop))
    row = run.harvest(hub.store, DATASET, dry_run=True)
    assert row["status"] == "dry-run" and row["rows"] == 60
    assert hub.store.current_version(DATASET) is None
    assert run.harvest(hub.store, DATASET)["status"] == "committed"  # a dry run's ETag is not reused


def test_faults_keep_the_current_version(harvest_hub: Any, one_stop: OneStop) -> None:
    hub = harvest_hub(spec_for(one_stop))
    dataset = hub.catalog.dataset(DATASET)
    assert run.harvest(hub.store, DATASET)["status"] == "committed"
    original = list(one_stop.rows)
    one_stop.rows = [dict(r) for r in original]
    one_stop.rows[0]["name"] = "changed, so no 304"

    def fails(expect_en: str, expect_vi: str) -> None:
        row = run.harvest(hub.store, DATASET)
        assert row["status"] == "failed", row
        assert expect_en in row["error_en"] and expect_vi in row["error_vi"], row
        assert hub.store.current_version(DATASET) == 1
        assert count_current(hub.store, dataset) == 60

    one_stop.mode = "slow"
    fails("did not answer within 1 seconds", "không trả lời")
    one_stop.mode = "500"
    fails("HTTP 500", "HTTP 500")
    one_stop.mode = "truncated"
    fails("cut short", "cắt ngang")
    one_stop.mode = "html"
    fails("wrong content type «text/html»", "sai kiểu nội dung")
    one_stop.mode = "ok"
    one_stop.rows = [{("khoa_noi_bo" if k == "ma_doanh_nghiep" else k): v for k, v in r.items()} for r in original]
    fails("missing fields enterprise_code", "thiếu trường enterprise_code")
    one_stop.rows = [dict(r) for r in original[:25]]
    fails("would remove 35 of the 60 published records", "sẽ xoá 35 trong 60")
    one_stop.stop()
    fails("Cannot connect to the source", "Không kết nối được")

    history = run.history(hub.store, DATASET)
    assert [h["status"] for h in history] == ["failed"] * 7 + ["committed"]
    with hub.store.engine.connect() as conn:
        versions = conn.execute(sa.select(tables.loads.c.version).where(tables.loads.c.dataset == DATASET)).scalars()
        assert [v for v in versions if v is not None] == [1]  # nothing partial was ever loaded


def test_secret_missing_is_a_recorded_failure(harvest_hub: Any, one_stop: OneStop, monkeypatch: Any) -> None:
    hub = harvest_hub(spec_for(one_stop))
    monkeypatch.delenv("HUB_TEST_ONESTOP_TOKEN")
    row = run.harvest(hub.store, DATASET)
    assert row["status"] == "failed" and "HUB_TEST_ONESTOP_TOKEN" in row["error_en"]


def test_retries_with_backoff_when_the_source_is_unavailable(harvest_hub: Any, one_stop: OneStop) -> None:
    hub = harvest_hub(spec_for(one_stop, retries=2, backoff=0.2))
    one_stop.failures = 2
    row = run.harvest(hub.store, DATASET)
    assert row["status"] == "committed" and len(one_stop.seen) == 2 + 3  # two 500s, then three pages
    one_stop.mode = "500"
    one_stop.rows[0]["name"] = "changed"
    one_stop.seen.clear()
    row = run.harvest(hub.store, DATASET)
    assert row["status"] == "failed" and "HTTP 500" in row["error_en"] and len(one_stop.seen) == 3
