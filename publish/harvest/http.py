"""`http` sources: another system's JSON or CSV endpoint (the one-stop licence system, a district's list).

A JSON source is read page by page (paging style page, offset, cursor or next-link), the rows found at a JSON
path, renamed by the field mapping and written to a CSV file for the normal pipeline. The first request is
conditional (If-None-Match / If-Modified-Since from the last successful harvest): a 304 costs one request.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import requests

from publish.harvest.base import Fetched, HarvestFailed, Previous, dig

MAX_PAGES = 10_000
UNAVAILABLE = "source-unavailable"  # down, too slow, 5xx, 429: worth trying again (`retries:`)
JSON_TYPES = ("application/json", "+json", "text/json")
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream", "application/vnd.ms-excel")


def auth_headers(spec: dict[str, Any]) -> dict[str, str]:
    """The auth header named in the declaration, its secret read from the environment (never the file)."""
    auth = spec.get("auth")
    if not auth:
        return {}
    secret = os.environ.get(auth["env"])
    if not secret:
        raise HarvestFailed(f"Chưa đặt biến môi trường {auth['env']} (bí mật xác thực của nguồn)",
                            f"The environment variable {auth['env']} (the source's credential) is not set")
    scheme = auth.get("scheme", "Bearer")
    return {auth.get("header", "Authorization"): f"{scheme} {secret}" if scheme else secret}


def conditional(previous: Previous) -> dict[str, str]:
    headers = {}
    if previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous.modified:
        headers["If-Modified-Since"] = previous.modified
    return headers


def get(session: requests.Session, url: str, *, headers: dict[str, str], timeout: float,
        params: dict[str, Any] | None = None, expect: tuple[str, ...] = (), dest: Path | None = None,
        ) -> requests.Response:
    """GET with every way a source can fail turned into a bilingual HarvestFailed. With `dest` the body is
    streamed there and checked against Content-Length (a truncated body fails)."""
    try:
        response = session.get(url, headers=headers, params=params, timeout=timeout, stream=dest is not None)
    except requests.Timeout:
        raise HarvestFailed(f"Nguồn không trả lời trong {timeout:g} giây: {url}",
                            f"The source did not answer within {timeout:g} seconds: {url}", code=UNAVAILABLE) from None
    except requests.exceptions.ChunkedEncodingError as exc:
        raise HarvestFailed(f"Nội dung từ nguồn bị cắt ngang: {url} ({_reason(exc)})",
                            f"The source's body was cut short: {url} ({_reason(exc)})") from None
    except requests.ConnectionError as exc:
        raise HarvestFailed(f"Không kết nối được tới nguồn {url}: {_reason(exc)}",
                            f"Cannot connect to the source {url}: {_reason(exc)}", code=UNAVAILABLE) from None
    if response.status_code == 304:
        return response
    if response.status_code >= 400:
        raise HarvestFailed(f"Nguồn trả lỗi HTTP {response.status_code}: {url}",
                            f"The source answered HTTP {response.status_code}: {url}",
                            code=UNAVAILABLE if response.status_code >= 500 or response.status_code == 429 else None)
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if expect and not any(e in kind for e in expect):
        raise HarvestFailed(f"Nguồn trả sai kiểu nội dung «{kind or 'không rõ'}» (cần {', '.join(expect)}): {url}",
                            f"The source answered the wrong content type «{kind or 'none'}» "
                            f"(expected {', '.join(expect)}): {url}")
    try:
        if dest is not None:
            size = 0
            with dest.open("wb") as out:
                for block in response.iter_content(1 << 16):
                    out.write(block)
                    size += len(block)
            length = response.headers.get("Content-Length")
            if length and not response.headers.get("Content-Encoding") and int(length) != size:
                raise _truncated(url, size, int(length))
        else:
            response.content  # noqa: B018 - read it now, so a cut connection fails here
    except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as exc:
        raise HarvestFailed(f"Nội dung từ nguồn bị cắt ngang: {url} ({_reason(exc)})",
                            f"The source's body was cut short: {url} ({_reason(exc)})") from None
    return response


def _truncated(url: str, got: int, expected: int) -> HarvestFailed:
    return HarvestFailed(f"Nội dung từ nguồn bị cắt ngang: nhận {got} trên {expected} byte: {url}",
                         f"The source's body was cut short: {got} of {expected} bytes received: {url}")


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for hint in ("Connection refused", "timed out", "IncompleteRead", "Name or service not known"):
        if hint in text:
            return hint
    return type(exc).__name__


def json_body(response: requests.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise HarvestFailed(f"Nguồn trả JSON không hợp lệ (có thể bị cắt ngang): {url}",
                            f"The source answered invalid JSON (perhaps cut short): {url}") from None


def write_rows(rows: list[dict[str, Any]], mapping: dict[str, str], dest: Path) -> int:
    """Rows of JSON objects, renamed by `mapping` (source name -> schema field), as a UTF-8 CSV file."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            name = mapping.get(key, key)
            if name not in columns:
                columns.append(name)
    with dest.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            renamed = {mapping.get(k, k): v for k, v in row.items()}
            writer.writerow([_cell(renamed.get(c)) for c in columns])
    return len(rows)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fetch(spec: dict[str, Any], previous: Previous, workdir: Path, *, timeout: float) -> Fetched:
    url = spec["url"]
    session = requests.Session()
    headers = {"Accept": "application/json" if spec.get("format", "json") == "json" else "text/csv",
               **auth_headers(spec), **(spec.get("headers") or {})}
    first = {**headers, **conditional(previous)}
    if spec.get("format", "json") == "csv":
        dest = workdir / "source.csv"
        response = get(session, url, headers=first, timeout=timeout, expect=CSV_TYPES, dest=dest)
        if response.status_code == 304:
            return Fetched(url, not_modified=True, etag=previous.etag, modified=previous.modified)
        return Fetched(url, dest, response.headers.get("ETag"), response.headers.get("Last-Modified"), format="csv")
    paging = spec.get("paging") or {}
    style = paging.get("style", "none")
    size = int(paging.get("size", 100))
    params: dict[str, Any] = dict(spec.get("params") or {})
    if style == "page":
        params[paging.get("param", "page")] = int(paging.get("start", 1))
    elif style == "offset":
        params[paging.get("param", "offset")] = 0
    if style in ("page", "offset") and paging.get("size_param"):
        params[paging["size_param"]] = size
    rows: list[dict[str, Any]] = []
    page_url: str | None = url
    response = get(session, url, headers=first, params=params, timeout=timeout, expect=JSON_TYPES)
    if response.status_code == 304:
        return Fetched(url, not_modified=True, etag=previous.etag, modified=previous.modified)
    etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    for _ in range(MAX_PAGES):
        body = json_body(response, page_url or url)
        found = dig(body, spec.get("rows"))
        if not isinstance(found, list):
            raise HarvestFailed(f"Không thấy danh sách dòng ở «{spec.get('rows') or '(gốc)'}» trong trả lời của {url}",
                                f"No list of rows at «{spec.get('rows') or '(root)'}» in the answer of {url}")
        rows.extend(r for r in found if isinstance(r, dict))
        if style == "none" or not found:
            break
        if style == "page":
            if len(found) < size:
                break
            params[paging.get("param", "page")] += 1
        elif style == "offset":
            if len(found) < size:
                break
            params[paging.get("param", "offset")] += len(found)
        elif style == "cursor":
            cursor = dig(body, paging["next"])
            if not cursor:
                break
            params[paging.get("param", "cursor")] = cursor
        elif style == "next":
            link = dig(body, paging["next"]) or response.links.get("next", {}).get("url")
            if not link:
                break
            page_url, params = requests.compat.urljoin(page_url or url, link), {}
        response = get(session, page_url or url, headers=headers, params=params, timeout=timeout, expect=JSON_TYPES)
    dest = workdir / "source.csv"
    count = write_rows(rows, spec.get("fields") or {}, dest)
    return Fetched(url, dest, etag, modified, rows=count, format="csv")
