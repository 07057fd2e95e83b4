"""What every request goes through: authentication up front, rate limits, body size limits, then on the way out
conditional responses (ETag / 304), the audit log, gzip and security headers.

One `after_request` does the outgoing steps in a fixed order (304 first, so the audit records the status the
caller got; the audit before gzip, so a refused audit write never sends data; headers last). Rate limits are
keyed per client (per IP for anonymous callers and refused keys), on every route but static
files and the probes (sharing API, CKAN API, web pages, downloads, DCAT, sign-in), counted per client and
route (hub/ratelimit.py: a sliding window counter, in memory for the embedded hub, each gunicorn worker on its
own, and in Redis, one round trip, when HUB_REDIS_URL is set).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import math
import uuid
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.errors import HubError, StoreError, Unauthenticated
from core.text import control_characters
from hub.api.errors import error_response
from hub.auth import bearer_token, current_viewer, key_prefix
from hub.headers import add_missing, add_vary, present
from hub.ratelimit import Decision, RateLimiter
from publish import audit
from publish.audit_query import personal_names, redact_query
from publish.context import Hub

__all__ = ["register", "SMALL_BODY_LIMIT", "audit_entry", "unaudited", "would_change"]

log = logging.getLogger("hub.security")

SMALL_BODY_LIMIT = 1024 * 1024  # bodies that are not file uploads (JSON, forms): 1 MB is plenty
MAX_QUERY_STRING = 8 * 1024
COMPRESSIBLE = ("application/json", "application/geo+json", "application/ld+json", "application/xml",
                "application/javascript", "image/svg+xml", "text/")
JSON_TYPES = ("application/json", "application/geo+json", "application/ld+json")
MIN_GZIP_BYTES = 1024


# -- incoming --------------------------------------------------------------------------------------------------

def _authenticate() -> Response | None:
    """A presented key is checked before anything else on the sharing API: a bad key is 401 even for open data.

    Elsewhere (CKAN API, web site) the parts' own views call current_viewer() and answer in their own shape."""
    if request.path.startswith("/api/v1"):
        try:
            current_viewer()
        except Unauthenticated as exc:
            return error_response(exc)
    return None


def _limit_body() -> Response | None:
    """File uploads may be as large as HUB_MAX_UPLOAD_MB; any other body (JSON, forms) 1 MB."""
    environ = request.environ  # (read as WSGI gives them: request.mimetype parses, and most requests have none)
    ctype: str = environ.get("CONTENT_TYPE") or ""
    uploads = ctype.partition(";")[0].strip().lower() in ("multipart/form-data", "application/octet-stream")
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) if uploads else SMALL_BODY_LIMIT
    if limit:
        request.max_content_length = limit  # also enforced while a body sent without Content-Length is read
        if environ.get("CONTENT_LENGTH") and request.content_length is not None and request.content_length > limit:
            return _too_large(limit)
    query = environ.get("QUERY_STRING", "")  # (latin-1 text of the bytes, as WSGI gives it)
    if len(query) > MAX_QUERY_STRING:
        return _error(414, "uri-too-long", "Địa chỉ yêu cầu quá dài", "The request URI is too long")
    if control_characters(request.path) or (query and control_characters(unquote(query))):
        # NUL and other control characters name nothing we serve, and NUL cannot even be audited on PostgreSQL
        return _error(400, "control-characters", "Địa chỉ yêu cầu chứa ký tự điều khiển (NUL...)",
                      "The request URI holds control characters (NUL...)")
    return None


class RequestTooLarge(HubError):
    code = "too-large"
    http_status = 413


class RateLimited(HubError):
    code = "rate-limited"
    http_status = 429


def _error(status: int, code: str, vi: str, en: str) -> Response:
    """The API's error shape for a status werkzeug raised (405, 414...), which no HubError class carries."""
    response = jsonify(HubError(vi, en, code=code).to_dict())
    response.status_code = status
    return response


def _too_large(limit: int) -> Response:
    mb = math.ceil(limit / 1024 / 1024)
    return error_response(RequestTooLarge(f"Nội dung gửi lên quá lớn (tối đa {mb} MB)",
                                          f"The request body is too large (at most {mb} MB)", limit_bytes=limit))


# -- rate limits -----------------------------------------------------------------------------------------------

def _client_key() -> str:
    try:
        viewer = current_viewer()
    except HubError:
        viewer = None
    if viewer is not None and viewer.authenticated:
        return f"client:{viewer.name}"
    return f"ip:{request.remote_addr}"


def _rate_limited(decision: Decision) -> Response:
    retry = decision.retry_after
    response = error_response(RateLimited(f"Quá nhiều yêu cầu; hãy thử lại sau {retry} giây",
                                          f"Too many requests; try again in {retry} seconds",
                                          limit=f"{decision.limit} per 1 minute", retry_after=retry))
    response.headers["Retry-After"] = str(retry)
    return response


UNLIMITED = ("/static/", "/healthz", "/readyz", "/metrics", "/steward/report.css")


def _exempt() -> bool:
    """Only static files and the operator's probes go unlimited: the sharing and CKAN APIs, web pages,
    downloads, DCAT and the sign-in all count. (A URL that names no route is a 404 that reads nothing.)"""
    endpoint = request.endpoint
    return not endpoint or endpoint.rpartition(".")[2] == "static" or request.path.startswith(UNLIMITED)


def _limit_rate(limiter: RateLimiter) -> Response | None:
    """Count this request against its client's limit on its route; over the limit, 429 with Retry-After."""
    if _exempt():
        return None
    # (a request run again the ordinary way, hub/optimistic.py, was counted once already)
    decision = g.get("rate_limit")
    if decision is None:
        decision = g.rate_limit = limiter.acquire(f"{_client_key()}/{request.endpoint}")
    return None if decision.allowed else _rate_limited(decision)


def _rate_headers(response: Response) -> None:
    decision: Decision | None = g.get("rate_limit")
    if decision is not None:  # (add, as extend would, without its look at what kind of collection it was given)
        h = response.headers
        h.add("X-RateLimit-Limit", str(decision.limit))
        h.add("X-RateLimit-Remaining", str(decision.remaining))
        h.add("X-RateLimit-Reset", str(decision.reset_at))


# -- outgoing --------------------------------------------------------------------------------------------------

def would_change(response: Response) -> bool:
    """Whether `_conditional` would give `response` an ETag (and perhaps make it a 304)."""
    return not (request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed
                or response.mimetype not in JSON_TYPES or bool(present(response.headers).get("etag")))


def _conditional(response: Response) -> Response:
    """A weak ETag on JSON answers; a matching If-None-Match gets 304 with no body."""
    if not would_change(response):
        return response
    response.set_etag(hashlib.blake2b(response.get_data(), digest_size=16).hexdigest(), weak=True)
    if request.if_none_match:
        response.make_conditional(request)
    return response


def audit_entry(hub: Hub, response: Response) -> dict[str, Any] | None:
    """The audit entry of this request and `response`, or None when it needs none: every request that presented a
    key and every answer about a non-open dataset has one."""
    token = bearer_token()
    dataset_id = g.get("audit_dataset") or (request.view_args or {}).get("dataset_id")
    dataset = hub.catalog.datasets.get(dataset_id) if dataset_id else None
    session_client = g.get("audit_client")  # a signed-in steward (workspace session): every request counts
    if not token and not session_client and not g.get("audit_always") and (dataset is None or dataset.is_open):
        return None
    viewer = g.get("viewer")
    if viewer is None and token and "refused_client" not in g:  # not looked up yet (a route that never asked)
        try:
            viewer = current_viewer()
        except HubError:
            viewer = None
    detail, client = g.get("audit_detail"), (viewer.name if viewer is not None else None) or session_client
    if token and (viewer is None or not viewer.authenticated):
        detail, client = {"refused_key": key_prefix(token)}, g.get("refused_client")
    entry = {
        "request_id": g.get("request_id") or request.headers.get("X-Request-ID") or uuid.uuid4().hex,
        "client": client,
        "ip": request.remote_addr,
        "method": request.method,
        "path": request.path[:2000],
        "dataset": dataset.id if dataset is not None else None,
        "query": redact_query(request.query_string.decode("latin-1"), hub.settings.audit_secret,
                              personal_names(hub.catalog), dataset),
        "status": response.status_code,
        "rows": g.get("audit_rows"),
        "personal": g.get("audit_personal"),
        "detail": detail,
    }
    return entry


def _audit(hub: Hub, response: Response) -> Response:
    """One chained entry for every request that presented a key and every answer about a non-open dataset."""
    if g.get("audited"):  # written on condition before the hooks ran (hub/optimistic.py)
        return response
    entry = audit_entry(hub, response)
    if entry is None:
        return response
    counter = g.get("audit_counter")  # set by audit.counted() for streamed answers
    if response.is_streamed and counter is not None:
        # the rows are known once the answer has been sent; the entry is written then
        store = hub.store

        def write_when_sent() -> None:
            try:
                audit.append(store, **{**entry, "rows": counter.n})
            except Exception:  # noqa: BLE001 - nothing left to refuse; make it loud instead
                log.exception("audit entry of a streamed answer could not be written: %s", entry)

        response.call_on_close(write_when_sent)
        return response
    try:
        audit.append(hub.store, **entry)
    except Exception:  # noqa: BLE001 - an answer that cannot be audited is not sent
        log.exception("audit entry could not be written: %s", entry)
        return unaudited()
    return response


def unaudited() -> Response:
    """The answer sent instead of one whose audit entry could not be written."""
    return error_response(StoreError("Không ghi được nhật ký kiểm toán; yêu cầu bị từ chối",
                                     "The audit log could not be written; the request was refused"))


def _compress(response: Response) -> Response:
    # only whole 200 answers: a 206 range or a 304 must stay as they are; an answer from the answer cache
    # (hub/api/answers.py) comes encoded as the caller accepts, with its Vary
    if response.status_code != 200 or request.method == "HEAD":
        return response
    have = present(response.headers)
    if "content-encoding" in have or not have.get("content-type", "").startswith(COMPRESSIBLE):
        return response
    add_vary(response.headers, "Accept-Encoding")
    if not request.environ.get("HTTP_ACCEPT_ENCODING") or request.accept_encodings.quality("gzip") <= 0:
        return response  # (no header: nothing accepted but identity, known without parsing one)
    if response.is_streamed:
        response.response = _gzip_stream(response.response)
        response.direct_passthrough = False  # a file sent as is (send_file) is now our generator
        response.headers.pop("Content-Length", None)
    else:
        data = response.get_data()
        if len(data) < MIN_GZIP_BYTES:
            return response
        response.set_data(gzip.compress(data, compresslevel=5, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def _gzip_stream(chunks: Iterable[bytes | str]) -> Iterator[bytes]:
    packer = zlib.compressobj(5, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    try:
        for chunk in chunks:
            out = packer.compress(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            if out:
                yield out
        yield packer.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "strict-origin-when-cross-origin"), ("Cross-Origin-Opener-Policy", "same-origin"))
PAGE_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"  # pages: their own scripts and styles
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def _headers(response: Response) -> Response:
    h = response.headers
    have = present(h)
    add_missing(h, SECURITY_HEADERS, have)
    html = have.get("content-type", "").startswith("text/html")
    add_missing(h, [("Content-Security-Policy", PAGE_CSP if html else DATA_CSP)], have)
    if request.environ.get("wsgi.url_scheme") in ("https", "wss"):  # request.is_secure
        add_missing(h, [("Strict-Transport-Security", HSTS)], have)
    if g.get("audit_personal"):
        h["Cache-Control"] = have["cache-control"] = "no-store"  # personal data: no cache may keep a copy
    if request.path.startswith("/api/"):
        add_vary(h, "Authorization")
        if "cache-control" not in have and response.status_code in (200, 304):
            viewer = g.get("viewer")
            # (known absent: added, as setting it would, without a search)
            h.add("Cache-Control", "private, no-cache" if viewer is not None and viewer.authenticated else "no-cache")
    if response.status_code == 401:
        add_missing(h, [("WWW-Authenticate", 'Bearer realm="hub"')], have)
    return response


HTTP_MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    404: ("Không tìm thấy", "Not found"),
    405: ("Phương thức không được phép với địa chỉ này", "Method not allowed for this URL"),
    406: ("Không có định dạng trả về phù hợp", "No acceptable representation"),
    413: ("Nội dung gửi lên quá lớn", "The request body is too large"),
    415: ("Kiểu nội dung gửi lên không được hỗ trợ", "Unsupported media type"),
}


def _http_errors(app: Flask) -> None:
    """HTTP errors raised before or around the views (rate limits, unknown URLs, wrong methods, big bodies)
    answer with our error body on the sharing API too. flask-restx routes errors of its own URLs to its
    handler, so this wraps the router it installed."""
    routed = app.handle_user_exception

    def handle(exc: Exception) -> Any:
        if isinstance(exc, RequestEntityTooLarge):
            return _too_large(request.max_content_length or SMALL_BODY_LIMIT)
        if isinstance(exc, HTTPException) and exc.code in HTTP_MESSAGES and request.path.startswith("/api/v1"):
            vi, en = HTTP_MESSAGES[exc.code]
            response = _error(exc.code, f"http-{exc.code}", vi, en)
            allowed = getattr(exc, "valid_methods", None)  # MethodNotAllowed's
            if exc.code == 405 and allowed:
                response.headers["Allow"] = ", ".join(allowed)
            return response
        return routed(exc)

    app.handle_user_exception = handle  # type: ignore[method-assign, assignment]  # this app's own, around Flask's


def _document(app: Flask) -> None:
    """Every sharing-API operation may answer 400 (control characters in the URI), 401 (a bad key) and 429
    (over the rate limit): the OpenAPI document says so for each, including operations other modules add (the spec is built on first request)."""
    from flask_restx import Resource

    from hub.api.errors import RESPONSES

    for endpoint, view in app.view_functions.items():
        cls = getattr(view, "view_class", None)
        if not endpoint.startswith("api.") or not (isinstance(cls, type) and issubclass(cls, Resource)):
            continue
        doc = cls.__dict__.get("__apidoc__", {})
        if doc is False:
            continue
        responses = dict(doc.get("responses") or {})
        for code in (400, 401, 429):
            if code not in responses and str(code) not in responses:
                responses[code] = RESPONSES[code]
        cls.__apidoc__ = {**doc, "responses": responses}  # type: ignore[attr-defined]  # where flask-restx keeps a Resource's docs


def register(app: Flask) -> None:
    hub: Hub = app.extensions["hub"]

    @app.after_request  # registered before the others but request logging's: Flask runs them in reverse
    def outgoing(response: Response) -> Response:
        _rate_headers(response)
        response = _conditional(response)
        response = _audit(hub, response)
        response = _compress(response)
        return _headers(response)

    # order: the limiter (a refused key is counted against its IP, not the client it names), body limits, keys
    limiter = app.extensions["hub_limiter"] = RateLimiter(hub.settings.rate_limit, 60, hub.settings.redis_url)
    app.before_request(functools.partial(_limit_rate, limiter))
    app.before_request(_limit_body)
    app.before_request(_authenticate)
    _http_errors(app)
    _document(app)
