"""One settings object, read from the environment (prefix ``HUB_``) and passed to the app factory.

Tests build ``Settings(...)`` directly; gunicorn, the worker and the CLI call ``Settings.from_env()``.
Every setting has a default that runs the embedded hub (SQLite + SpatiaLite in the working folder).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from hub.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> help text; README and `hub check-config` list these (a test keeps them in step).
SETTINGS_HELP: dict[str, str] = {
    "database_url": "SQLAlchemy URL of the store: sqlite:///hub.db (embedded) or postgresql+psycopg://...",
    "replica_url": "optional read-only replica for API and web reads (PostgreSQL)",
    "redis_url": "optional Redis for rate limits, caching and background jobs, e.g. redis://127.0.0.1:6379/0",
    "secret_key": "secret for signing sessions; must be set in production",
    "storage_dir": "folder for uploads, reports, exports and backups",
    "catalog_path": "the catalogue file (datasets, publishers, licences)",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "base_url": "public base URL used in links, DCAT and CKAN output",
    "language": "default language of the web site and messages: vi or en",
    "max_upload_mb": "largest accepted upload, in megabytes",
    "max_page_size": "largest page of records the API returns",
    "rate_limit": "requests per minute per client on the API",
}


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///hub.db"
    replica_url: str | None = None
    redis_url: str | None = None
    secret_key: str = "dev-only-change-me"
    storage_dir: Path = Path("storage")
    catalog_path: Path = PROJECT_ROOT / "catalog.yaml"
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:8080"
    language: str = "vi"
    max_upload_mb: int = 200
    max_page_size: int = 1000
    rate_limit: int = 600
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, prefix: str = "HUB_", environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(prefix + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, f.type)
        settings = cls(**values)  # type: ignore[arg-type]
        problems = settings.problems()
        if problems:
            raise ConfigError(
                "Cấu hình sai: " + "; ".join(p[0] for p in problems),
                "Configuration error: " + "; ".join(p[1] for p in problems),
            )
        return settings

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def problems(self) -> list[tuple[str, str]]:
        """Every mistake, one (vi, en) line each; empty when the settings can run."""
        out: list[tuple[str, str]] = []
        if not self.database_url.startswith(("sqlite:", "postgresql")):
            out.append(
                (f"HUB_DATABASE_URL phải là sqlite:/// hoặc postgresql+psycopg:// (đang là {self.database_url!r})",
                 f"HUB_DATABASE_URL must be sqlite:/// or postgresql+psycopg:// (got {self.database_url!r})")
            )
        if self.language not in ("vi", "en"):
            out.append((f"HUB_LANGUAGE phải là vi hoặc en (đang là {self.language!r})",
                        f"HUB_LANGUAGE must be vi or en (got {self.language!r})"))
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            out.append((f"HUB_LOG_LEVEL không hợp lệ: {self.log_level!r}", f"HUB_LOG_LEVEL is not valid: {self.log_level!r}"))
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            out.append((f"HUB_REDIS_URL không hợp lệ: {self.redis_url!r}", f"HUB_REDIS_URL is not valid: {self.redis_url!r}"))
        if self.max_page_size < 1 or self.max_upload_mb < 1 or self.rate_limit < 1:
            out.append(("HUB_MAX_PAGE_SIZE, HUB_MAX_UPLOAD_MB và HUB_RATE_LIMIT phải lớn hơn 0",
                        "HUB_MAX_PAGE_SIZE, HUB_MAX_UPLOAD_MB and HUB_RATE_LIMIT must be greater than 0"))
        if not Path(self.catalog_path).is_file():
            out.append((f"Không tìm thấy tệp danh mục {self.catalog_path}", f"Catalogue file not found: {self.catalog_path}"))
        return out

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    if "Path" in kind:
        return Path(raw)
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"HUB_{name.upper()} phải là số nguyên: {raw!r}",
                              f"HUB_{name.upper()} must be an integer: {raw!r}") from None
    return raw
