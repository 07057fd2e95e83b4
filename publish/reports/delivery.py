"""Delivery of produced reports to the reporting system: an HTTP POST of JSON with a bearer token.

At most once per (report, period): the delivery is one row of hub_report_deliveries, unique per (report,
period), and a delivered row is never sent again. The request carries an `Idempotency-Key` that is the same
on every attempt, so a receiver that got a request whose answer we never saw (a timeout, a crash between
its answer and our commit) can tell the retry from a new report. Each push tries a few times with
exponential backoff; when every attempt fails, the last error is kept, the row says when to try again, and
the scheduler tries again then. A report not delivered by its deadline shows as late: never lost, only late.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.config import Settings
from core.errors import ConfigError, LoadConflict
from core.reports import ReportDefinition, parse_period
from publish.db import inserted_id, write_transaction
from publish.reports import compute, tables
from publish.store import Store, utcnow

LEASE = timedelta(minutes=5)
RETRY_LATER = timedelta(minutes=5)  # first wait after a failed push; doubles per failed push, up to 6 hours
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class DeliveryOutcome:
    report: str
    period: str
    status: str  # delivered, failed, already-delivered
    attempts: int
    receipt: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def idempotency_key(report: str, period: str) -> str:
    return f"dongnai-vhttdl:{report}:{period}"


def payload(store: Store, definition: ReportDefinition, produced: compute.Produced) -> dict[str, Any]:
    """The JSON body: what the report is, the versions it was computed from, and its figures."""
    period = parse_period(produced.period, definition.period_kind)
    return {
        "idempotency_key": idempotency_key(definition.id, produced.period),
        "report": definition.id,
        "form": definition.form,
        "title": {"vi": definition.title("vi"), "en": definition.title("en")},
        "reporting_unit": {"vi": definition.text("reporting_unit", "vi"), "en": definition.text("reporting_unit", "en")},
        "receiving_unit": {"vi": definition.text("receiving_unit", "vi"), "en": definition.text("receiving_unit", "en")},
        "period": produced.period,
        "period_kind": definition.period_kind,
        "period_start": period.start.isoformat(),
        "period_end": period.last_day.isoformat(),
        "deadline": definition.deadline(period).isoformat(),
        "computed_at": produced.computed_at.isoformat() if produced.computed_at else None,
        "versions": produced.versions,
        "rows_sha256": produced.rows_sha256,
        "indicators": [{"code": i.code, "name": i.name, "unit": i.unit, "dataset": i.dataset}
                       for i in definition.indicators],
        "rows": [c.to_dict() for c in produced.cells],
    }


def _claim(store: Store, report: str, period: str, endpoint: str, worker: str) -> tuple[int, bool]:
    """(delivery id, True when this process may send now). False: delivered already."""
    d = tables.deliveries
    now = utcnow()
    with write_transaction(store.engine) as conn:
        try:
            with conn.begin_nested():
                new_id = inserted_id(conn.execute(d.insert().values(
                    report=report, period=period, idempotency_key=idempotency_key(report, period), status="sending",
                    endpoint=endpoint, attempts=0, first_attempt_at=now, claimed_by=worker, lease_until=now + LEASE,
                )))
                return new_id, True
        except sa.exc.IntegrityError:
            pass
        row = conn.execute(sa.select(d).where(d.c.report == report, d.c.period == period)).one()
        if row.status == "delivered":
            return row.id, False
        taken = conn.execute(d.update().where(
            d.c.id == row.id, d.c.status != "delivered",
            sa.or_(d.c.status == "failed", d.c.lease_until < now),
        ).values(status="sending", endpoint=endpoint, claimed_by=worker, lease_until=now + LEASE)).rowcount
        if not taken:
            raise LoadConflict(f"Báo cáo «{report}» kỳ {period} đang được {row.claimed_by} gửi",
                               f"Report «{report}» for {period} is being sent by {row.claimed_by}", field="period")
        return row.id, True


def push(store: Store, settings: Settings, definition: ReportDefinition, period: str, *, attempts: int = 4,
         backoff: float = 1.0, timeout: float = 15.0, sleep: Callable[[float], None] = time.sleep,
         worker: str | None = None) -> DeliveryOutcome:
    """Send the produced report for `period` unless it was delivered already. Tries `attempts` times, waiting
    backoff, 2×backoff, 4×backoff… between them; records the receipt or the last error."""
    import requests

    if not settings.report_endpoint:
        raise ConfigError("Chưa cấu hình địa chỉ nhận báo cáo (HUB_REPORT_ENDPOINT)",
                          "No reporting system is configured (HUB_REPORT_ENDPOINT)")
    period = parse_period(period, definition.period_kind).code
    produced = compute.read(store, definition.id, period)
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    delivery_id, send = _claim(store, definition.id, period, settings.report_endpoint, worker)
    d = tables.deliveries
    if not send:
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(d).where(d.c.id == delivery_id)).one()
        return DeliveryOutcome(definition.id, period, "already-delivered", row.attempts, row.receipt)
    body = json.dumps(payload(store, definition, produced), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key(definition.id, period),
               "User-Agent": "dongnai-culture-data-hub/reports"}
    if settings.report_token:
        headers["Authorization"] = f"Bearer {settings.report_token}"
    error, tried = None, 0
    for attempt in range(attempts):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        tried += 1
        try:
            answer = requests.post(settings.report_endpoint, data=body, headers=headers, timeout=timeout,
                                   allow_redirects=False)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            _note_attempt(store, delivery_id, error)
            continue
        if 200 <= answer.status_code < 300:
            receipt = answer.text[:10_000]
            with write_transaction(store.engine) as conn:
                conn.execute(d.update().where(d.c.id == delivery_id).values(
                    status="delivered", attempts=d.c.attempts + 1, last_attempt_at=utcnow(), delivered_at=utcnow(),
                    receipt=receipt, next_attempt_at=None, lease_until=None))
            return DeliveryOutcome(definition.id, period, "delivered", _attempts(store, delivery_id), receipt)
        error = f"HTTP {answer.status_code}: {answer.text[:300]}"
        _note_attempt(store, delivery_id, error)
        if answer.status_code not in RETRYABLE:
            break  # refused for good (a wrong token, a malformed report): retrying now would not help
    with write_transaction(store.engine) as conn:
        done = conn.execute(sa.select(d.c.attempts).where(d.c.id == delivery_id)).scalar() or tried
        later = min(RETRY_LATER * 2 ** max(done // max(attempts, 1) - 1, 0), timedelta(hours=6))
        conn.execute(d.update().where(d.c.id == delivery_id).values(
            status="failed", last_error=error, next_attempt_at=utcnow() + later, lease_until=None))
    return DeliveryOutcome(definition.id, period, "failed", _attempts(store, delivery_id), error=error)


def _note_attempt(store: Store, delivery_id: int, error: str) -> None:
    d = tables.deliveries
    with write_transaction(store.engine) as conn:
        conn.execute(d.update().where(d.c.id == delivery_id).values(
            attempts=d.c.attempts + 1, last_attempt_at=utcnow(), last_error=error, lease_until=utcnow() + LEASE))


def _attempts(store: Store, delivery_id: int) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(tables.deliveries.c.attempts)
                                .where(tables.deliveries.c.id == delivery_id)).scalar() or 0)


def delivery(store: Store, report: str, period: str) -> dict[str, Any] | None:
    d = tables.deliveries
    with store.read_engine.connect() as conn:
        row = conn.execute(sa.select(d).where(d.c.report == report, d.c.period == period)).first()
    if row is None:
        return None
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out
