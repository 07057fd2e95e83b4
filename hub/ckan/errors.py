"""CKAN's error kinds, as HubErrors that know their CKAN `__type` and HTTP status (`http_status`).

CKAN clients read the error from the body, not the status: ckanapi raises from `error.__type`, which must be
exactly CKAN's string ("Not Found Error", "Validation Error", ...), and strips the message up to its first
": ". So messages keep CKAN's English prefix ("Not found: ...") and then say it in Vietnamese and English.
Field messages in a Validation Error are CKAN's own English sentences (clients compare them, e.g. "That URL
is already in use."); the bilingual explanation travels in the error's "message".
See ckan/views/api.py (`action`) for the shapes and statuses copied here.
"""

from __future__ import annotations

from typing import Any

from core import errors

__all__ = ["CkanError", "NotFoundError", "AuthorizationError", "ValidationError", "SearchQueryError",
           "SearchError", "ckan_error_for"]


class CkanError(errors.HubError):
    code = "ckan-error"
    ckan_type = "Internal Server Error"
    http_status = 500
    prefix = ""

    def ckan_error(self) -> dict[str, Any]:
        return {"__type": self.ckan_type, "message": f"{self.prefix}{self.bilingual()}"}


class NotFoundError(CkanError, errors.NotFound):
    code = "not-found"
    ckan_type = "Not Found Error"
    http_status = 404
    prefix = "Not found: "


class AuthorizationError(CkanError, errors.AccessDenied):
    code = "access-denied"
    ckan_type = "Authorization Error"
    http_status = 403
    prefix = "Access denied: "


class ValidationError(CkanError):
    """Field errors as CKAN gives them: {field: [English sentence, ...]}."""

    code = "ckan-validation"
    ckan_type = "Validation Error"
    http_status = 409

    def __init__(self, field_errors: dict[str, list[str]], vi: str | None = None, en: str | None = None) -> None:
        self.field_errors = field_errors
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in field_errors.items())
        super().__init__(vi or f"Dữ liệu gửi lên không hợp lệ ({summary})", en or f"Invalid data ({summary})")

    def ckan_error(self) -> dict[str, Any]:
        return {**self.field_errors, "message": self.bilingual(), "__type": self.ckan_type}


class SearchQueryError(CkanError):
    code = "ckan-search-query"
    ckan_type = "Search Query Error"
    http_status = 400
    prefix = "Search Query is invalid: "


class SearchError(CkanError):
    code = "ckan-search"
    ckan_type = "Search Error"
    http_status = 409
    prefix = "Search error: "


def invalid(field: str, message: str, vi: str) -> ValidationError:
    """One field's error: CKAN's English sentence and our Vietnamese for the summary."""
    return ValidationError({field: [message]}, f"{vi} (trường {field})", f"{message} (field {field})")


def ckan_error_for(exc: errors.HubError) -> tuple[dict[str, Any], int]:
    """(error dict, HTTP status) for any error the library raised while serving a CKAN action: the one place
    this interface maps errors. CKAN's own kinds know their `__type`; any other error is read from the HTTP
    status its class carries: 401 and 403 are CKAN's Authorization Error (a bad, expired or revoked key is
    refused, never treated as anonymous: hub/auth.py), 404 its Not Found Error, anything else a Validation
    Error (409) naming the field."""
    if isinstance(exc, CkanError):
        return exc.ckan_error(), exc.http_status
    if exc.http_status in (401, 403):
        return {"__type": AuthorizationError.ckan_type, "message": f"{AuthorizationError.prefix}{exc.bilingual()}"}, \
            exc.http_status
    if exc.http_status == 404:
        return {"__type": NotFoundError.ckan_type, "message": f"{NotFoundError.prefix}{exc.bilingual()}"}, 404
    field = str(exc.context.get("field") or "message")
    return {field: [exc.message("en")], "message": exc.bilingual(), "__type": ValidationError.ckan_type}, \
        ValidationError.http_status
