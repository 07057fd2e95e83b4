"""One settings object, read from the environment (prefix ``HUB_``) and passed to the app factory.

Tests build ``Settings(...)`` directly; gunicorn, the worker and the CLI call ``Settings.from_env()``.
Every setting has a default that runs the embedded hub (SQLite + SpatiaLite in the working folder).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-change-me"

# name -> help text; README and `hub check-config` list these (a test keeps them in step).
SETTINGS_HELP: dict[str, str] = {
    "database_url": "SQLAlchemy URL of the store: sqlite:///hub.db (embedded) or postgresql+psycopg://...",
    "replica_url": "optional read-only replica for API and web reads (PostgreSQL)",
    "redis_url": "optional Redis for rate limits, caching and background jobs, e.g. redis://127.0.0.1:6379/0",
    "secret_key": "secret for signing sessions; must be set in production (at least 32 characters)",
    "audit_key": "key of the audit log's HMAC chain and of hashed personal values in audited queries, kept outside "
                 "the database (default: derived from HUB_SECRET_KEY)",
    "storage_dir": "folder for uploads, reports, exports and backups",
    "catalog_path": "the catalogue file (datasets, publishers, licences)",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "base_url": "public base URL used in links, DCAT and CKAN output",
    "language": "default language of the web site and messages: vi or en",
    "max_upload_mb": "largest accepted upload, in megabytes",
    "max_page_size": "largest page of records the API returns",
    "rate_limit": "requests per minute per client on the API",
    "answer_cache_mb": "memory each web worker keeps for encoded API answers of committed versions, in megabytes "
                       "(0: none kept in the worker; with HUB_REDIS_URL they are still shared through Redis)",
    "bind": "address the web service listens on: host:port, or unix:/run/hub/web.sock",
    "workers": "web worker processes (gunicorn); about 2 per CPU core",
    "threads": "threads per web worker process (gunicorn gthread)",
    "job_timeout": "longest a background job (ingest, export, CKAN push, a steward's check or publish) may run, in seconds",
    "proxies": "reverse proxies in front of the hub (nginx: 1) whose X-Forwarded-* headers are trusted",
    "log_format": "json (one JSON object per line, for journald and log shippers) or text",
    "report_endpoint": "URL of the reporting system that receives produced periodic reports (JSON POST); unset: no push",
    "report_token": "bearer token for the reporting system (secret)",
    "schedule_seconds": "how often `hub worker` checks for due scheduled work (reports), in seconds",
    "lock_timeout": "seconds a load waits for another writer of its dataset (or SQLite's write lock) before it "
                    "gives up with exit status 7 / HTTP 409",
    "shrink_limit": "largest share (0-1) of a dataset's current records one load may remove without "
                    "--allow-shrink; a dataset's shrink_limit in catalog.yaml wins",
    "heartbeat_seconds": "how often a running load, job or harvest writes its heartbeat (renews its lease), in seconds",
    "lease_seconds": "a load, job or harvest elsewhere (another host or PID namespace) whose heartbeat is older "
                     "than this is taken for dead and marked failed, in seconds",
    "smtp_host": "SMTP server for e-mail notices (harvest failures); unset: no e-mail",
    "smtp_port": "SMTP server port (25; 587 with starttls, 465 with ssl)",
    "smtp_from": "sender address of the hub's e-mail notices",
    "smtp_user": "SMTP user name, when the server wants a login",
    "smtp_password": "SMTP password (secret; from the environment only)",
    "smtp_tls": "none, starttls (upgrade the connection) or ssl (TLS from the start)",
}
SMTP_TLS = ("none", "starttls", "ssl")

DEFAULT_SHRINK_LIMIT = 0.25
DEFAULT_LOCK_TIMEOUT = 60


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///hub.db"
    replica_url: str | None = None
    redis_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    audit_key: str = ""
    storage_dir: Path = Path("storage")
    catalog_path: Path = PROJECT_ROOT / "catalog.yaml"
    log_level: str = "INFO"
    base_url: str = "http://127.0.0.1:8080"
    language: str = "vi"
    max_upload_mb: int = 200
    max_page_size: int = 1000
    rate_limit: int = 600
    answer_cache_mb: int = 64
    bind: str = "127.0.0.1:8080"
    workers: int = 2
    threads: int = 4
    job_timeout: int = 3600
    proxies: int = 0
    log_format: str = "json"
    report_endpoint: str | None = None
    report_token: str | None = None
    schedule_seconds: int = 60
    shrink_limit: float = DEFAULT_SHRINK_LIMIT
    lock_timeout: int = DEFAULT_LOCK_TIMEOUT
    heartbeat_seconds: float = 10.0
    lease_seconds: float = 120.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "hub@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"
    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, prefix: str = "HUB_", environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; a ConfigError naming every mistake when they cannot run."""
        reading = read_env(prefix, environ)
        if reading.problems:
            raise ConfigError(
                "Cấu hình sai: " + "; ".join(p[0] for p in reading.problems),
                "Configuration error: " + "; ".join(p[1] for p in reading.problems),
            )
        return reading.settings

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

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
        if self.lock_timeout < 1:
            out.append((f"HUB_LOCK_TIMEOUT phải lớn hơn 0 (đang là {self.lock_timeout!r})",
                        f"HUB_LOCK_TIMEOUT must be greater than 0 (got {self.lock_timeout!r})"))
        if not 0 <= self.shrink_limit <= 1:
            out.append((f"HUB_SHRINK_LIMIT phải từ 0 đến 1 (đang là {self.shrink_limit!r})",
                        f"HUB_SHRINK_LIMIT must be between 0 and 1 (got {self.shrink_limit!r})"))
        if not 0 < self.heartbeat_seconds * 3 <= self.lease_seconds:
            # a lease shorter than a few heartbeats would take a live process's load for dead
            out.append((f"HUB_LEASE_SECONDS ({self.lease_seconds:g}) phải lớn hơn 0 và ít nhất gấp 3 lần "
                        f"HUB_HEARTBEAT_SECONDS ({self.heartbeat_seconds:g})",
                        f"HUB_LEASE_SECONDS ({self.lease_seconds:g}) must be positive and at least 3 times "
                        f"HUB_HEARTBEAT_SECONDS ({self.heartbeat_seconds:g})"))
        out.extend(self._smtp_problems())
        if self.answer_cache_mb < 0:
            out.append((f"HUB_ANSWER_CACHE_MB không được âm (đang là {self.answer_cache_mb!r})",
                        f"HUB_ANSWER_CACHE_MB must not be negative (got {self.answer_cache_mb!r})"))
        if self.max_page_size < 1 or self.max_upload_mb < 1 or self.rate_limit < 1:
            out.append(("HUB_MAX_PAGE_SIZE, HUB_MAX_UPLOAD_MB và HUB_RATE_LIMIT phải lớn hơn 0",
                        "HUB_MAX_PAGE_SIZE, HUB_MAX_UPLOAD_MB and HUB_RATE_LIMIT must be greater than 0"))
        if not Path(self.catalog_path).is_file():
            out.append((f"Không tìm thấy tệp danh mục {self.catalog_path}", f"Catalogue file not found: {self.catalog_path}"))
        out.extend(self._serving_problems())
        return out

    def _smtp_problems(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.smtp_tls not in SMTP_TLS:
            out.append((f"HUB_SMTP_TLS phải là none, starttls hoặc ssl (đang là {self.smtp_tls!r})",
                        f"HUB_SMTP_TLS must be none, starttls or ssl (got {self.smtp_tls!r})"))
        if not 0 < self.smtp_port < 65536:
            out.append((f"HUB_SMTP_PORT không hợp lệ: {self.smtp_port!r}", f"HUB_SMTP_PORT is not valid: {self.smtp_port!r}"))
        if bool(self.smtp_user) != bool(self.smtp_password):
            out.append(("HUB_SMTP_USER và HUB_SMTP_PASSWORD phải được đặt cùng nhau",
                        "HUB_SMTP_USER and HUB_SMTP_PASSWORD must be set together"))
        if "@" not in self.smtp_from:
            out.append((f"HUB_SMTP_FROM không phải địa chỉ e-mail: {self.smtp_from!r}",
                        f"HUB_SMTP_FROM is not an e-mail address: {self.smtp_from!r}"))
        return out

    def _serving_problems(self) -> list[tuple[str, str]]:
        """Mistakes that matter once the hub is served to others (production)."""
        out: list[tuple[str, str]] = []
        if not self.base_url.startswith(("http://", "https://")):
            out.append((f"HUB_BASE_URL phải bắt đầu bằng http:// hoặc https:// (đang là {self.base_url!r})",
                        f"HUB_BASE_URL must start with http:// or https:// (got {self.base_url!r})"))
        elif self.secret_key == DEFAULT_SECRET_KEY and not is_local_url(self.base_url):
            # A public hub signing sessions with a key everyone can read in our source is open to forgery.
            out.append(("HUB_SECRET_KEY vẫn là giá trị mặc định trong khi HUB_BASE_URL là địa chỉ công khai; "
                        "hãy đặt một khoá bí mật ngẫu nhiên (python3 -c 'import secrets; print(secrets.token_hex(32))')",
                        "HUB_SECRET_KEY is still the default while HUB_BASE_URL is public; set a random secret "
                        "(python3 -c 'import secrets; print(secrets.token_hex(32))')"))
        if self.workers < 1 or self.threads < 1 or self.job_timeout < 1 or self.proxies < 0:
            out.append(("HUB_WORKERS, HUB_THREADS và HUB_JOB_TIMEOUT phải lớn hơn 0, HUB_PROXIES không được âm",
                        "HUB_WORKERS, HUB_THREADS and HUB_JOB_TIMEOUT must be greater than 0, HUB_PROXIES not negative"))
        if self.report_endpoint and not self.report_endpoint.startswith(("http://", "https://")):
            out.append((f"HUB_REPORT_ENDPOINT phải bắt đầu bằng http:// hoặc https:// (đang là {self.report_endpoint!r})",
                        f"HUB_REPORT_ENDPOINT must start with http:// or https:// (got {self.report_endpoint!r})"))
        if self.schedule_seconds < 1:
            out.append(("HUB_SCHEDULE_SECONDS phải lớn hơn 0", "HUB_SCHEDULE_SECONDS must be greater than 0"))
        if self.log_format not in ("json", "text"):
            out.append((f"HUB_LOG_FORMAT phải là json hoặc text (đang là {self.log_format!r})",
                        f"HUB_LOG_FORMAT must be json or text (got {self.log_format!r})"))
        if not (self.bind.startswith("unix:") or self.bind.rpartition(":")[2].isdigit()):
            out.append((f"HUB_BIND phải là host:cổng hoặc unix:/đường/dẫn.sock (đang là {self.bind!r})",
                        f"HUB_BIND must be host:port or unix:/path.sock (got {self.bind!r})"))
        return out

    def secret_refusal(self, bind: str | None = None) -> tuple[str, str] | None:
        """Why the web service must not start with this secret, or None. The default secret (public in our
        source) or a short one lets anyone forge a steward's session cookie: refused unless the service listens
        on loopback only, for a local base URL and behind no proxy (a developer's or a test's hub)."""
        weak = self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < MIN_SECRET_LENGTH
        if not weak or (is_loopback_bind(bind or self.bind) and is_local_url(self.base_url) and not self.proxies):
            return None
        return ("HUB_SECRET_KEY là giá trị mặc định hoặc ngắn hơn "
                f"{MIN_SECRET_LENGTH} ký tự trong khi dịch vụ nghe ngoài máy này ({bind or self.bind}, "
                f"{self.base_url}); hãy đặt một khoá ngẫu nhiên (python3 -c 'import secrets; print(secrets.token_hex(32))')",
                f"HUB_SECRET_KEY is the default or shorter than {MIN_SECRET_LENGTH} characters while the service "
                f"is reachable beyond this machine ({bind or self.bind}, {self.base_url}); set a random secret "
                "(python3 -c 'import secrets; print(secrets.token_hex(32))')")

    @property
    def audit_secret(self) -> bytes:
        """The HMAC key of the audit chain and of personal values in audited queries (never stored in the
        database): HUB_AUDIT_KEY, else one derived from HUB_SECRET_KEY."""
        if self.audit_key:
            return self.audit_key.encode("utf-8")
        return hashlib.sha256(b"hub-audit-key\0" + self.secret_key.encode("utf-8")).digest()

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: the public URL is https, or a proxy (which terminates TLS) is in front."""
        return self.base_url.startswith("https://") or self.proxies > 0

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")


MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class EnvReading:
    """What the environment gave: the settings, where each value came from, and every mistake."""

    settings: Settings
    sources: dict[str, str]  # setting name -> "environment: HUB_X" or "default"
    problems: list[tuple[str, str]]


def read_env(prefix: str = "HUB_", environ: Mapping[str, str] | None = None) -> EnvReading:
    """Read every setting, collecting all mistakes instead of stopping at the first (for `hub check-config`)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}  # each converted to its field's type by _convert
    sources: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for f in fields(Settings):
        if f.name == "extra":
            continue
        variable = prefix + f.name.upper()
        raw = env.get(variable)
        if raw is None or raw == "":
            sources[f.name] = "default"
            continue
        sources[f.name] = f"environment: {variable}"
        try:
            values[f.name] = _convert(variable, raw, f.type)
        except ConfigError as exc:
            problems.append((exc.vi, exc.en))
    settings = Settings(**values)
    return EnvReading(settings, sources, problems + settings.problems())


def is_loopback_bind(bind: str) -> bool:
    """True when HUB_BIND (host:port) listens on this machine's loopback only. A unix socket is not: nginx
    in front of it serves the public."""
    if bind.startswith("unix:"):
        return False
    host = bind.rpartition(":")[0].strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine (a developer's or a test's hub, not a public one)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "127.0.0.1", "::1", "") or host.endswith(".localhost")


def _convert(variable: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    if "Path" in kind:
        return Path(raw)
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable} phải là số nguyên: {raw!r}",
                              f"{variable} must be an integer: {raw!r}") from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable} phải là số: {raw!r}", f"{variable} must be a number: {raw!r}") from None
    return raw
