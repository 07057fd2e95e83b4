"""The steward workspace (/steward): sign in with a steward key, upload a file, read its report, publish or
discard it, and look back at every load. See hub/steward/views.py."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from hub.steward.views import bp

__all__ = ["register"]


def register(app: Flask) -> None:
    # the workspace's signed session: not readable by scripts, not sent by other sites' forms, a working day long
    # (Flask's defaults are changed only where nobody set them)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=8)
    hub = app.extensions.get("hub")
    if hub is not None and hub.settings.secure_cookies:  # https public URL, or TLS ended by a proxy in front
        app.config["SESSION_COOKIE_SECURE"] = True
    app.register_blueprint(bp)
