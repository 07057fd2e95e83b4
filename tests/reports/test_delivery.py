"""Pushing produced reports to the reporting system: retries until accepted, at most once per (report,
period), the receipt or last error kept; with the receiver down the report is late, not lost."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.errors import ConfigError
from publish.context import Hub
from publish.reports import compute, delivery, scheduled, tables
from tests.conftest import free_port
from tests.reports.receiver import Receiver

REPORT, PERIOD = "travel-agencies-quarterly", "2026-Q3"


def deliveries(hub: Hub, report: str = REPORT, period: str = PERIOD) -> list[dict]:
    d = tables.deliveries
    with hub.store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(d).where(d.c.report == report, d.c.period == period))]


def state(hub: Hub, report: str, period: str) -> dict:
    return next(r for r in scheduled.overview(hub.store) if r["report"] == report and r["period"] == period)


def test_refused_twice_then_accepted_is_delivered_once(fresh_reports_hub: Hub) -> None:
    hub = fresh_reports_hub
    definition = hub.catalog.report(REPORT)
    produced = compute.produce(hub.store, definition, PERIOD)
    waits: list[float] = []
    with Receiver(refuse=2) as receiver:
        settings = hub.settings.replace(report_endpoint=receiver.url, report_token="report-token")
        outcome = delivery.push(hub.store, settings, definition, PERIOD, attempts=4, backoff=0.5, sleep=waits.append)
        assert outcome.status == "delivered" and outcome.attempts == 3
        assert waits == [0.5, 1.0]  # exponential backoff between the attempts
        assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
        keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
        assert keys == {f"dongnai-vhttdl:{REPORT}:{PERIOD}"}
        body = receiver.accepted[keys.pop()]
        assert body["form"] == definition.form and body["period"] == PERIOD and body["versions"] == produced.versions
        assert body["rows"] == [c.to_dict() for c in produced.cells]

        again = delivery.push(hub.store, settings, definition, PERIOD, sleep=waits.append)
        assert again.status == "already-delivered" and len(receiver.requests) == 3  # nothing sent twice

    [row] = deliveries(hub)
    assert row["status"] == "delivered" and row["attempts"] == 3
    assert json.loads(row["receipt"])["receipt"] == "BC-0001" and row["delivered_at"] is not None
    shown = state(hub, REPORT, PERIOD)
    assert shown["state"] == "delivered" and shown["delivered_late"]  # 2026-Q3 was due on 10 October


def test_receiver_down_marks_the_report_late_not_lost(fresh_reports_hub: Hub) -> None:
    hub = fresh_reports_hub
    definition = hub.catalog.report(REPORT)
    produced = compute.produce(hub.store, definition, PERIOD)
    down = hub.settings.replace(report_endpoint=f"http://127.0.0.1:{free_port()}/api/bao-cao", report_token="report-token")
    outcome = delivery.push(hub.store, down, definition, PERIOD, attempts=3, backoff=0.01)
    assert outcome.status == "failed" and "Connection" in outcome.error
    [row] = deliveries(hub)
    assert row["status"] == "failed" and row["attempts"] == 3 and row["next_attempt_at"] is not None
    shown = state(hub, REPORT, PERIOD)
    assert shown["state"] == "late" and "Connection" in shown["last_error"]
    assert compute.read(hub.store, REPORT, PERIOD).rows_sha256 == produced.rows_sha256  # kept

    with Receiver() as receiver:  # back up: the next push delivers it, once
        up = down.replace(report_endpoint=receiver.url)
        assert delivery.push(hub.store, up, definition, PERIOD, backoff=0.01).status == "delivered"
        assert len(receiver.accepted) == 1
    [row] = deliveries(hub)
    assert row["status"] == "delivered" and row["attempts"] == 4


def test_a_refused_token_is_not_retried_and_no_endpoint_is_a_config_error(fresh_reports_hub: Hub) -> None:
    hub = fresh_reports_hub
    definition = hub.catalog.report(REPORT)
    compute.produce(hub.store, definition, PERIOD)
    with pytest.raises(ConfigError):
        delivery.push(hub.store, hub.settings, definition, PERIOD)
    with Receiver() as receiver:
        wrong = hub.settings.replace(report_endpoint=receiver.url, report_token="wrong")
        outcome = delivery.push(hub.store, wrong, definition, PERIOD, attempts=4, backoff=0.01)
        assert outcome.status == "failed" and outcome.error.startswith("HTTP 401") and len(receiver.requests) == 1
