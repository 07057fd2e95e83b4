"""Scheduled work (periodic reports now, harvests next): when it is due, and who does it.

The approach (docs/operations.md, "Scheduled work"): every `hub worker` runs a "due" tick every
HUB_SCHEDULE_SECONDS; `hub reports tick` runs one tick for installations without Redis (a systemd timer).
A tick asks each task for its due slots (croniter turns a cron expression into run times; nothing else of a
scheduler library is used) and, for each slot not done yet, claims it in the database before doing it:

- a claim is a row of hub_schedule_claims, primary key (task, slot): of two workers inserting the same
  claim, one wins and the other sees the row and moves on;
- a claim has a lease: a process that dies while holding one loses it when the lease runs out, and the next
  tick's claim takes it over (so a killed worker never leaves work undone for good); a holder of this
  machine, boot and PID namespace whose process is gone is taken over at once, one on another host (or in
  another PID namespace) only once its lease has run out (publish/leases.py);
- a failed slot keeps its row with `lease_until` set to when to try again (backing off), so catching up after
  an outage retries without hammering.

Missed slots (the worker was stopped over a month end) are caught up: every slot from the task's first one
up to now that has no `done` claim is due.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from croniter import croniter

from publish import leases
from publish.db import write_transaction
from publish.tables import metadata

if TYPE_CHECKING:
    from publish.store import Store


def utcnow() -> datetime:
    # publish.store imports publish.tables, which registers this module's table: no import of it at load time
    from publish.store import utcnow as now

    return now()

claims = sa.Table(
    "hub_schedule_claims",
    metadata,
    sa.Column("task", sa.String(200), primary_key=True),  # e.g. report:accommodation-monthly
    sa.Column("slot", sa.String(40), primary_key=True),  # e.g. 2026-09
    sa.Column("status", sa.String(20), nullable=False),  # running, done, failed
    sa.Column("worker", sa.String(200)),
    sa.Column("claimed_at", sa.DateTime, nullable=False),
    sa.Column("lease_until", sa.DateTime, nullable=False),  # running: presumed dead after; failed: retry after
    sa.Column("finished_at", sa.DateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
    sa.Column("outcome", sa.Text),  # JSON: what the work did, or its error
)

LEASE = timedelta(minutes=15)


def run_times(cron: str, start: datetime, until: datetime) -> Iterator[datetime]:
    """The times `cron` fires after `start` up to `until` (naive datetimes in one zone, the cron's)."""
    it = croniter(cron, start)
    while True:
        at = it.get_next(datetime)
        if at > until:
            return
        yield at


def done_slots(store: Store, task: str) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(claims.c.slot).where(claims.c.task == task, claims.c.status == "done"))
                   .scalars())


def claim(store: Store, task: str, slot: str, worker: str, *, lease: timedelta = LEASE) -> bool:
    """True when this process now holds (task, slot): it inserted the claim, or took over one whose holder's
    lease ran out, whose retry time has come, or whose holder is a process of this machine that is gone.
    False when it is done or held by a live process (or one elsewhere whose lease still runs)."""
    now = utcnow()
    with write_transaction(store.engine) as conn:
        try:
            with conn.begin_nested():
                conn.execute(claims.insert().values(task=task, slot=slot, status="running", worker=worker,
                                                    claimed_at=now, lease_until=now + lease, attempts=1))
                return True
        except sa.exc.IntegrityError:
            pass
        held = conn.execute(sa.select(claims.c.worker, claims.c.status, claims.c.lease_until)
                            .where(claims.c.task == task, claims.c.slot == slot)).first()
        if held is None or held.status == "done":
            return False
        if held.lease_until >= now and not (held.status == "running" and leases.holder_gone(held.worker)):
            return False
        return conn.execute(claims.update().where(  # only if nobody took it meanwhile
            claims.c.task == task, claims.c.slot == slot, claims.c.status == held.status,
            claims.c.worker == held.worker, claims.c.lease_until == held.lease_until,
        ).values(status="running", worker=worker, claimed_at=now, lease_until=now + lease,
                 attempts=claims.c.attempts + 1)).rowcount == 1


def renew(store: Store, task: str, slot: str, worker: str, lease: timedelta) -> bool:
    """Push a held claim's lease `lease` past now (a long task beating); False when `worker` holds it no more."""
    now = utcnow()
    try:
        with write_transaction(store.engine) as conn:
            return conn.execute(claims.update().where(
                claims.c.task == task, claims.c.slot == slot, claims.c.worker == worker, claims.c.status == "running",
            ).values(lease_until=now + lease)).rowcount == 1
    except sa.exc.SQLAlchemyError:  # locked or gone for a moment: the next beat tries again
        return False


def finish(store: Store, task: str, slot: str, worker: str, status: str, outcome: dict[str, Any],
           *, retry_after: timedelta | None = None) -> None:
    """Record the end of a claimed slot: done, or failed (tried again after `retry_after`)."""
    now = utcnow()
    with write_transaction(store.engine) as conn:
        conn.execute(claims.update().where(claims.c.task == task, claims.c.slot == slot, claims.c.worker == worker)
                     .values(status=status, finished_at=now, lease_until=now + (retry_after or timedelta(0)),
                             outcome=json.dumps(outcome, ensure_ascii=False, default=str)))


def claims_of(store: Store, task_prefix: str = "") -> list[dict[str, Any]]:
    stmt = sa.select(claims).order_by(claims.c.task, claims.c.slot)
    if task_prefix:
        stmt = stmt.where(claims.c.task.startswith(task_prefix))
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
