"""DCAT-AP graphs of the open catalogue (rdflib), for portals and harvesters that read RDF.

Built from the same facts as the CKAN API (publish/metadata.py): catalog.yaml for titles, descriptions,
keywords, themes, publishers, contacts and licences; the Table Schema for the data dictionary and the
spatial extent; the store's loads for the dates. Every property DCAT-AP makes mandatory is present, and the
recommended ones we can derive. Only open datasets are described, as the anonymous citizen sees them.

Vocabularies: the EU Publications Office authority tables for themes, file types, frequencies, languages and
access rights (what DCAT-AP asks for), plus our own theme scheme (catalog.yaml's themes) beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, SKOS, XSD

from core.catalog import Catalog, Dataset
from publish.access import ANONYMOUS, can_see_dataset
from publish.metadata import Facts, contact, dataset_facts, download_url, landing_url, resource_kinds
from publish.store import Store

__all__ = ["DATASETS_PER_PAGE", "FORMATS", "Paging", "catalog_graph", "catalog_state", "dataset_graph", "dataset_uri",
           "dcat_json", "open_datasets", "serialize"]

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"

# Crosswalks from our catalogue's words to the EU authority tables DCAT-AP uses.
EU_THEMES = {"culture": "EDUC", "heritage": "EDUC", "sports": "EDUC", "tourism": "ECON", "licensing": "GOVE",
             "administrative": "REGI"}
EU_FREQUENCIES = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "quarterly": "QUARTERLY",
                  "annual": "ANNUAL", "irregular": "IRREG"}
EU_FILE_TYPES = {"csv": "CSV", "geojson": "GEOJSON", "dictionary": "JSON"}
EU_LANGUAGES = {"vi": "VIE", "en": "ENG"}

# format name -> (rdflib serializer, media type); the names ckanext-dcat's addresses use (xml and n3 too)
FORMATS = {"ttl": ("turtle", "text/turtle"), "jsonld": ("json-ld", "application/ld+json"),
           "rdf": ("xml", "application/rdf+xml"), "xml": ("xml", "application/rdf+xml"), "n3": ("n3", "text/n3")}
DATASETS_PER_PAGE = 100  # as ckanext-dcat's catalogue pages (ckanext.dcat.datasets_per_page)
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "owl": OWL, "skos": SKOS, "vcard": VCARD, "adms": ADMS, "gsp": GSP,
            "xsd": XSD}


def open_datasets(catalog: Catalog) -> list[Dataset]:
    return [ds for ds in catalog if can_see_dataset(ds, ANONYMOUS)]


def dataset_uri(base: str, dataset: Dataset) -> URIRef:
    return URIRef(f"{base}/dcat/datasets/{dataset.id}")


def _texts(graph: Graph, subject: Any, predicate: URIRef, value: Any) -> None:
    """A {vi, en} text (or a plain string) as language-tagged literals."""
    if isinstance(value, dict):
        for lang, text in value.items():
            if text:
                graph.add((subject, predicate, Literal(text, lang=lang)))
    elif value:
        graph.add((subject, predicate, Literal(value, lang="vi")))


def _time(value: datetime) -> Literal:
    return Literal(value.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def _new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    return graph


def _publisher(graph: Graph, catalog: Catalog, base: str, publisher: str) -> URIRef:
    entry = catalog.publishers[publisher]
    node = URIRef(f"{base}/publishers/{publisher}")
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, RDF.type, FOAF.Organization))
    _texts(graph, node, FOAF.name, entry.get("name"))
    graph.add((node, DCTERMS.type, URIRef("http://purl.org/adms/publishertype/RegionalAuthority")))
    if entry.get("email"):
        graph.add((node, FOAF.mbox, URIRef(f"mailto:{entry['email']}")))
    if entry.get("url"):
        graph.add((node, FOAF.homepage, URIRef(entry["url"])))
    return node


def _themes(graph: Graph, catalog: Catalog, base: str) -> URIRef:
    scheme = URIRef(f"{base}/themes")
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Literal("Chủ đề dữ liệu văn hóa, thể thao và du lịch Đồng Nai", lang="vi")))
    graph.add((scheme, DCTERMS.title, Literal("Đồng Nai culture, sports and tourism data themes", lang="en")))
    for theme, entry in catalog.themes.items():
        concept = URIRef(f"{base}/themes/{theme}")
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.inScheme, scheme))
        _texts(graph, concept, SKOS.prefLabel, entry.get("title"))
    return scheme


def _spatial(graph: Graph, dataset: Dataset) -> BNode | None:
    """The bounding box the schema allows for a point dataset (its latitude/longitude min and max)."""
    geometry = dataset.schema.geometry or {}
    if geometry.get("type") != "point":
        return None
    lat = dataset.schema.field(geometry["latitude"]).constraints
    lon = dataset.schema.field(geometry["longitude"]).constraints
    if not all(k in c for c in (lat, lon) for k in ("minimum", "maximum")):
        return None
    x1, x2, y1, y2 = lon["minimum"], lon["maximum"], lat["minimum"], lat["maximum"]
    location = BNode()
    graph.add((location, RDF.type, DCTERMS.Location))
    graph.add((location, DCAT.bbox, Literal(f"POLYGON(({x1} {y1}, {x2} {y1}, {x2} {y2}, {x1} {y2}, {x1} {y1}))",
                                            datatype=GSP.wktLiteral)))
    return location


def add_dataset(graph: Graph, catalog: Catalog, base: str, dataset: Dataset, facts: Facts, lang: str = "vi") -> URIRef:
    node = dataset_uri(base, dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    _texts(graph, node, DCTERMS.title, dataset.entry.get("title"))
    _texts(graph, node, DCTERMS.description, dataset.entry.get("description"))
    graph.add((node, DCTERMS.identifier, Literal(dataset.id)))
    graph.add((node, DCTERMS.publisher, _publisher(graph, catalog, base, dataset.publisher)))
    graph.add((node, DCTERMS.issued, _time(facts.created)))
    graph.add((node, DCTERMS.modified, _time(facts.modified)))
    graph.add((node, DCTERMS.accessRights, URIRef(f"{EU}access-right/PUBLIC")))
    graph.add((node, DCAT.landingPage, URIRef(landing_url(base, dataset))))
    for code in sorted({EU_LANGUAGES.get(lang, "VIE"), "VIE"}):
        graph.add((node, DCTERMS.language, URIRef(f"{EU}language/{code}")))
    if facts.version:
        graph.add((node, OWL.versionInfo, Literal(str(facts.version))))
    frequency = EU_FREQUENCIES.get(dataset.entry.get("frequency") or "")
    if frequency:
        graph.add((node, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/{frequency}")))
    for kw_lang in ("vi", "en"):
        for word in dataset.keywords(kw_lang):
            graph.add((node, DCAT.keyword, Literal(word, lang=kw_lang)))
    for theme in dataset.themes:
        graph.add((node, DCAT.theme, URIRef(f"{base}/themes/{theme}")))
        if theme in EU_THEMES:
            graph.add((node, DCAT.theme, URIRef(f"{EU}data-theme/{EU_THEMES[theme]}")))
    who = contact(catalog, dataset)
    point = BNode()
    graph.add((node, DCAT.contactPoint, point))
    graph.add((point, RDF.type, VCARD.Organization))
    graph.add((point, VCARD.fn, Literal(who["name"], lang="vi")))
    if who["email"]:
        graph.add((point, VCARD.hasEmail, URIRef(f"mailto:{who['email']}")))
    location = _spatial(graph, dataset)
    if location is not None:
        graph.add((node, DCTERMS.spatial, location))
    _distributions(graph, catalog, base, dataset, facts, node)
    return node


def _distributions(graph: Graph, catalog: Catalog, base: str, dataset: Dataset, facts: Facts, node: URIRef) -> None:
    licence = catalog.licences.get(dataset.licence) or {}
    licence_node = URIRef(licence["url"]) if licence.get("url") else None
    if licence_node is not None:
        graph.add((licence_node, RDF.type, DCTERMS.LicenseDocument))
        graph.add((licence_node, DCTERMS.title, Literal(licence.get("title") or dataset.licence)))
    kinds = resource_kinds(dataset)
    schema_url = next((URIRef(download_url(base, dataset, k)) for k in kinds if k.kind == "dictionary"), None)
    if schema_url is not None:
        graph.add((schema_url, RDF.type, DCTERMS.Standard))
        graph.add((schema_url, DCTERMS.title, Literal("Frictionless Table Schema")))
    for kind in kinds:
        if kind.kind == "dictionary":
            continue
        dist = URIRef(f"{node}/distributions/{kind.kind}")
        url = URIRef(download_url(base, dataset, kind))
        graph.add((node, DCAT.distribution, dist))
        graph.add((dist, RDF.type, DCAT.Distribution))
        for text_lang in ("vi", "en"):
            graph.add((dist, DCTERMS.title, Literal(f"{dataset.title(text_lang)} — {kind.label[text_lang]}",
                                                    lang=text_lang)))
        _texts(graph, dist, DCTERMS.description, kind.description)
        graph.add((dist, DCAT.accessURL, url))
        graph.add((dist, DCAT.downloadURL, url))
        graph.add((dist, DCTERMS.format, URIRef(f"{EU}file-type/{EU_FILE_TYPES[kind.kind]}")))
        graph.add((dist, DCAT.mediaType, URIRef(f"{IANA}{kind.mimetype}")))
        graph.add((dist, DCTERMS.modified, _time(facts.data_modified or facts.modified)))
        if licence_node is not None:
            graph.add((dist, DCTERMS.license, licence_node))
        if schema_url is not None:
            graph.add((dist, DCTERMS.conformsTo, schema_url))


def _catalog_node(graph: Graph, catalog: Catalog, base: str) -> URIRef:
    node = URIRef(f"{base}/dcat/catalog")
    site = catalog.site
    graph.add((node, RDF.type, DCAT.Catalog))
    _texts(graph, node, DCTERMS.title, site.get("title"))
    _texts(graph, node, DCTERMS.description, site.get("description"))
    root = next((p for p, e in catalog.publishers.items() if not e.get("parent")), next(iter(catalog.publishers)))
    graph.add((node, DCTERMS.publisher, _publisher(graph, catalog, base, root)))
    graph.add((node, FOAF.homepage, URIRef(f"{base}/")))
    graph.add((node, DCTERMS.language, URIRef(f"{EU}language/VIE")))
    graph.add((node, DCAT.themeTaxonomy, _themes(graph, catalog, base)))
    return node


def catalog_state(store: Store) -> tuple[Any, ...]:
    """What the documents depend on from the store: changes when a load or the catalogue changes, so a
    serialized document may be kept until then."""
    facts = dataset_facts(store, open_datasets(store.catalog))
    return tuple(sorted((k, f.version, f.modified, f.records) for k, f in facts.items()))


@dataclass(frozen=True)
class Paging:
    """Which page of the catalogue to describe, as ckanext-dcat's /catalog.<format>?page=N&modified_since=..."""

    page: int = 1
    per_page: int = DATASETS_PER_PAGE
    modified_since: datetime | None = None  # naive UTC
    url: Callable[[int], str] | None = None  # the address of page N, for the hydra:PagedCollection links


def catalog_graph(store: Store, base: str, lang: str = "vi", paging: Paging | None = None) -> Graph:
    """The open catalogue: the dcat:Catalog and the open datasets with their distributions, most recently
    modified first; with `paging`, one page of them and a hydra:PagedCollection saying where the others are."""
    graph = _new_graph()
    node = _catalog_node(graph, store.catalog, base)
    datasets = open_datasets(store.catalog)
    facts = dataset_facts(store, datasets)
    if datasets:
        graph.add((node, DCTERMS.modified, _time(max(f.modified for f in facts.values()))))
    since = paging.modified_since if paging else None
    chosen = sorted((ds for ds in datasets if since is None or facts[ds.id].modified >= since),
                    key=lambda ds: (facts[ds.id].modified, ds.id), reverse=True)
    shown = chosen
    if paging is not None:
        start = (paging.page - 1) * paging.per_page
        shown = chosen[start:start + paging.per_page]
        if chosen and paging.url is not None:
            _paging_triples(graph, paging, len(chosen))
    for ds in shown:
        graph.add((node, DCAT.dataset, add_dataset(graph, store.catalog, base, ds, facts[ds.id], lang)))
    return graph


def _paging_triples(graph: Graph, paging: Paging, count: int) -> None:
    """hydra:PagedCollection with the newer and the deprecated names, as ckanext-dcat writes and reads them."""
    assert paging.url is not None
    graph.bind("hydra", HYDRA)
    last = max(1, -(-count // paging.per_page))
    node = URIRef(paging.url(paging.page))
    graph.add((node, RDF.type, HYDRA.PagedCollection))
    links = {"first": 1, "last": last, "next": paging.page + 1 if paging.page < last else None,
             "previous": min(paging.page - 1, last) if paging.page > 1 else None}
    for name, number in links.items():
        if number is not None:
            for predicate in (HYDRA[name], HYDRA[f"{name}Page"]):
                graph.add((node, predicate, Literal(paging.url(number))))
    graph.add((node, HYDRA.totalItems, Literal(count)))
    graph.add((node, HYDRA.itemsPerPage, Literal(paging.per_page)))


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


def dataset_graph(store: Store, dataset: Dataset, base: str, lang: str = "vi") -> Graph:
    """One open dataset (the caller checked it is open), with the theme scheme its themes belong to."""
    graph = _new_graph()
    _themes(graph, store.catalog, base)
    add_dataset(graph, store.catalog, base, dataset, dataset_facts(store, [dataset])[dataset.id], lang)
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    serializer, _ = FORMATS[fmt]
    if serializer == "json-ld":
        return graph.serialize(format="json-ld", context={k: str(v) for k, v in PREFIXES.items()}, indent=2)
    return graph.serialize(format=serializer)
