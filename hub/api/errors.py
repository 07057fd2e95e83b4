"""The sharing API's errors, in one place: the shape {code, message: {vi, en}, context} and the HTTP status
the error's class carries (core/errors.py `http_status`)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from core import errors


def error_body(exc: errors.HubError) -> dict[str, Any]:
    return exc.to_dict()


def handle_hub_error(exc: errors.HubError) -> tuple[dict[str, Any], int]:
    """Lỗi {code, message: {vi, en}, context} / an error {code, message: {vi, en}, context}"""
    return error_body(exc), exc.http_status


def error_response(exc: errors.HubError) -> Response:
    """The same answer outside a flask-restx view (hooks that refuse before or after one)."""
    body, status = handle_hub_error(exc)
    response = jsonify(body)
    response.status_code = status
    return response


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

