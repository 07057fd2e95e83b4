"""`ckan` sources: a resource of a package on a CKAN portal (another hub like ours counts), with ckanapi.

mode `download` (default) fetches the resource's file (CSV/XLSX) with a conditional GET; mode `datastore`
reads its rows with datastore_search, `page_size` at a time. A resource whose last_modified is the one of the
last successful harvest is not fetched at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import requests

from publish.harvest import http
from publish.harvest.base import Fetched, HarvestFailed, Previous


def _client(spec: dict[str, Any], timeout: float) -> Any:
    from ckanapi import RemoteCKAN

    key = os.environ.get(spec["api_key_env"]) if spec.get("api_key_env") else None
    session = requests.Session()
    session.request = _with_timeout(session.request, timeout)  # type: ignore[method-assign]
    return RemoteCKAN(spec["url"], apikey=key, user_agent="dong-nai-hub-harvest", session=session)


def _with_timeout(request: Any, timeout: float) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(*args, **kwargs)

    return call


def _call(ckan: Any, url: str, action: str, **params: Any) -> Any:
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError

    try:
        return ckan.call_action(action, params)
    except NotFound:
        raise HarvestFailed(f"Cổng CKAN {url} không có {params}", f"The CKAN portal {url} has no {params}") from None
    except NotAuthorized:
        raise HarvestFailed(f"Cổng CKAN {url} từ chối quyền truy cập ({action})",
                            f"The CKAN portal {url} refused access ({action})") from None
    except requests.Timeout:
        raise HarvestFailed(f"Cổng CKAN không trả lời kịp: {url}", f"The CKAN portal did not answer in time: {url}") from None
    except requests.ConnectionError as exc:
        raise HarvestFailed(f"Không kết nối được tới cổng CKAN {url}: {http._reason(exc)}",
                            f"Cannot connect to the CKAN portal {url}: {http._reason(exc)}") from None
    except (CKANAPIError, ValidationError, ValueError) as exc:
        raise HarvestFailed(f"Cổng CKAN {url} trả lỗi ở {action}: {exc}",
                            f"The CKAN portal {url} answered an error to {action}: {exc}") from None


def fetch(spec: dict[str, Any], previous: Previous, workdir: Path, *, timeout: float) -> Fetched:
    url = spec["url"].rstrip("/")
    ckan = _client(spec, timeout)
    package = _call(ckan, url, "package_show", id=spec["package"])
    wanted = str(spec["resource"])
    resource = next((r for r in package.get("resources", [])
                     if wanted in (r.get("id"), r.get("name"), str(r.get("format", "")).lower())), None)
    if resource is None:
        raise HarvestFailed(f"Gói «{spec['package']}» trên {url} không có tài nguyên «{wanted}»",
                            f"Package «{spec['package']}» on {url} has no resource «{wanted}»")
    modified = resource.get("last_modified") or resource.get("metadata_modified") or package.get("metadata_modified")
    if modified and previous.modified and modified == previous.modified:
        return Fetched(resource.get("url") or url, not_modified=True, etag=previous.etag, modified=modified)
    if spec.get("mode", "download") == "datastore":
        rows: list[dict[str, Any]] = []
        size = int(spec.get("page_size", 1000))
        while True:
            page = _call(ckan, url, "datastore_search", resource_id=resource["id"], limit=size, offset=len(rows))
            records = page.get("records") or []
            rows.extend({k: v for k, v in r.items() if k != "_id"} for r in records)
            if len(records) < size:
                break
        dest = workdir / "source.csv"
        count = http.write_rows(rows, spec.get("fields") or {}, dest)
        return Fetched(f"{url}/api/3/action/datastore_search?resource_id={resource['id']}", dest, modified=modified,
                       rows=count, format="csv")
    link = resource.get("url")
    if not link:
        raise HarvestFailed(f"Tài nguyên «{wanted}» không có địa chỉ tải", f"Resource «{wanted}» has no download URL")
    link = requests.compat.urljoin(url + "/", link)
    suffix = "." + str(resource.get("format") or "csv").lower()
    dest = workdir / f"source{suffix if suffix in ('.csv', '.xlsx', '.xls', '.json') else '.csv'}"
    response = http.get(requests.Session(), link, headers=http.conditional(previous), timeout=timeout, dest=dest)
    if response.status_code == 304:
        return Fetched(link, not_modified=True, etag=previous.etag, modified=modified or previous.modified)
    return Fetched(link, dest, response.headers.get("ETag"), modified or response.headers.get("Last-Modified"))
