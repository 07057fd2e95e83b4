"""Scheduled reports: due periods from the definitions' cron, missed periods caught up, every (report, period)
produced and pushed once, by one tick or by two `hub worker` processes on Redis started together."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from core.config import PROJECT_ROOT
from publish import schedule
from publish.context import Hub
from publish.reports import scheduled, tables
from publish.store import utcnow
from tests.reports.conftest import count_rows
from tests.reports.receiver import Receiver


def test_due_periods_follow_the_period_kind(catalog) -> None:  # noqa: ANN001
    now = datetime(2026, 12, 6, 5, 0)  # naive UTC: 12:00 on 6 December in Vietnam
    codes = {d.id: [p.code for p in scheduled.due_periods(d, now)] for d in catalog.reports.values()}
    assert codes["accommodation-monthly"] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert codes["travel-agencies-quarterly"] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert codes["sports-venues-half-yearly"] == ["2026-H1"]
    assert codes["heritage-sites-yearly"] == ["2025"]
    # November's report is due at 01:00 on 1 December, Vietnam time (18:00 UTC on 30 November)
    monthly = catalog.report("accommodation-monthly")
    assert scheduled.due_periods(monthly, datetime(2026, 11, 30, 17, 59))[-1].code == "2026-10"
    assert scheduled.due_periods(monthly, datetime(2026, 11, 30, 18, 0))[-1].code == "2026-11"


def test_a_claim_is_taken_once_and_taken_over_after_its_lease(reports_hub: Hub) -> None:
    store, task = reports_hub.store, "test:claims"
    assert schedule.claim(store, task, "2026-09", "a:1")
    assert not schedule.claim(store, task, "2026-09", "b:2")  # held by a live process
    with store.engine.begin() as conn:  # a's process died: its lease runs out
        conn.execute(schedule.claims.update().where(schedule.claims.c.task == task)
                     .values(lease_until=utcnow() - timedelta(seconds=1)))
    assert schedule.claim(store, task, "2026-09", "b:2")
    schedule.finish(store, task, "2026-09", "b:2", "done", {"ok": True})
    assert not schedule.claim(store, task, "2026-09", "c:3")
    assert schedule.done_slots(store, task) == {"2026-09"}


def expected_deliveries(hub: Hub) -> set[str]:
    return {f"dongnai-vhttdl:{d.id}:{p.code}" for d in hub.catalog.reports.values() for p in scheduled.due_periods(d)}


def test_one_tick_catches_up_every_missed_period_once(fresh_reports_hub: Hub) -> None:
    hub = fresh_reports_hub
    with Receiver() as receiver:
        settings = hub.settings.replace(report_endpoint=receiver.url, report_token="report-token")
        first = scheduled.tick(hub.store, settings, push_backoff=0.01)
        assert {o["status"] for o in first} == {"done"}
        assert set(receiver.accepted) == expected_deliveries(hub)
        assert len(receiver.requests) == len(receiver.accepted) >= 13
        assert scheduled.tick(hub.store, settings) == []  # nothing left to do
    assert count_rows(hub, "hub_report_runs") == len(receiver.accepted)
    states = {(r["report"], r["period"]): r["state"] for r in scheduled.overview(hub.store)}
    assert set(states.values()) == {"delivered"}


def test_a_failed_push_is_retried_by_a_later_tick(fresh_reports_hub: Hub) -> None:
    hub = fresh_reports_hub
    with Receiver(refuse=1000) as receiver:  # the reporting system is down for the first tick
        settings = hub.settings.replace(report_endpoint=receiver.url, report_token="report-token")
        first = scheduled.tick(hub.store, settings, push_attempts=1, push_backoff=0.01)
        assert first and {o["status"] for o in first} == {"failed"}
        assert {r["state"] for r in scheduled.overview(hub.store)} == {"late"}  # not lost: produced, late
        receiver.refuse = 0
        assert scheduled.tick(hub.store, settings) == []  # not yet: each failed slot waits before retrying
        with hub.store.engine.begin() as conn:
            conn.execute(schedule.claims.update().values(lease_until=utcnow() - timedelta(seconds=1)))
        again = scheduled.tick(hub.store, settings, push_backoff=0.01)
        assert {o["status"] for o in again} == {"done"} and all(not o["produced"] for o in again)
        assert set(receiver.accepted) == expected_deliveries(hub)


def test_two_workers_on_redis_produce_and_push_each_due_report_once(fresh_reports_hub: Hub, tmp_path: Path) -> None:
    from tests.ops.conftest import flush_redis, hub_env, redis_db_url

    hub = fresh_reports_hub
    redis_url = redis_db_url()
    with Receiver() as receiver:
        env = hub_env(database_url=hub.settings.database_url, redis_url=redis_url, storage_dir=tmp_path / "storage",
                      log_format="text", schedule_seconds=1, report_endpoint=receiver.url, report_token="report-token")
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        logs = [(tmp_path / f"worker-{i}.log").open("wb") for i in range(2)]
        workers = [subprocess.Popen([sys.executable, "-m", "hub", "worker", "--name", f"reports-{i}"], env=env,
                                    cwd=tmp_path, stdout=logs[i], stderr=subprocess.STDOUT) for i in range(2)]
        try:
            want = expected_deliveries(hub)
            deadline = time.monotonic() + 180
            while set(receiver.accepted) != want and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # a few more ticks of both workers: nothing more may be sent
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:  # a slow warm shutdown on a busy machine is not this test's subject
                    worker.kill()
                    worker.wait(timeout=30)
            for log in logs:
                log.close()
            flush_redis(redis_url)
        assert set(receiver.accepted) == want, [p.read_text()[-2000:] for p in tmp_path.glob("worker-*.log")]
        assert len(receiver.requests) == len(want)  # each sent once, none twice
    assert count_rows(hub, "hub_report_runs") == len(want)
    with hub.store.engine.connect() as conn:
        by = set(conn.execute(sa.select(schedule.claims.c.worker)).scalars())
        delivered = conn.execute(sa.select(sa.func.count()).select_from(tables.deliveries)
                                 .where(tables.deliveries.c.status == "delivered")).scalar()
    assert delivered == len(want)
    assert len(by) >= 1  # one or both workers did the work; neither repeated the other's
