"""One error shape for the API: {code, message: {vi, en}, context}, with the HTTP status from the class."""

from __future__ import annotations

from typing import Any

from core import errors
from publish.query import QueryError

STATUS: list[tuple[type[errors.HubError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.AccessDenied, 403),
    (errors.NotFound, 404),
    (errors.LoadConflict, 409),
    (errors.ValidationFailed, 422),
    (QueryError, 400),
    (errors.InputError, 400),
    (errors.StoreError, 503),
    (errors.HubError, 400),
]


def status_for(exc: errors.HubError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: errors.HubError) -> dict[str, Any]:
    return exc.to_dict()


# What each error status means on this API, for the OpenAPI document (one wording everywhere).
RESPONSES = {
    400: "Tham số sai / bad parameter",
    401: "Khoá API sai, hết hạn hoặc đã thu hồi, hoặc cần khoá / bad, expired or revoked API key, or a key is needed",
    403: "Vai trò của khoá không được dùng chức năng này / the key's role may not use this",
    404: "Không có, hoặc người gọi không được biết / not found, or not for this caller to know",
    429: "Quá nhiều yêu cầu, xem Retry-After / too many requests, see Retry-After",
}


def responses(ns: Any, model: Any, *codes: int) -> Any:
    """A decorator documenting the error statuses `codes` of an endpoint, each with the error model."""
    def decorate(fn: Any) -> Any:
        for code in codes:
            fn = ns.response(code, RESPONSES[code], model)(fn)
        return fn
    return decorate


def document_handlers(api: Any) -> None:
    """The OpenAPI document lists API-wide error handlers as responses, and a response needs a description."""
    for handler in api.error_handlers.values():
        if not (getattr(handler, "__doc__", None) or "").strip():
            handler.__doc__ = "Lỗi {code, message: {vi, en}, context} / an error {code, message: {vi, en}, context}"
