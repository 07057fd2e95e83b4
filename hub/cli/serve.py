"""`hub serve`: the web service (gunicorn, or Flask's server with --dev)."""

from __future__ import annotations

import click

from hub.cli.common import console


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8080, show_default=True, type=int)
    @click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
    @click.option("--dev", is_flag=True, help="Flask's development server with reload (never in production).")
    def serve(host: str, port: int, workers: int, dev: bool) -> None:
        """Serve the catalogue web site, the sharing API and the CKAN API on http://HOST:PORT."""
        from hub.app import create_app
        from hub.cli.common import open_hub

        hub = open_hub(init=True)
        app = create_app(hub.settings, hub=hub)
        console.print(f"Cổng dữ liệu đang chạy / hub serving on http://{host}:{port}")
        if dev:
            app.run(host=host, port=port, debug=True, use_reloader=False)
            return
        from gunicorn.app.base import BaseApplication

        class _Gunicorn(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", 4)
                self.cfg.set("timeout", 120)
                self.cfg.set("accesslog", None)

            def load(self):  # noqa: ANN202
                return app

        hub.store.dispose()  # each worker opens its own connections after the fork
        _Gunicorn().run()
