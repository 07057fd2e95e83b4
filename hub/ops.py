"""Operations: /healthz (the process is up), /readyz (it can serve), and the checks `hub check-config` runs.

/readyz and `hub check-config` share `check_database`, `check_redis` and `check_storage`, so what the load
balancer sees and what the operator is told are the same facts. Each check answers "ok" or one line saying
what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from core.config import Settings
from hub.context import current_hub
from publish import mail
from publish.db import ping

blueprint = Blueprint("ops", __name__)

STORAGE_FOLDERS = ("uploads", "exports/public", "exports/private", "backups")


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def check_database(engine: sa.Engine) -> str:
    try:
        ping(engine)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {_reason(exc)}"
    return "ok"


def check_redis(url: str | None) -> str | None:
    """None when Redis is not configured (jobs run inline)."""
    if not url:
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"error: {_reason(exc)}"
    return "ok"


def check_storage(folder: Path) -> str:
    """The storage folder and its subfolders exist (created if missing) and take a file."""
    try:
        for sub in STORAGE_FOLDERS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-probe"
        try:
            probe.write_text("ok")
        finally:  # a full disk makes the file, then fails to fill it: never leave it behind
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return f"error: {exc.strerror or exc} ({exc.filename or folder})"
    return "ok"


def check_migrations(engine: sa.Engine) -> str:
    from publish import migrate

    try:
        current = migrate.current_revision(engine)
        latest = ",".join(migrate.latest_revisions())
    except Exception as exc:  # noqa: BLE001
        return f"error: {_reason(exc)}"
    if current is None:
        return "error: empty database; run `hub migrate`"
    if current != latest:
        return f"error: database at {current}, this version needs {latest}; run `hub migrate`"
    return "ok"


def environment_checks(settings: Settings) -> dict[str, str]:
    """Everything outside the settings themselves: database, schema revision, Redis, storage, and the SMTP
    server when one is set (it answers, and takes the TLS and login asked for)."""
    from publish.db import create_engine

    out: dict[str, str] = {}
    try:
        engine = create_engine(settings.database_url)
    except Exception as exc:  # noqa: BLE001
        out["database"] = f"error: {_reason(exc)}"
    else:
        out["database"] = check_database(engine)
        if out["database"] == "ok":
            out["migrations"] = check_migrations(engine)
        if settings.replica_url:
            out["replica"] = check_database(create_engine(settings.replica_url))
        engine.dispose()
    redis_state = check_redis(settings.redis_url)
    if redis_state is not None:
        out["redis"] = redis_state
    out["storage"] = check_storage(Path(settings.storage_dir))
    smtp_state = mail.check(settings)
    if smtp_state is not None:
        out["smtp"] = smtp_state
    return out


@blueprint.get("/healthz")
def healthz():  # noqa: ANN201
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():  # noqa: ANN201
    hub = current_hub()
    checks: dict[str, str] = {"database": check_database(hub.store.engine)}
    if hub.store.read_engine is not hub.store.engine:
        checks["replica"] = check_database(hub.store.read_engine)
    redis_url = hub.settings.redis_url
    redis_state = check_redis(redis_url)
    if redis_state is not None:
        checks["redis"] = redis_state
    checks["storage"] = check_storage(Path(hub.settings.storage_dir))
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if redis_url and redis_state == "ok":  # (check_redis is None without a URL)
        body["jobs"] = _queue_facts(redis_url)  # informative: workers run elsewhere
    return jsonify(body), 200 if ready else 503


def _queue_facts(url: str) -> dict[str, int]:
    try:
        from redis import Redis
        from rq import Queue, Worker

        from hub.jobs import QUEUE

        connection = Redis.from_url(url, socket_timeout=2)
        queue = Queue(QUEUE, connection=connection)
        return {"queued": queue.count, "workers": len(Worker.all(queue=queue))}
    except Exception:  # noqa: BLE001 - facts, not a check
        return {}
