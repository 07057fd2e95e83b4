"""`hub serve`: the web service (gunicorn, configured by deploy/gunicorn.conf.py; Flask's server with --dev)."""

from __future__ import annotations

from pathlib import Path

import click

from core.config import PROJECT_ROOT, Settings, read_env
from core.errors import ConfigError
from hub.cli.common import console

GUNICORN_CONF = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def _settings_or_exit():  # noqa: ANN202 - Settings
    """The settings, or one line per mistake and exit status 3 (before anything starts)."""
    reading = read_env()
    if reading.problems:
        for vi, en in reading.problems:
            click.echo(f"Lỗi cấu hình / configuration error: {vi} / {en}", err=True)
        raise click.exceptions.Exit(ConfigError.exit_code)  # each mistake is already its own line
    return reading.settings


@click.command()
@click.option("--host", default=None, help="Listen address (default: from HUB_BIND, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Listen port (default: from HUB_BIND, 8080).")
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: HUB_WORKERS).")
@click.option("--config", "config_file", default=str(GUNICORN_CONF), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="gunicorn configuration file.")
@click.option("--dev", is_flag=True, help="Flask's development server with reload (never in production).")
def serve(host: str | None, port: int | None, workers: int | None, config_file: Path, dev: bool) -> None:
    """Serve the catalogue web site, the sharing API and the CKAN API (gunicorn; see deploy/gunicorn.conf.py
    for the worker model)."""
    settings = _settings_or_exit()
    default_host, _, default_port = settings.bind.rpartition(":")
    refusal = settings.secret_refusal(f"{host or default_host or '127.0.0.1'}:{port or default_port or 8080}"
                                      if (host or port) else None)
    if refusal:  # before anything listens: a forged session cookie would open the workspace
        click.echo(f"Lỗi cấu hình / configuration error: {refusal[0]} / {refusal[1]}", err=True)
        raise click.exceptions.Exit(ConfigError.exit_code)
    if dev:
        from hub.app import create_app
        from hub.observability import configure_logging

        configure_logging(settings.replace(log_format="text"))
        app = create_app(settings)
        app.run(host=host or default_host or "127.0.0.1", port=port or int(default_port or 8080), debug=True,
                use_reloader=False)
        return
    bind = f"{host or default_host or '127.0.0.1'}:{port or default_port}" if (host or port) else None
    _gunicorn(config_file, settings, bind=bind, workers=workers)


def _gunicorn(config_file: Path, settings: Settings, *, bind: str | None, workers: int | None) -> None:
    from gunicorn.app.base import Application

    class HubGunicorn(Application):
        def init(self, parser: object, opts: object, args: object) -> None:
            return None

        def load_config(self) -> None:
            if config_file.is_file():
                self.load_config_from_file(str(config_file))
            else:  # an installation without deploy/: the same model, with gunicorn's values for the rest
                for key, value in (("bind", [settings.bind]), ("workers", settings.workers),
                                   ("threads", settings.threads), ("worker_class", "hub.gthread.ThreadWorker"),
                                   ("preload_app", True), ("timeout", 120)):
                    self.cfg.set(key, value)
            if bind:
                self.cfg.set("bind", [bind])
            if workers:
                self.cfg.set("workers", workers)

        def load(self):  # noqa: ANN202 - the WSGI app
            from hub.app import create_app

            return create_app()

    app = HubGunicorn()
    console.print(f"Cổng dữ liệu / hub: gunicorn on {', '.join(app.cfg.bind)} "
                  f"({app.cfg.workers} workers × {app.cfg.threads} threads)", highlight=False)
    app.run()
