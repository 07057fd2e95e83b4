"""Operations endpoints: /healthz (the process is up) and /readyz (the store answers)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from hub.context import current_hub

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz():  # noqa: ANN201
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():  # noqa: ANN201
    hub = current_hub()
    checks: dict[str, str] = {}
    try:
        with hub.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {type(exc).__name__}"
    if hub.settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(hub.settings.redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    try:
        storage = hub.settings.storage_dir
        storage.mkdir(parents=True, exist_ok=True)
        probe = storage / ".readyz"
        probe.write_text("ok")
        probe.unlink()
        checks["storage"] = "ok"
    except OSError as exc:
        checks["storage"] = f"error: {exc.strerror}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
