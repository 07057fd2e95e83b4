"""Our catalogue in CKAN's words: datasets become packages, publishers organizations, themes groups.

The dictionaries have the keys and types CKAN's own `package_show`, `organization_show` and `group_show`
return (ckan/lib/dictization/model_dictize.py), so CKAN clients, harvesters and `ckanapi dump` read them
unchanged. Titles and descriptions are in the site's language (Vietnamese by default); the other language
travels in extras (`title_en`, `notes_en`). Only what `publish.access` lets the viewer see is described.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.catalog import Catalog, Dataset
from publish.access import ANONYMOUS, Viewer, can_see_dataset
from publish.context import Hub
from publish.listing import listed
from publish.metadata import (
    Facts,
    ckan_time,
    contact,
    csv_file_facts,
    dataset_facts,
    dictionary,
    download_url,
    hub_id,
    landing_url,
    publisher_name,
    resource_kinds,
)

__all__ = ["group_dict", "organization_dict", "our_packages", "package_for", "tag_dict", "visible_datasets"]

OTHER = {"vi": "en", "en": "vi"}


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return value.get(lang) or value.get("vi") or ""
    return value or ""


def _catalog_time(catalog: Catalog) -> str | None:
    return ckan_time(datetime.fromtimestamp(catalog.path.stat().st_mtime)) if catalog.path.exists() else None


def visible_datasets(hub: Hub, viewer: Viewer) -> list[Dataset]:
    return listed(hub.store, [ds for ds in hub.catalog if can_see_dataset(ds, viewer)])


def organization_dict(hub: Hub, publisher: str, lang: str) -> dict[str, Any]:
    """A publisher as the core organization fields a package embeds."""
    entry = hub.catalog.publishers[publisher]
    return {
        "id": hub_id("organization", publisher),
        "name": publisher,
        "title": publisher_name(hub.catalog, publisher, lang),
        "type": "organization",
        "description": _text(entry.get("description"), lang),
        "image_url": "",
        "created": _catalog_time(hub.catalog),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
    }


def organization_extras(hub: Hub, publisher: str, lang: str) -> list[dict[str, str]]:
    entry = hub.catalog.publishers[publisher]
    extras = {"title_" + OTHER[lang]: publisher_name(hub.catalog, publisher, OTHER[lang]), "email": entry.get("email"),
              "url": entry.get("url"), "parent": entry.get("parent")}
    return [{"key": k, "value": v} for k, v in extras.items() if v]


def group_dict(hub: Hub, theme: str, lang: str, *, full: bool = False) -> dict[str, Any]:
    """A theme as a group: the short form packages embed, or with `full` the group_show form."""
    entry = hub.catalog.themes[theme]
    title = _text(entry.get("title"), lang) or theme
    short = {"id": hub_id("group", theme), "name": theme, "title": title, "display_name": title,
             "description": _text(entry.get("description"), lang), "image_display_url": ""}
    if not full:
        return short
    extras = [{"key": "title_" + OTHER[lang], "value": _text(entry.get("title"), OTHER[lang])}]
    return {**short, "type": "group", "is_organization": False, "image_url": "", "created": _catalog_time(hub.catalog),
            "approval_status": "approved", "state": "active", "extras": extras, "groups": [], "tags": [],
            "users": [], "num_followers": 0}


def tag_dict(name: str) -> dict[str, Any]:
    return {"id": hub_id("tag", name), "name": name, "display_name": name, "state": "active", "vocabulary_id": None}


def _tags(dataset: Dataset) -> list[dict[str, Any]]:
    names: list[str] = []
    for lang in ("vi", "en"):  # both languages, so a search in either finds the dataset
        for word in dataset.keywords(lang):
            if word not in names:
                names.append(word)
    return [tag_dict(n) for n in sorted(names)]


def _resources(hub: Hub, dataset: Dataset, facts: Facts, base: str, lang: str) -> list[dict[str, Any]]:
    package_id = hub_id("dataset", dataset.id)
    out: list[dict[str, Any]] = []
    for position, kind in enumerate(resource_kinds(dataset)):
        out.append({
            "id": hub_id("resource", f"{dataset.id}/{kind.kind}"),
            "package_id": package_id,
            "name": f"{dataset.title(lang)} — {kind.label[lang]}",
            "description": kind.description[lang],
            "format": kind.format,
            "mimetype": kind.mimetype,
            "mimetype_inner": None,
            "url": download_url(base, dataset, kind),
            "url_type": None,
            "resource_type": None,
            "position": position,
            "state": "active",
            "size": None,
            "hash": "",
            "created": ckan_time(facts.created),
            "last_modified": ckan_time(facts.data_modified),
            "metadata_modified": ckan_time(facts.modified),
            "cache_url": None,
            "cache_last_updated": None,
            "datastore_active": kind.datastore,
            "hub_resource": kind.kind,
        })
        if kind.kind == "csv":
            out[-1]["schema"] = dictionary(dataset, ANONYMOUS)  # the columns the download has, with their types
            if can_see_dataset(dataset, ANONYMOUS):  # the URL serves the anonymous CSV: measure that one
                file = csv_file_facts(hub.store, hub.settings.storage_dir, dataset, facts.version)
                out[-1].update(size=file.size, hash=file.hash)
    return out


def _extras(hub: Hub, dataset: Dataset, facts: Facts, lang: str) -> list[dict[str, str]]:
    other = OTHER[lang]
    values = {
        "access_level": dataset.access,
        "attribution": dataset.entry.get("attribution"),
        "frequency": dataset.entry.get("frequency"),
        "language": lang,
        "notes_" + other: dataset.description(other),
        "records": str(facts.records),
        "title_" + other: dataset.title(other),
    }
    return [{"key": k, "value": v} for k, v in sorted(values.items()) if v]


def package_for(hub: Hub, dataset: Dataset, base: str, facts: Facts | None = None) -> dict[str, Any]:
    """One dataset as CKAN's package_show returns it. The caller has checked the viewer may see it."""
    lang = hub.settings.language
    facts = facts or dataset_facts(hub.store, [dataset])[dataset.id]
    licence = hub.catalog.licences.get(dataset.licence) or {}
    who = contact(hub.catalog, dataset)
    publisher = hub.catalog.publishers.get(dataset.publisher) or {}
    resources = _resources(hub, dataset, facts, base, lang)
    tags = _tags(dataset)
    org = organization_dict(hub, dataset.publisher, lang)
    return {
        "id": hub_id("dataset", dataset.id),
        "name": dataset.id,
        "title": dataset.title(lang),
        "notes": dataset.description(lang),
        "author": publisher_name(hub.catalog, dataset.publisher, lang),
        "author_email": publisher.get("email") or None,
        "maintainer": who["name"] or None,
        "maintainer_email": who["email"] or None,
        "license_id": dataset.licence,
        "license_title": licence.get("title") or dataset.licence,
        "license_url": licence.get("url") or None,
        "isopen": bool(licence.get("open")),
        "url": landing_url(base, dataset),
        "version": str(facts.version) if facts.version else None,
        "state": "active",
        "type": "dataset",
        "private": not dataset.is_open,
        "creator_user_id": None,
        "owner_org": org["id"],
        "organization": org,
        "metadata_created": ckan_time(facts.created),
        "metadata_modified": ckan_time(facts.modified),
        "num_resources": len(resources),
        "num_tags": len(tags),
        "tags": tags,
        "groups": [group_dict(hub, t, lang) for t in dataset.themes],
        "extras": _extras(hub, dataset, facts, lang),
        "resources": resources,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def our_packages(hub: Hub, viewer: Viewer, base: str) -> list[dict[str, Any]]:
    """Every dataset the viewer may see, as packages (one query on the loads for all of them)."""
    datasets = visible_datasets(hub, viewer)
    facts = dataset_facts(hub.store, datasets)
    return [package_for(hub, ds, base, facts[ds.id]) for ds in datasets]
