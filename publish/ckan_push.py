"""Push our open datasets to a CKAN portal (the national open-data portal, or another hub) with ckanapi.

For each open dataset: its publisher becomes an organization, the dataset a package, and its CSV and GeoJSON
exports and data dictionary become uploaded resources. Everything is compared with what the portal already
holds before anything is written (package fields; a resource's sha256, kept in CKAN's `hash` field as
`sha256:<hex>` as frictionless reads it, and a CSV's Table Schema in `schema`), so a
second run changes nothing and reports every item "unchanged". Only open datasets are ever read, and only as
the anonymous citizen sees them (publish.access), so restricted data and personal fields never leave.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.catalog import Dataset
from core.config import Settings
from core.errors import HubError
from publish.access import ANONYMOUS, can_see_dataset
from publish.context import Hub
from publish.listing import listed
from publish.metadata import ResourceKind, dataset_facts, dictionary, resource_kinds
from publish.packages import organization_dict, package_for
from publish.store import Store

__all__ = ["PushError", "PushReport", "push"]

PACKAGE_FIELDS = ("name", "title", "notes", "author", "author_email", "maintainer", "maintainer_email", "license_id",
                  "url", "version", "owner_org", "private")


OUTCOMES = {"created": "created", "would create": "created", "updated": "updated", "would update": "updated",
            "unchanged": "unchanged"}


class PushError(HubError):
    code = "ckan-push-error"


@dataclass
class Step:
    kind: str  # organization, package, resource
    name: str
    action: str  # created, updated, unchanged (with --dry-run: would create, would update)
    detail: str = ""


@dataclass
class PushReport:
    url: str
    dry_run: bool
    steps: list[Step] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Steps that were (or, with dry_run, would be) `outcome`: created, updated or unchanged."""
        return sum(1 for s in self.steps if OUTCOMES[s.action] == outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "dry_run": self.dry_run, "created": self.count("created"),
                "updated": self.count("updated"), "unchanged": self.count("unchanged"),
                "steps": [asdict(s) for s in self.steps]}


def _remote(url: str, api_key: str) -> Any:
    from importlib.metadata import version as package_version

    from ckanapi import RemoteCKAN

    version = package_version("dong-nai-culture-data-hub")
    return RemoteCKAN(url, apikey=api_key, user_agent=f"dong-nai-culture-data-hub/{version} (+hub publish-ckan)")


def _call(ckan: Any, action: str, **data: Any) -> Any:
    """One action on the portal; its errors as one bilingual PushError naming the action and the item."""
    import requests
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError

    name = data.get("name") or data.get("id") or data.get("package_id") or ""
    try:
        return ckan.call_action(action, data_dict={k: v for k, v in data.items() if not hasattr(v, "read")},
                                files={k: v for k, v in data.items() if hasattr(v, "read")} or None)
    except NotFound:
        if action.endswith("_show"):
            raise
        raise PushError(f"Cổng CKAN không tìm thấy «{name}» ({action})", f"The CKAN portal has no «{name}» ({action})") from None
    except NotAuthorized as exc:
        detail = exc.extra_msg.get("message") if isinstance(exc.extra_msg, dict) else str(exc)
        raise PushError(f"Cổng CKAN từ chối {action} «{name}»: khoá API không đủ quyền ({detail})",
                        f"The CKAN portal refused {action} «{name}»: the API key lacks the right ({detail})") from None
    except ValidationError as exc:
        errors = {k: v for k, v in getattr(exc, "error_dict", {}).items() if k != "__type"}
        raise PushError(f"Cổng CKAN không nhận {action} «{name}»: {errors}",
                        f"The CKAN portal rejected {action} «{name}»: {errors}") from None
    except requests.RequestException as exc:
        raise PushError(f"Không kết nối được tới cổng CKAN {ckan.address} ({type(exc).__name__})",
                        f"Cannot reach the CKAN portal {ckan.address} ({type(exc).__name__})") from None
    except CKANAPIError as exc:
        raise PushError(f"Cổng {ckan.address} không trả lời như một cổng CKAN ({action}): {str(exc)[:200]}",
                        f"{ckan.address} does not answer like a CKAN portal ({action}): {str(exc)[:200]}") from None


def _show(ckan: Any, action: str, key: str) -> dict[str, Any] | None:
    from ckanapi.errors import NotFound

    try:
        found: dict[str, Any] = _call(ckan, action, id=key)
    except NotFound:
        return None
    return found


def _same(wanted: Any, have: Any) -> bool:
    return (wanted or None) == (have or None)


def _pushed(key: str, value: Any) -> Any:
    """A resource field as an earlier push left it, in today's form: a bare sha256 is the same hash (pushes
    before the `sha256:` prefix), a schema stored as a dictionary the same JSON text."""
    if key == "hash" and isinstance(value, str) and len(value) == 64 and ":" not in value:
        return f"sha256:{value}"
    if key == "schema" and isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _ensure_org(ckan: Any, hub: Hub, publisher: str, report: PushReport) -> str | None:
    org = organization_dict(hub, publisher, hub.settings.language)
    wanted = {"name": publisher, "title": org["title"], "description": org["description"]}
    have = _show(ckan, "organization_show", publisher)
    if have is None:
        report.steps.append(Step("organization", publisher, "would create" if report.dry_run else "created"))
        return None if report.dry_run else _call(ckan, "organization_create", **wanted)["id"]
    changed = [k for k in ("title", "description") if not _same(wanted[k], have.get(k))]
    if changed:
        report.steps.append(Step("organization", publisher, "would update" if report.dry_run else "updated",
                                 ", ".join(changed)))
        if not report.dry_run:
            _call(ckan, "organization_patch", id=have["id"], **{k: wanted[k] for k in changed})
    else:
        report.steps.append(Step("organization", publisher, "unchanged"))
    org_id: str = have["id"]
    return org_id


def _wanted_package(pkg: dict[str, Any], prefix: str, owner_org: str | None) -> dict[str, Any]:
    wanted = {k: pkg.get(k) for k in PACKAGE_FIELDS}
    wanted.update(name=prefix + pkg["name"], owner_org=owner_org, private=False,
                  tags=[{"name": t["name"]} for t in pkg["tags"]], extras=pkg["extras"])
    return wanted


def _package_changes(wanted: dict[str, Any], have: dict[str, Any]) -> list[str]:
    changed = [k for k in PACKAGE_FIELDS if k != "owner_org" and not _same(wanted[k], have.get(k))]
    if wanted["owner_org"] and wanted["owner_org"] != have.get("owner_org"):
        changed.append("owner_org")
    if sorted(t["name"] for t in wanted["tags"]) != sorted(t["name"] for t in have.get("tags") or []):
        changed.append("tags")
    theirs = {e["key"]: e["value"] for e in have.get("extras") or []}
    if any(theirs.get(e["key"]) != e["value"] for e in wanted["extras"]):
        changed.append("extras")
    return changed


def _resource_file(store: Store, dataset: Dataset, kind: ResourceKind, folder: Path) -> Path:
    """The resource's file exactly as a citizen downloads it (anonymous viewer), written to `folder`."""
    from publish.exports import export_stream

    path = folder / f"{dataset.id}.{kind.extension}"
    if kind.kind == "dictionary":
        path.write_text(json.dumps(dictionary(dataset, ANONYMOUS), ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    with path.open("wb") as handle:
        for chunk in export_stream(store, dataset, kind.kind, ANONYMOUS):
            handle.write(chunk)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _push_resources(ckan: Any, store: Store, dataset: Dataset, pkg: dict[str, Any], have: dict[str, Any] | None,
                    report: PushReport, folder: Path) -> None:
    theirs = (have or {}).get("resources") or []
    for ours in pkg["resources"]:
        kind = next(k for k in resource_kinds(dataset) if k.kind == ours["hub_resource"])
        path = _resource_file(store, dataset, kind, folder)
        wanted = {"name": ours["name"], "description": ours["description"], "format": ours["format"],
                  "hash": f"sha256:{_sha256(path)}", "hub_resource": kind.kind}
        if ours.get("schema"):  # as JSON text: a multipart form field cannot hold a dictionary
            wanted["schema"] = json.dumps(ours["schema"], ensure_ascii=False, sort_keys=True)
        match = next((r for r in theirs if r.get("hub_resource") == kind.kind), None) or \
            next((r for r in theirs if r.get("name") == ours["name"]), None)
        label = f"{pkg['name']}/{kind.kind}"
        if match is None:
            report.steps.append(Step("resource", label, "would create" if report.dry_run else "created"))
            if not report.dry_run:
                with path.open("rb") as upload:
                    _call(ckan, "resource_create", package_id=have["id"] if have else None, upload=upload, **wanted)
            continue
        changed = [k for k in wanted if k != "format" and not _same(wanted[k], _pushed(k, match.get(k)))]
        if str(match.get("format") or "").lower() != kind.format.lower():
            changed.append("format")
        if not changed:
            report.steps.append(Step("resource", label, "unchanged"))
            continue
        report.steps.append(Step("resource", label, "would update" if report.dry_run else "updated", ", ".join(changed)))
        if not report.dry_run:
            with path.open("rb") as upload:
                _call(ckan, "resource_update", id=match["id"], package_id=have["id"] if have else None,
                      upload=upload, **wanted)


def push(store: Store, url: str, api_key: str, *, dataset: str | None = None, dry_run: bool = False,
         name_prefix: str = "", settings: Settings | None = None,
         progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create or update the open datasets (or one) on the CKAN portal at `url`. Returns the report as a dict:
    {url, dry_run, created, updated, unchanged, steps: [{kind, name, action, detail}]}."""
    settings = settings or Settings.from_env()
    hub = Hub(settings, store.catalog, store)
    if dataset:
        chosen = [store.catalog.dataset(dataset)]
        if not can_see_dataset(chosen[0], ANONYMOUS):
            raise PushError(f"Bộ dữ liệu «{dataset}» không phải dữ liệu mở: không bao giờ được đẩy lên cổng CKAN",
                            f"Dataset «{dataset}» is not open data: it is never pushed to a CKAN portal", dataset=dataset)
    else:
        chosen = listed(store, [ds for ds in store.catalog if can_see_dataset(ds, ANONYMOUS)])
    ckan = _remote(url, api_key)
    report = PushReport(url, dry_run)
    facts = dataset_facts(store, chosen)
    org_ids: dict[str, str | None] = {}
    with tempfile.TemporaryDirectory(prefix="hub-ckan-push-") as tmp:
        for ds in chosen:
            if progress:
                progress(ds.id)
            if ds.publisher not in org_ids:
                org_ids[ds.publisher] = _ensure_org(ckan, hub, ds.publisher, report)
            pkg = package_for(hub, ds, settings.base_url.rstrip("/"), facts[ds.id])
            wanted = _wanted_package(pkg, name_prefix, org_ids[ds.publisher])
            have = _show(ckan, "package_show", wanted["name"])
            if have is None:
                report.steps.append(Step("package", wanted["name"], "would create" if dry_run else "created"))
                if not dry_run:
                    have = _call(ckan, "package_create", **wanted)
            else:
                changed = _package_changes(wanted, have)
                report.steps.append(Step("package", wanted["name"], ("would update" if dry_run else "updated")
                                         if changed else "unchanged", ", ".join(changed)))
                if changed and not dry_run:
                    have = _call(ckan, "package_patch", **{**wanted, "id": have["id"]})
            _push_resources(ckan, store, ds, {**pkg, "name": wanted["name"]}, have, report, Path(tmp))
    return report.to_dict()
