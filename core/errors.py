"""The hub's error hierarchy.

Every error carries a stable `code`, a Vietnamese and an English message and the context (file, row, field)
that lets a steward find the problem. The library raises; only the CLI and the web layers turn errors into
exit codes, HTTP statuses and text. This module imports nothing else of ours so every stage can use it.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of all errors the hub reports to people."""

    code = "hub-error"

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


class CatalogError(HubError):
    """A mistake in catalog.yaml or a schema file."""

    code = "catalog-error"


class InputError(HubError):
    """A source file that cannot be read as a table."""

    code = "input-error"


class EncodingError(InputError):
    code = "encoding-error"


class HeaderError(InputError):
    code = "header-error"


class ValidationFailed(HubError):
    """A load refused because its data failed the dataset's rules (the report says why)."""

    code = "validation-failed"

    def __init__(self, vi: str, en: str, *, report: Any = None, **context: Any) -> None:
        super().__init__(vi, en, **context)
        self.report = report


class NotFound(HubError):
    code = "not-found"


class DatasetNotFound(NotFound):
    code = "dataset-not-found"


class AccessDenied(HubError):
    code = "access-denied"


class Unauthenticated(HubError):
    code = "unauthenticated"


class LoadConflict(HubError):
    """Another load of the same dataset is running."""

    code = "load-conflict"


class StoreError(HubError):
    """The database cannot be reached or is not in the shape we expect."""

    code = "store-error"
