"""Follow and find: Atom feeds of new versions, the sitemap, robots.txt and schema.org Dataset markup.

- An Atom feed per open dataset and one for the catalogue (feedgen): an entry per committed version, newest
  first, saying how many records were added, changed and removed and naming a few of them, read from the change
  feed (publish.changes) as the anonymous citizen sees it, so nothing personal or shared can appear.
- sitemap.xml lists the home page, the dataset list, every open dataset's page (with its last change) and
  the publishers; robots.txt points to it and keeps crawlers off the steward pages and the API.
- schema.org `Dataset` JSON-LD for a dataset page, from the same facts as DCAT (publish.metadata).

Nothing here knows Flask: `base` is the site's public address, given by the caller.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from core.catalog import Dataset
from publish import changes, versions
from publish.access import ANONYMOUS, can_see_dataset, visible_fields
from publish.listing import listed
from publish.lru import LruCache
from publish.metadata import dataset_facts, landing_url
from publish.store import Store

ENTRIES = 20  # versions per feed
NAMED = 5  # records named per entry
_FEEDS: LruCache[bytes] = LruCache(64, ttl=60.0)

__all__ = ["catalogue_feed", "dataset_feed", "dataset_jsonld", "robots_txt", "sitemap_xml"]

WORDS = {
    "vi": {"version": "Phiên bản {n} của «{title}»", "summary": "{records} bản ghi; thêm {added}, sửa {changed}, xoá {removed}.",
           "named": "Ví dụ: {names}.", "feed": "Cập nhật của «{title}»", "catalogue": "Cập nhật dữ liệu mở"},
    "en": {"version": "Version {n} of “{title}”", "summary": "{records} records; {added} added, {changed} changed, {removed} removed.",
           "named": "For example: {names}.", "feed": "Updates of “{title}”", "catalogue": "Open data updates"},
}


def _utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment or datetime(1970, 1, 1)).replace(tzinfo=UTC)


def _label_field(dataset: Dataset) -> str:
    names = dataset.schema.field_names
    if "name" in names and not dataset.schema.field("name").personal:
        return "name"
    return (dataset.schema.search_fields or dataset.schema.primary_key)[0]


def _named(store: Store, dataset: Dataset, version: int) -> list[str]:
    """A few records the version added or changed, by name, as the anonymous citizen sees them."""
    if version <= 1:
        return []
    page = changes.changes(store, dataset, version - 1, version, ANONYMOUS, limit=NAMED)
    label = _label_field(dataset)
    out = []
    for change in page.changes:
        record = change.record or {}
        text = record.get(label) or change.key
        out.append(f"{text} ({change.op})" if change.op != "added" else str(text))
    return out


def _entries(store: Store, dataset: Dataset, base: str, lang: str) -> list[dict[str, Any]]:
    words = WORDS[lang]
    out = []
    for v in versions.versions(store, dataset.id)[:ENTRIES]:
        n = v["version"]
        summary = words["summary"].format(records=v.get("rows_loaded") or 0, added=v.get("rows_added") or 0,
                                          changed=v.get("rows_changed") or 0, removed=v.get("rows_removed") or 0)
        named = _named(store, dataset, n)
        if named:
            summary += " " + words["named"].format(names="; ".join(named))
        out.append({"id": f"{landing_url(base, dataset)}#v{n}", "title": words["version"].format(n=n, title=dataset.title(lang)),
                    "updated": _utc(v.get("finished_at")), "summary": summary,
                    "link": f"{landing_url(base, dataset)}#history",
                    "changes": f"{base}/api/v1/datasets/{dataset.id}/changes?since={n - 1}&until={n}"})
    return out


def _render(feed_id: str, title: str, link: str, self_link: str, entries: list[dict[str, Any]], lang: str,
            subtitle: str, author: str) -> bytes:
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle or title)
    fg.author({"name": author})
    fg.link(href=link, rel="alternate")
    fg.link(href=self_link, rel="self")
    fg.language(lang)
    fg.updated(max((e["updated"] for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC)))
    for e in reversed(entries):  # feedgen puts the last added first
        entry = fg.add_entry()
        entry.id(e["id"])
        entry.title(e["title"])
        entry.updated(e["updated"])
        entry.summary(e["summary"])
        entry.link(href=e["link"], rel="alternate")
        entry.link(href=e["changes"], rel="related", type="application/json")
    return _entry_links(fg.atom_str(pretty=True))


def _entry_links(body: bytes) -> bytes:
    """feedgen 1.0 drops the rel and type of an entry's links (its writer shadows the link it reads): put them
    back, the first link of an entry being the alternate page and the second the related changes (JSON)."""
    from lxml import etree

    root = etree.fromstring(body)
    atom = "{http://www.w3.org/2005/Atom}"
    for entry in root.findall(f"{atom}entry"):
        links = entry.findall(f"{atom}link")
        if len(links) == 2:
            links[0].set("rel", "alternate")
            links[1].set("rel", "related")
            links[1].set("type", "application/json")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def dataset_feed(store: Store, dataset: Dataset, base: str, lang: str = "vi") -> bytes:
    """The Atom feed of an open dataset's versions (DatasetNotFound-like KeyError is the caller's: it checks)."""
    if not can_see_dataset(dataset, ANONYMOUS):
        raise PermissionError(dataset.id)
    key = ("dataset", str(store.engine.url), dataset.id, store.current_version(dataset.id), base, lang)
    body = _FEEDS.get(key)
    if body is None:
        publisher = store.catalog.publishers.get(dataset.publisher, {})
        body = _render(f"{landing_url(base, dataset)}#feed", WORDS[lang]["feed"].format(title=dataset.title(lang)),
                       landing_url(base, dataset), f"{base}/datasets/{dataset.id}/feed.atom",
                       _entries(store, dataset, base, lang), lang, dataset.description(lang),
                       (publisher.get("name") or {}).get(lang) or dataset.publisher)
        _FEEDS.put(key, body)
    return body


def catalogue_feed(store: Store, base: str, lang: str = "vi") -> bytes:
    """The Atom feed of every open dataset's versions, newest first."""
    open_sets = listed(store, [ds for ds in store.catalog if can_see_dataset(ds, ANONYMOUS)])
    key = ("catalogue", str(store.engine.url), tuple((ds.id, store.current_version(ds.id)) for ds in open_sets),
           base, lang)
    body = _FEEDS.get(key)
    if body is None:
        entries = [e for ds in open_sets for e in _entries(store, ds, base, lang)]
        entries.sort(key=lambda e: e["updated"], reverse=True)
        site = store.catalog.site
        body = _render(f"{base}/#feed", WORDS[lang]["catalogue"], f"{base}/", f"{base}/feed.atom",
                       entries[:ENTRIES * 3], lang, (site.get("title") or {}).get(lang, ""),
                       (site.get("contact") or {}).get("name", ""))
        _FEEDS.put(key, body)
    return body


def sitemap_xml(store: Store, base: str, extra_paths: list[str]) -> str:
    """Every open dataset's page (with the date of its last change), and the site's other pages given."""
    open_sets = listed(store, [ds for ds in store.catalog if can_see_dataset(ds, ANONYMOUS)])
    facts = dataset_facts(store, open_sets)
    urls: list[tuple[str, datetime | None]] = [(f"{base}{path}", None) for path in extra_paths]
    urls += [(landing_url(base, ds), facts[ds.id].modified if ds.id in facts else None) for ds in open_sets]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, modified in urls:
        last = f"<lastmod>{modified.strftime('%Y-%m-%d')}</lastmod>" if modified else ""
        lines.append(f"  <url><loc>{escape(loc)}</loc>{last}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots_txt(base: str) -> str:
    return ("User-agent: *\nDisallow: /steward\nDisallow: /api/\nDisallow: /lang/\n"
            f"Allow: /\n\nSitemap: {base}/sitemap.xml\n")


def dataset_jsonld(store: Store, dataset: Dataset, base: str, lang: str = "vi") -> str:
    """schema.org Dataset markup of an open dataset's page, as JSON text safe inside a <script> element."""
    catalog = store.catalog
    facts = dataset_facts(store, [dataset]).get(dataset.id)
    publisher = catalog.publishers.get(dataset.publisher, {})
    licence = catalog.licences.get(dataset.licence, {})
    formats = {"csv": "text/csv", "geojson": "application/geo+json", "xlsx":
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    kinds = ["csv", "xlsx"] + (["geojson"] if dataset.schema.geometry_kind else [])
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": landing_url(base, dataset),
        "name": dataset.title(lang),
        "alternateName": dataset.title("en" if lang == "vi" else "vi"),
        "description": dataset.description(lang),
        "url": landing_url(base, dataset),
        "inLanguage": ["vi", "en"],
        "keywords": dataset.keywords(lang),
        "isAccessibleForFree": True,
        "license": licence.get("url") or licence.get("title") or dataset.licence,
        "creator": {"@type": "GovernmentOrganization", "name": (publisher.get("name") or {}).get(lang),
                    "url": publisher.get("url"), "email": publisher.get("email")},
        "publisher": {"@type": "GovernmentOrganization", "name": (publisher.get("name") or {}).get(lang)},
        "spatialCoverage": {"@type": "Place", "name": "Tỉnh Đồng Nai, Việt Nam"},
        "variableMeasured": [dataset.schema.field(n).title(lang) for n in visible_fields(dataset, ANONYMOUS)],
        "distribution": [{"@type": "DataDownload", "encodingFormat": formats[k],
                          "contentUrl": f"{base}/datasets/{dataset.id}/download.{k}"} for k in kinds],
    }
    if facts:
        data["version"] = str(facts.version or "")
        data["dateCreated"] = facts.created.date().isoformat()
        data["dateModified"] = facts.modified.date().isoformat()
    text = json.dumps(data, ensure_ascii=False, indent=1)
    # "</" would end the <script> element early: JSON allows "<\/" for it
    return text.replace("</", "<\\/")
