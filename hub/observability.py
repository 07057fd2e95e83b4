"""Request ids and logs: one JSON line per request, every log line carrying the request id.

The request id comes from the caller's (or nginx's) `X-Request-ID` when it looks like one, else we make
one; it goes back in the response header and onto `flask.g.request_id`, where the audit log and the jobs a
request submits pick it up. Grep one id across nginx's access log, the app's log and the audit table to
follow a request end to end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.globals import request_ctx

from core import json_bytes
from core.config import Settings

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")  # longer, or other characters: not trusted, replaced
_HANDLER_MARK = "_hub_handler"
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

request_log = logging.getLogger("hub.request")
FIELDS = "_hub_fields"  # a record's attribute holding the fields a JSON line carries (the request log's)
REQUEST_ID_FIELD = "_hub_request_id"  # and the request's id, read from flask.g when the record was made
_NONE = object()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and any `extra` fields."""

    _second = (-1, "")  # the last second formatted, and its text: most lines share theirs with the one before

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, REQUEST_ID_FIELD, _NONE)  # the request log's own (no look into flask.g)
        if request_id is not _NONE:
            out["request_id"] = request_id
        elif has_request_context() and "request_id" in g:
            out["request_id"] = g.request_id
        fields = getattr(record, FIELDS, None)  # the request log's own fields: no look through the record
        if fields is not None:
            out.update((key, value) for key, value in fields.items() if value is not None)
        else:
            for key, value in vars(record).items():
                if key not in _STANDARD and not key.startswith("_") and value is not None:
                    out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        try:
            return json_bytes.dumps(out).decode("utf-8")  # 0.8 µs, json took 6.6 (every request logs a line)
        except TypeError:  # what orjson refuses (an integer past 64 bits): json writes it, the line is not lost
            return json.dumps(out, ensure_ascii=False, default=str)

    def _timestamp(self, created: float) -> str:
        """`created` as 2026-12-06T18:45:04.042Z (UTC, milliseconds)."""
        second, known = int(created), self._second  # (read once: another thread may replace it)
        if known[0] != second:
            known = self._second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        return f"{known[1]}.{int((created - second) * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if has_request_context() and "request_id" in g:
            text += f" [request_id={g.request_id}]"
        return text


def configure_logging(settings: Settings) -> None:
    """Send every log line to stderr (journald keeps it under systemd) in the configured format. Safe to
    call again: our handler is replaced, other handlers are left alone."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    quiet_libraries(settings.log_level)


def quiet_libraries(level: str) -> None:
    """Alembic says a dozen INFO lines at every start; keep them for DEBUG."""
    if level.upper() != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def new_request_id() -> str:
    """`uuid.uuid4().hex` (32 hex digits, version 4, RFC 4122 variant), without building a UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # the version nibble
    raw[8] = raw[8] & 0x3F | 0x80  # the variant bits
    return raw.hex()


def _start() -> None:
    given = request.environ.get("HTTP_X_REQUEST_ID", "")
    g.request_id = given if given and REQUEST_ID.match(given) else new_request_id()
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    known = g.__dict__  # (one look through the proxy, not one per name)
    request_id = known.get("request_id", "")
    response.headers["X-Request-ID"] = request_id
    if not request_log.isEnabledFor(logging.INFO):
        return response
    started = known.get("request_started")
    viewer = known.get("viewer")
    req = request_ctx.request  # (one look through the proxy for the request's six fields)
    environ = req.environ
    method, path, status = req.method, req.path, response.status_code
    rule = req.url_rule
    extra = {
        "method": method,
        "path": path,
        "route": rule.rule if rule else None,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "bytes": response.calculate_content_length(),
        "client": getattr(viewer, "name", None),
        "remote_addr": req.remote_addr,
        "user_agent": environ.get("HTTP_USER_AGENT", "")[:200] or None,
    }
    # as request_log.info would, less its look through the stack for the caller's file and line (not logged)
    record = request_log.makeRecord(request_log.name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status),
                                    None, extra=extra)
    setattr(record, FIELDS, extra)
    if "request_id" in known:
        setattr(record, REQUEST_ID_FIELD, request_id)
    request_log.handle(record)
    return response


def register(app: Flask) -> None:
    settings: Settings = app.extensions["hub"].settings
    if settings.proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # behind nginx: the client's address, scheme and host come from X-Forwarded-* (trusted N hops deep)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies,  # type: ignore[method-assign]  # Flask's way to wrap
                                x_host=settings.proxies)
    if not app.testing and not logging.getLogger().handlers:
        configure_logging(settings)
    if any(isinstance(h.formatter, (JsonFormatter, TextFormatter)) for h in logging.getLogger().handlers):
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)  # our root handler already writes every line once
    app.before_request(_start)
    app.after_request(_finish)


__all__ = ["JsonFormatter", "configure_logging", "register", "REQUEST_ID"]
