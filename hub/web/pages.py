"""Home, search (with facets) and publisher pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for

from core.catalog import Catalog
from core.text import search_fold
from hub.context import current_hub
from hub.web.blueprint import bp
from hub.web.formatting import format_label
from hub.web.i18n import current_lang, pick
from publish.access import ANONYMOUS
from publish.catalogue import DatasetCard, cards, figures
from publish.record_search import record_matches
from publish.search import search

FACETS = ("theme", "publisher", "format", "licence")
SORTS = ("relevance", "name", "updated")
HOME_LIST = 4


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str


def _values(card: DatasetCard, facet: str) -> list[str]:
    ds = card.dataset
    return {"theme": ds.themes, "publisher": [ds.publisher], "format": card.formats, "licence": [ds.licence]}[facet]


def _label(catalog: Catalog, facet: str, value: str) -> str:
    if facet == "theme":
        return pick(catalog.themes.get(value, {}).get("title")) or value
    if facet == "publisher":
        return pick(catalog.publishers.get(value, {}).get("name")) or value
    if facet == "licence":
        return pick(catalog.licences.get(value, {}).get("title")) or value
    return format_label(value)


def _url(args: dict[str, str], **changes: str | None) -> str:
    merged = {**args, **changes}
    merged.pop("page", None)
    clean = {k: v for k, v in merged.items() if v}
    return url_for("web.search_page") + ("?" + urlencode(clean) if clean else "")


def _sort_key(sort: str, lang: str, scores: dict[str, float]) -> Callable[[DatasetCard], Any]:
    if sort == "relevance":
        return lambda c: (-scores.get(c.id, 0.0), search_fold(c.dataset.title(lang)))
    if sort == "updated":
        # newest first, never-loaded datasets last
        return lambda c: (-c.last_updated.timestamp() if c.last_updated else float("inf"), search_fold(c.dataset.title(lang)))
    return lambda c: search_fold(c.dataset.title(lang))


@bp.get("/")
def home():  # noqa: ANN201
    hub = current_hub()
    all_cards = cards(hub.store, hub.catalog, ANONYMOUS)
    themes = Counter(t for c in all_cards for t in c.dataset.themes)
    newest = sorted((c for c in all_cards if c.last_updated), key=lambda c: c.last_updated,  # type: ignore[arg-type, return-value]  # only cards with a date
                    reverse=True)
    viewed = sorted((c for c in all_cards if c.views), key=lambda c: (-c.views, c.id))
    return render_template(
        "home.html",
        figures=figures(all_cards),
        themes=[(tid, t, themes[tid]) for tid, t in hub.catalog.themes.items() if themes[tid]],
        newest=newest[:HOME_LIST],
        most_viewed=viewed[:HOME_LIST],
    )


@bp.get("/datasets")
def search_page():  # noqa: ANN201
    hub = current_hub()
    lang = current_lang()
    q = (request.args.get("q") or "").strip()[:200]
    selected = {f: request.args.get(f, "") for f in FACETS if request.args.get(f)}
    sort = request.args.get("sort", "") if request.args.get("sort") in SORTS else ("relevance" if q else "name")
    if sort == "relevance" and not q:
        sort = "name"
    hits = search(hub.store, hub.catalog, q, ANONYMOUS)
    scores = {h.dataset: h.score for h in hits}
    found = cards(hub.store, hub.catalog, ANONYMOUS, ids=[h.dataset for h in hits])
    results = [c for c in found if all(v in _values(c, f) for f, v in selected.items())]
    results.sort(key=_sort_key(sort, lang, scores))

    args = {"q": q, "sort": request.args.get("sort") or "", **selected}
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        counts = Counter(v for c in results for v in _values(c, facet))
        if selected.get(facet):
            counts.setdefault(selected[facet], 0)
        values = [FacetValue(v, _label(hub.catalog, facet, v), n, selected.get(facet) == v,
                             _url(args, **{facet: None if selected.get(facet) == v else v}))
                  for v, n in counts.items()]
        facets[facet] = sorted(values, key=lambda fv: (-fv.count, search_fold(fv.label)))
    inside = record_matches(hub.store, hub.catalog, q, ANONYMOUS, lang)
    return render_template("search.html", q=q, results=results, facets=facets, sort=sort, sorts=SORTS,
                           selected=selected, clear_url=_url({"q": q}), facet_labels=facet_labels(), inside=inside)


def facet_labels() -> dict[str, str]:
    from flask_babel import gettext

    return {"theme": gettext("Theme"), "publisher": gettext("Publisher"), "format": gettext("Format"),
            "licence": gettext("Licence")}


@bp.get("/publishers")
def publishers():  # noqa: ANN201
    hub = current_hub()
    counts = Counter(c.dataset.publisher for c in cards(hub.store, hub.catalog, ANONYMOUS))
    listed = sorted(hub.catalog.publishers.values(), key=lambda p: search_fold(pick(p.get("name"))))
    return render_template("publishers.html", publishers=[(p, counts[p["id"]]) for p in listed])


@bp.get("/publishers/<publisher_id>")
def publisher(publisher_id: str):  # noqa: ANN201
    hub = current_hub()
    entry = hub.catalog.publishers.get(publisher_id)
    if entry is None:
        abort(404)
    children = [p for p in hub.catalog.publishers.values() if p.get("parent") == publisher_id]
    parent = hub.catalog.publishers.get(entry.get("parent") or "")
    own = [c for c in cards(hub.store, hub.catalog, ANONYMOUS) if c.dataset.publisher == publisher_id]
    own.sort(key=lambda c: search_fold(c.dataset.title(current_lang())))
    return render_template("publisher.html", publisher=entry, parent=parent, children=children, results=own)
