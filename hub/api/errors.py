"""One error shape for the API: {code, message: {vi, en}, context}, with the HTTP status from the class."""

from __future__ import annotations

from typing import Any

from hub import errors
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
