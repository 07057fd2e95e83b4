"""Reports as scheduled work: which periods are due, producing and pushing them (one tick), and where each
report stands (due, produced, delivered, late) for `hub reports list` and the steward page."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.config import Settings
from core.errors import HubError, NotFound
from core.reports import LOCAL_OFFSET, Period, ReportDefinition, period_containing
from publish import schedule
from publish.reports import compute, delivery, tables
from publish.store import Store, utcnow

log = logging.getLogger("hub.reports")
RETRY = timedelta(minutes=5)


def task_name(definition: ReportDefinition) -> str:
    return f"report:{definition.id}"


def due_periods(definition: ReportDefinition, now: datetime | None = None) -> list[Period]:
    """Periods whose production time (the definition's cron, Vietnam time) has come, from its first period on:
    each run time produces the period that ended before it."""
    now_local = (now or utcnow()) + LOCAL_OFFSET
    first = definition.first_period
    start = datetime.combine(first.end, datetime.min.time()) - timedelta(seconds=1)
    periods: list[Period] = []
    for at in schedule.run_times(definition.cron, start, now_local):
        period = period_containing(at.date(), definition.period_kind).previous()
        if period >= first and (not periods or periods[-1] != period):
            periods.append(period)
    return periods


def tick(store: Store, settings: Settings, *, now: datetime | None = None, worker: str | None = None,
         push_attempts: int = 3, push_backoff: float = 2.0) -> list[dict[str, Any]]:
    """One pass: produce (and push, when an endpoint is configured) every due report not done yet. Each
    (report, period) is claimed in the database first, so concurrent workers split the work, never repeat it."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    outcomes: list[dict[str, Any]] = []
    for definition in store.catalog.reports.values():
        task = task_name(definition)
        done = schedule.done_slots(store, task)
        for period in due_periods(definition, now):
            if period.code in done or not schedule.claim(store, task, period.code, worker):
                continue
            outcome: dict[str, Any] = {"report": definition.id, "period": period.code}
            status, retry = "done", None
            try:
                produced = compute.produce(store, definition, period, by=f"schedule ({worker})", worker=worker)
                outcome["produced"] = produced.computed_now
                if settings.report_endpoint:
                    sent = delivery.push(store, settings, definition, period.code, attempts=push_attempts,
                                         backoff=push_backoff, worker=worker)
                    outcome["delivery"] = sent.status
                    if sent.status == "failed":
                        status, retry = "failed", _retry_after(store, task, period.code)
                        outcome["error"] = sent.error
            except NotFound as exc:
                # no version of a dataset was published before the period ended: that cannot change any more
                outcome["skipped"] = exc.message("en")
            except HubError as exc:
                status, retry = "failed", _retry_after(store, task, period.code)
                outcome["error"] = exc.message("en")
            except Exception as exc:  # noqa: BLE001 - a tick must not stop the worker; recorded and retried
                log.exception("scheduled report %s %s failed", definition.id, period.code)
                status, retry = "failed", _retry_after(store, task, period.code)
                outcome["error"] = f"{type(exc).__name__}: {exc}"
            schedule.finish(store, task, period.code, worker, status, outcome, retry_after=retry)
            log.info("scheduled report %s %s: %s", definition.id, period.code, status, extra={"report": definition.id})
            outcomes.append({**outcome, "status": status})
    return outcomes


def _retry_after(store: Store, task: str, slot: str) -> timedelta:
    c = schedule.claims
    with store.engine.connect() as conn:
        attempts: int = conn.execute(sa.select(c.c.attempts).where(c.c.task == task, c.c.slot == slot)).scalar() or 1
    doubling: int = 2 ** (attempts - 1)  # int ** int is Any to mypy (a negative power is a float)
    return min(RETRY * doubling, timedelta(hours=6))


def overview(store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every report's periods from its first to the last ended one, newest first, with their state:
    due (ended, not produced), produced, sending, delivered, failed (push failed, will retry) and late (not
    delivered by the deadline; a delivered report records whether it came late)."""
    now = now or utcnow()
    r, d = tables.runs, tables.deliveries
    with store.read_engine.connect() as conn:
        runs = {(x.report, x.period): x for x in conn.execute(sa.select(r))}
        sent = {(x.report, x.period): x for x in conn.execute(sa.select(d))}
    out: list[dict[str, Any]] = []
    for definition in store.catalog.reports.values():
        periods = _ended_periods(definition, now)
        for period in reversed(periods):
            # rows or None; `produced` / `delivered` below say which, so they are Any here
            run: Any = runs.get((definition.id, period.code))
            dl: Any = sent.get((definition.id, period.code))
            deadline = definition.deadline_utc(period)
            produced = run is not None and run.status == "produced"
            delivered = dl is not None and dl.status == "delivered"
            if delivered:
                state = "delivered"
            elif now >= deadline:
                state = "late"
            elif dl is not None:
                state = dl.status  # sending, failed
            else:
                state = "produced" if produced else "due"
            out.append({
                "report": definition.id, "form": definition.form, "title": definition.title("vi"),
                "period": period.code, "deadline": definition.deadline(period).isoformat(), "state": state,
                "produced": produced, "computed_at": run.computed_at.isoformat() if produced and run.computed_at else None,
                "versions": run.versions if produced else None,
                "delivered_at": dl.delivered_at.isoformat() if delivered and dl.delivered_at else None,
                "delivered_late": bool(delivered and dl.delivered_at and dl.delivered_at >= deadline),
                "attempts": dl.attempts if dl is not None else 0,
                "receipt": dl.receipt if dl is not None else None,
                "last_error": dl.last_error if dl is not None and not delivered else None,
            })
    return out


def _ended_periods(definition: ReportDefinition, now: datetime) -> list[Period]:
    periods: list[Period] = []
    period = definition.first_period
    while period.end_utc <= now:
        periods.append(period)
        period = period.next()
    return periods
