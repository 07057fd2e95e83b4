"""Which process runs a load, and whether it still does: host, boot, PID namespace and PID, plus a heartbeat.

A PID alone says nothing outside its machine and its PID namespace: a load started in a container records
pid 1, and on another host any PID may be alive or not. So each running load records `host`, `boot_id` (the
kernel's, new at every boot), `pid_ns` (the PID namespace) and `pid`, and while it runs a thread writes
`heartbeat_at` every HEARTBEAT_SECONDS. Recovery (Store.recover_interrupted_loads) then decides:

- same host, same boot, same PID namespace: dead exactly when its PID no longer runs (kill -9 is seen at once);
- same host, another boot: dead (the machine restarted since);
- anything else (another host, another PID namespace, the same machine seen from a container): dead only
  when its heartbeat is older than STALE_AFTER. A live load elsewhere is never marked failed.

Loads recorded before these columns existed (host NULL) keep the old rule (PID on this machine).

Jobs (hub_jobs.worker) and claims (hub_schedule_claims.worker, harvest attempts) name their process with one
string, `Identity.holder()`: "host:pid pid:[namespace] boot-id", read back by `Identity.from_holder`, and are
judged by the same rule (`process_state`). An older "host:pid" holder keeps the old rule on its own host.

HUB_HEARTBEAT_SECONDS and HUB_LEASE_SECONDS (settings; Store.heartbeat_seconds and Store.stale_after) set
how often a process beats and how long a silent one elsewhere is still presumed alive.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from publish import tables
from publish.db import driver

HEARTBEAT_SECONDS = 10.0
STALE_AFTER = timedelta(seconds=120)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        return None


@dataclass(frozen=True)
class Identity:
    host: str
    boot_id: str | None
    pid_ns: str | None
    pid: int

    @classmethod
    def current(cls) -> Identity:
        return cls(socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"), _pid_namespace(), os.getpid())

    def columns(self) -> dict[str, Any]:
        """The hub_loads values naming this process."""
        return {"host": self.host[:255], "boot_id": self.boot_id, "pid_ns": self.pid_ns, "pid": self.pid}

    def sees(self, row: Any) -> bool:
        """True when `row`'s PID is a PID of this machine, boot and namespace (so it can be looked up here)."""
        return bool(row.host == self.host and row.boot_id == self.boot_id and row.pid_ns == self.pid_ns)

    def holder(self) -> str:
        """This process as one string (jobs' and claims' `worker`): "host:pid pid:[namespace] boot-id"."""
        return f"{self.host}:{self.pid} {self.pid_ns or '-'} {self.boot_id or '-'}"[:200]

    def with_pid(self, pid: int) -> Identity:
        """Another process of this machine, boot and namespace (a work horse RQ reports dead)."""
        return Identity(self.host, self.boot_id, self.pid_ns, pid)

    @classmethod
    def from_holder(cls, holder: str | None) -> Identity | None:
        """The identity in a `holder()` string; an older "host:pid" one gives no namespace and no boot.
        None when it names no process."""
        head, *rest = (holder or "").split(" ")
        host, _, pid = head.rpartition(":")
        if not host or not pid.isdigit():
            return None
        pid_ns, boot_id = (rest + ["-", "-"])[:2]
        return cls(host, None if boot_id == "-" else boot_id, None if pid_ns == "-" else pid_ns, int(pid))


def pid_running(pid: int | None) -> bool:
    """True while `pid` runs in this PID namespace. A zombie (dead, not reaped yet) is not running."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_state(who: Any, me: Identity) -> str:
    """What this process can tell of `who` (host, boot_id, pid_ns, pid): "gone" (its process no longer
    exists: same machine, boot and namespace and its PID is not running, or this machine restarted since),
    "running", or "unseen" (another host or PID namespace: only its heartbeat or lease can tell)."""
    if who.host is None or (who.host == me.host and who.pid_ns is None and who.boot_id is None):
        return "running" if pid_running(who.pid) else "gone"  # recorded before identities: the PID, as then
    if me.sees(who):
        return "running" if pid_running(who.pid) else "gone"
    if who.host == me.host and who.boot_id and me.boot_id and who.boot_id != me.boot_id:
        return "gone"  # this machine has restarted since
    return "unseen"


def holder_gone(holder: str | None, me: Identity | None = None) -> bool:
    """True when the process named by `holder` (Identity.holder()) is known, here, to be gone; a holder on
    another host or in another PID namespace is never "gone" here: its lease must run out."""
    who = Identity.from_holder(holder)
    return who is not None and process_state(who, me or Identity.current()) == "gone"


def is_dead(row: Any, me: Identity, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
    """Whether the running load `row` (host, boot_id, pid_ns, pid, heartbeat_at, started_at) has lost its process."""
    state = process_state(row, me)
    if state != "unseen":
        return state == "gone"
    last = row.heartbeat_at or row.started_at
    return last is None or last < now - stale_after


@contextmanager
def beating(every: float, beat: Callable[[], object], name: str) -> Iterator[None]:
    """Call `beat` from a thread every `every` seconds while the body runs, so a long SQL statement does not
    make a live holder (a job, a harvest lock) look dead; stopped and joined when the body ends."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            beat()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class Heartbeat:
    """A thread writing a running load's `heartbeat_at` every `every` seconds until stopped. A beat that cannot
    write (the database locked by a long apply, or gone) is skipped: the next one tries again."""

    def __init__(self, engine: Engine, load_id: int, every: float = HEARTBEAT_SECONDS) -> None:
        self.engine = engine
        self.load_id = load_id
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"load-{load_id}-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()

    def beat(self) -> bool:
        from publish.store import utcnow

        loads = tables.loads
        try:
            with self.engine.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                raw = driver(conn)
                if sqlite:  # wait a moment for the write lock, never the load's whole apply
                    before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                    raw.execute("PRAGMA busy_timeout = 1000")
                try:
                    with conn.begin():
                        if not sqlite:
                            conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                        conn.execute(loads.update().where(loads.c.id == self.load_id, loads.c.status == "running")
                                     .values(heartbeat_at=utcnow()))
                finally:
                    if sqlite:
                        raw.execute(f"PRAGMA busy_timeout = {int(before)}")
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


__all__ = ["HEARTBEAT_SECONDS", "STALE_AFTER", "Heartbeat", "Identity", "holder_gone", "is_dead", "pid_running",
           "process_state"]
