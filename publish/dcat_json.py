"""ckanext-dcat's DCAT JSON (`/dcat.json`): a CKAN package as a flat dictionary of DCAT terms, for harvesters
that read that list rather than RDF (the RDF forms are publish/dcat.py)."""

from __future__ import annotations

from typing import Any

__all__ = ["dcat_json"]


def dcat_json(package: dict[str, Any]) -> dict[str, Any]:
    """A CKAN package as ckanext-dcat's /dcat.json lists it (the keys its `ckan_to_dcat` writes and its DCAT
    JSON harvester reads), with the dates and the identifier our packages always have."""
    org = package.get("organization") or {}
    extras = {e["key"]: e["value"] for e in package.get("extras") or []}
    publisher = {k: v for k, v in {"name": org.get("title") or package.get("maintainer"),
                                   "email": package.get("maintainer_email")}.items() if v}
    creator = {k: v for k, v in {"name": package.get("author"), "email": package.get("author_email")}.items() if v}
    return {
        "title": package.get("title"),
        "description": package.get("notes"),
        "landingPage": package.get("url"),
        "identifier": package["id"],
        "issued": package.get("metadata_created"),
        "modified": package.get("metadata_modified"),
        "keyword": [t["name"] for t in package.get("tags") or []],
        "language": [v for v in str(extras.get("language") or "").split(",") if v],
        "publisher": publisher,
        "creator": creator,
        "license": package.get("license_url") or package.get("license_id"),
        "distribution": [{"title": r.get("name"), "description": r.get("description"), "format": r.get("format"),
                          "byteSize": r.get("size"), "accessURL": r.get("url"), "downloadURL": r.get("url"),
                          "mediaType": r.get("mimetype")} for r in package.get("resources") or []],
    }
