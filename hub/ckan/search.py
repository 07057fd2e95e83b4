"""package_search over our packages and the federated ones, with CKAN's parameters, answers and errors.

CKAN asks Solr; a province's catalogue is a few hundred packages, so we index the package dictionaries in
memory per request, with the fields CKAN's Solr schema has (ckan/lib/search/index.py): `text` for free
words, `tags`, `groups`, `organization`, `res_format`, `license_id`, `capacity`, `extras_*`... Parameters are
checked as ckan/logic/schema `default_package_search_schema` does, and unknown ones refused as
ckan/lib/search/query.py does ("Invalid search parameters").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from core.text import search_fold
from hub.ckan.errors import SearchQueryError
from hub.ckan.query_parser import Node, folded, matches, parse, words_of
from hub.ckan.validation import Errors, add, as_bool, as_int, as_json, natural, raise_if

__all__ = ["DEFAULT_SORT", "index_doc", "package_search"]

DEFAULT_SORT = "score desc, metadata_modified desc"
ROWS_MAX = 1000
FACET_LIMIT = 50
SOLR_PARAMS = {"q", "fl", "fq", "rows", "sort", "start", "wt", "qf", "bf", "boost", "facet", "facet.mincount",
               "facet.limit", "facet.field", "extras", "fq_list", "tie", "defType", "mm", "df"}
TEXT_FIELDS = {"text", "title", "notes", "author", "maintainer", "res_name", "res_description"}
SORTABLE = {"score", "name", "title", "title_string", "metadata_modified", "metadata_created", "num_resources",
            "num_tags", "views_recent", "views_total", "id"}
NUMERIC = {"score", "num_resources", "num_tags", "views_recent", "views_total"}


# Index documents of packages already seen, by (id, name, metadata_modified): a package that changes gets a
# new metadata_modified, so a stale document is never used. Folded words are kept in them too.
_DOCS: dict[tuple[Any, ...], dict[str, list[Any]]] = {}


def _cached_doc(pkg: dict[str, Any]) -> dict[str, list[Any]]:
    key = (pkg["id"], pkg["name"], pkg.get("metadata_modified"), pkg.get("private"), pkg.get("num_resources"),
           pkg.get("url"))
    doc = _DOCS.get(key)
    if doc is None:
        if len(_DOCS) > 20_000:
            _DOCS.clear()
        doc = _DOCS[key] = index_doc(pkg)
    return doc


def index_doc(pkg: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields CKAN indexes for a package, each as a list of values."""
    resources = pkg.get("resources") or []
    org = pkg.get("organization") or {}
    doc: dict[str, list[Any]] = {
        "id": [pkg["id"]], "name": [pkg["name"]], "title": [pkg.get("title")], "title_string": [pkg.get("title")],
        "notes": [pkg.get("notes")], "author": [pkg.get("author")], "maintainer": [pkg.get("maintainer")],
        "url": [pkg.get("url")], "version": [pkg.get("version")], "license_id": [pkg.get("license_id")],
        "license": [pkg.get("license_title")], "state": [pkg.get("state")], "dataset_type": [pkg.get("type")],
        "type": [pkg.get("type")], "capacity": ["private" if pkg.get("private") else "public"],
        "organization": [org.get("name")] if org else [], "owner_org": [pkg.get("owner_org")],
        "tags": [t["name"] for t in pkg.get("tags", [])], "groups": [g["name"] for g in pkg.get("groups", [])],
        "res_format": [r.get("format") for r in resources if r.get("format")],
        "res_name": [r.get("name") for r in resources], "res_description": [r.get("description") for r in resources],
        "res_url": [r.get("url") for r in resources], "res_type": [r.get("resource_type") for r in resources],
        "metadata_modified": [pkg.get("metadata_modified")], "metadata_created": [pkg.get("metadata_created")],
        "num_resources": [pkg.get("num_resources", 0)], "num_tags": [pkg.get("num_tags", 0)],
        "isopen": [str(bool(pkg.get("isopen"))).lower()], "private": [str(bool(pkg.get("private"))).lower()],
    }
    for extra in pkg.get("extras") or []:
        doc["extras_" + extra["key"]] = [extra["value"]]
        doc.setdefault(extra["key"], [extra["value"]])
    text_parts = [pkg.get("name"), pkg.get("title"), pkg.get("notes"), pkg.get("author"), pkg.get("maintainer"),
                  org.get("title"), *doc["tags"], *[g.get("title") for g in pkg.get("groups", [])],
                  *doc["res_name"], *doc["res_description"], *[e["value"] for e in pkg.get("extras") or []]]
    doc["text"] = [" ".join(str(p) for p in text_parts if p)]
    return doc


def _score(words: list[str], doc: dict[str, list[Any]]) -> float:
    title, tags, text = folded(doc, "title"), folded(doc, "tags"), folded(doc, "text")
    return float(sum(3 * title.count(w) + 2 * tags.count(w) + text.count(w) for w in words))


def _sort_spec(sort: str) -> list[tuple[str, bool]]:
    spec = []
    for clause in sort.split(","):
        parts = clause.split()
        if not parts:
            continue
        field = parts[0]
        direction = parts[1].lower() if len(parts) > 1 else "asc"
        if field not in SORTABLE or direction not in ("asc", "desc") or len(parts) > 2:
            raise SearchQueryError('Tham số "sort" không hợp lệ', 'Invalid "sort" parameter', field="sort")
        spec.append(("title_string" if field == "title" else field, direction == "desc"))
    return spec


def _hit_key(field: str) -> Callable[[tuple[Any, dict[str, list[Any]], float]], Any]:
    """The sort key of a hit (package, its document, score) for one sort field."""
    return lambda hit: _sort_key(field, hit[1], hit[2])


def _sort_key(field: str, doc: dict[str, list[Any]], score: float) -> Any:
    if field == "score":
        return score
    value = (doc.get(field) or [None])[0]
    if field in NUMERIC:
        return float(value or 0)
    return search_fold(str(value or ""))


def _facet_field(data: dict[str, Any], errors: Errors) -> list[str]:
    raw = data.get("facet.field")
    if raw is None or raw == "":
        return []
    value = as_json(raw, "facet.field", errors)
    if value is None:
        return []
    if not isinstance(value, list):
        add(errors, "facet.field", "Not a list")
        return []
    for item in value:
        if not isinstance(item, str):
            add(errors, "facet.field", f"Not a string: {item}")
    return [v for v in value if isinstance(v, str)]


def _display_names(packages: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {"organization": {}, "groups": {}, "license_id": {}}
    for pkg in packages:
        if pkg.get("organization"):
            names["organization"][pkg["organization"]["name"]] = pkg["organization"].get("title") or ""
        for group in pkg.get("groups", []):
            names["groups"][group["name"]] = group.get("title") or ""
        if pkg.get("license_id"):
            names["license_id"][pkg["license_id"]] = pkg.get("license_title") or ""
    return names


def _facets(fields: list[str], docs: list[dict[str, list[Any]]], packages: list[dict[str, Any]], limit: int,
            mincount: int) -> tuple[dict[str, Any], dict[str, Any]]:
    display = _display_names(packages)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for field in fields:
        counts = Counter(v for doc in docs for v in {str(x) for x in doc.get(field, []) if x not in (None, "")})
        ranked = sorted(((v, c) for v, c in counts.items() if c >= mincount), key=lambda vc: (-vc[1], vc[0]))
        if limit >= 0:
            ranked = ranked[:limit]
        facets[field] = dict(ranked)
        items = [{"name": v, "display_name": (display.get(field, {}).get(v) or v).strip() or v, "count": c}
                 for v, c in ranked]
        # CKAN sorts the items by display name, in reverse (ckan/logic/action/get.py package_search)
        search_facets[field] = {"title": field, "items": sorted(items, key=lambda i: i["display_name"], reverse=True)}
    return facets, search_facets


def package_search(packages: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """CKAN's package_search answer over `packages` (those the caller may see)."""
    data = {k: v for k, v in data.items() if not k.startswith("ext_")}
    errors: Errors = {}
    rows = min(natural(data.get("rows"), "rows", errors, 10) or 0, ROWS_MAX)
    start = natural(data.get("start"), "start", errors, 0) or 0
    facet_limit = as_int(data.get("facet.limit"), "facet.limit", errors, FACET_LIMIT)
    facet_mincount = natural(data.get("facet.mincount"), "facet.mincount", errors, 1)
    facet_fields = _facet_field(data, errors)
    include_private = as_bool(data.get("include_private"), "include_private", errors)
    for key in ("q", "fq", "sort"):
        if data.get(key) is not None and not isinstance(data[key], str):
            add(errors, key, "Must be a string")
    raise_if(errors)
    for key in ("include_private", "include_drafts", "include_deleted", "use_default_schema"):
        data.pop(key, None)
    unknown = sorted(set(data) - SOLR_PARAMS)
    if unknown:
        raise SearchQueryError(f"Tham số tìm kiếm không hợp lệ: {unknown}", f"Invalid search parameters: {unknown}",
                               field=unknown[0])

    sort = data.get("sort") or DEFAULT_SORT
    if sort == "rank":
        sort = DEFAULT_SORT
    spec = _sort_spec(sort)
    query = parse(data.get("q"))
    filters: list[Node] = [parse(data.get("fq"))]
    fq_list = data.get("fq_list") or []
    fq_list = json.loads(fq_list) if isinstance(fq_list, str) and fq_list.startswith("[") else fq_list
    filters += [parse(f) for f in ([fq_list] if isinstance(fq_list, str) else fq_list)]
    words = words_of(query)

    hits: list[tuple[dict[str, Any], dict[str, list[Any]], float]] = []
    for pkg in packages:
        if pkg.get("private") and not include_private:
            continue
        doc = _cached_doc(pkg)
        if matches(query, doc, TEXT_FIELDS) and all(matches(f, doc, TEXT_FIELDS) for f in filters):
            hits.append((pkg, doc, _score(words, doc) if words else 1.0))
    for field, descending in reversed(spec):  # stable sorts, last key first
        hits.sort(key=_hit_key(field), reverse=descending)

    use_facets = str(data.get("facet", "true")).lower() != "false"
    facets, search_facets = _facets(facet_fields if use_facets else [], [h[1] for h in hits], [h[0] for h in hits],
                                    facet_limit if facet_limit is not None else FACET_LIMIT, facet_mincount or 0)
    page = [h[0] for h in hits[start:start + rows]]
    fl = data.get("fl")
    if fl:
        names = fl.replace(",", " ").split() if isinstance(fl, str) else list(fl)
        page = [{n: pkg.get(n) for n in names} for pkg in page]
    return {"count": len(hits), "facets": facets, "results": page, "sort": sort, "search_facets": search_facets}
