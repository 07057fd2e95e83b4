"""The hub's error hierarchy.

Every error carries a stable `code`, a Vietnamese and an English message and the context (file, row, field)
that lets a steward find the problem. Each class also carries what it means at the edges, as Click's
exceptions carry theirs: `http_status` (the sharing API, the web pages, the CKAN API's status class) and
`exit_code` (the `hub` command; README lists them). The library raises; each interface turns errors into its
answer in one place, from these attributes (hub/cli/__init__.py, hub/api/errors.py, hub/ckan/errors.py,
hub/web/blueprint.py `error_page`). This module imports nothing else of ours so every stage can use it.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of all errors the hub reports to people."""

    code = "hub-error"
    http_status = 400
    exit_code = 1

    def __init__(self, vi: str, en: str, *, code: str | None = None, **context: Any) -> None:
        self.vi = vi
        self.en = en
        if code:
            self.code = code
        self.context = {k: v for k, v in context.items() if v is not None}
        super().__init__(self.message("en"))

    def where(self) -> str:
        """'file x.csv, sheet S, row 12, field name' from the context, for one-line messages."""
        parts = []
        for key in ("file", "sheet", "row", "column", "field"):
            if key in self.context:
                parts.append(f"{key} {self.context[key]}")
        return ", ".join(parts)

    def message(self, lang: str = "vi") -> str:
        text = self.vi if lang == "vi" else self.en
        where = self.where()
        return f"{text} ({where})" if where else text

    def bilingual(self) -> str:
        """Vietnamese first, then English, as the CLI prints it."""
        return f"{self.message('vi')} / {self.message('en')}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": {"vi": self.vi, "en": self.en}, "context": self.context}


class ConfigError(HubError):
    code = "config-error"
    http_status = 400
    exit_code = 3


class CatalogError(HubError):
    """A mistake in catalog.yaml or a schema file."""

    code = "catalog-error"
    http_status = 400
    exit_code = 3


class InputError(HubError):
    """A source file that cannot be read as a table."""

    code = "input-error"
    http_status = 400
    exit_code = 5


class EncodingError(InputError):
    code = "encoding-error"


class HeaderError(InputError):
    code = "header-error"


class ValidationFailed(HubError):
    """A load refused because its data failed the dataset's rules (the report says why)."""

    code = "validation-failed"
    http_status = 422
    exit_code = 6

    def __init__(self, vi: str, en: str, *, report: Any = None, **context: Any) -> None:
        super().__init__(vi, en, **context)
        self.report = report


class ShrinkRefused(HubError):
    """A load refused because it would remove more of the published records than the dataset allows
    (`shrink_limit`); the context names the counts and the first keys it would remove."""

    code = "shrink-refused"
    http_status = 422
    exit_code = 10


class NotFound(HubError):
    code = "not-found"
    http_status = 404
    exit_code = 8


class DatasetNotFound(NotFound):
    code = "dataset-not-found"


class AccessDenied(HubError):
    code = "access-denied"
    http_status = 403
    exit_code = 1


class Unauthenticated(HubError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 1
    client: str | None = None  # a revoked or expired key's owner, for the audit log only


class LoadConflict(HubError):
    """Another load of the same dataset is running."""

    code = "load-conflict"
    http_status = 409
    exit_code = 7


class StoreError(HubError):
    """The database cannot be reached or is not in the shape we expect."""

    code = "store-error"
    http_status = 503
    exit_code = 4


class IntegrityBroken(HubError):
    """Stored history was edited behind the hub's back: the audit log's hash chain or its guards are broken."""

    code = "integrity-broken"
    http_status = 500
    exit_code = 9


class StorageError(StoreError):
    """The disk is full or read-only (files or the database): nothing half-written is left behind."""

    code = "storage-error"
    http_status = 507
