"""Deployment files filled in for one installation: the nginx site (deploy/nginx/hub.conf, a Jinja template).

The template lives in deploy/ beside the other deployment examples; this module supplies the values that
differ per installation (where the hub's static files and the Leaflet package are, the storage folder, the
gunicorn address, the upload limit) so operators and the tests render the very same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.config import PROJECT_ROOT, Settings
from core.errors import ConfigError

DEPLOY_DIR = PROJECT_ROOT / "deploy"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


def nginx_values(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """The template's values for `settings`; keyword arguments replace any of them."""
    upstream = settings.bind
    if upstream.startswith(("0.0.0.0:", "[::]:")):  # gunicorn listens everywhere; nginx asks locally
        upstream = "127.0.0.1:" + upstream.rpartition(":")[2]
    storage = Path(settings.storage_dir).resolve()
    static_dir = Path(overrides.pop("static_dir", STATIC_DIR))
    if static_dir.name != "static":
        raise ConfigError("Thư mục tệp tĩnh phải tên là «static»", "The static folder must be named «static»",
                          file=str(static_dir))
    values: dict[str, Any] = {
        "server_name": urlsplit(settings.base_url).hostname or "_",
        "listen": "443",
        "listen_http": "80",
        "tls": True,
        "certificate": "/etc/hub/tls/fullchain.pem",
        "certificate_key": "/etc/hub/tls/privkey.pem",
        "upstream": upstream,
        "static_root": str(static_dir.resolve().parent),
        "leaflet_dir": str(leaflet_dir()),
        "exports_dir": str(storage / "exports" / "public"),
        "max_body_mb": settings.max_upload_mb + 1,
        "log_dir": "/var/log/nginx",
        "metrics_allow": [],
    }
    values.update(overrides)
    return values


def nginx_site(settings: Settings, template: Path | None = None, **overrides: Any) -> str:
    """deploy/nginx/hub.conf rendered for `settings` (a server block for /etc/nginx/sites-available/)."""
    template = template or DEPLOY_DIR / "nginx" / "hub.conf"
    if not template.is_file():
        raise ConfigError(f"Không tìm thấy mẫu cấu hình nginx {template}", f"nginx template not found: {template}",
                          file=str(template))
    env = Environment(loader=FileSystemLoader(str(template.parent)), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template(template.name).render(**nginx_values(settings, **overrides))
