"""DCAT-AP graphs of the open catalogue (rdflib), for portals and harvesters that read RDF.

Built from the same facts as the CKAN API (publish/metadata.py): catalog.yaml for titles, descriptions,
keywords, themes, publishers, contacts and licences; the Table Schema for the data dictionary and the
spatial extent; the store's loads for the dates. Every property DCAT-AP makes mandatory is present, and the
recommended ones we can derive. Only open datasets are described, as the anonymous citizen sees them.

Vocabularies: the EU Publications Office authority tables for themes, file types, frequencies, languages,
access rights, licences and planned availability (what DCAT-AP asks for; crosswalks in publish/dcat_vocab.py),
plus our own theme scheme (catalog.yaml's themes) beside them. Every value DCAT-AP 3 expects of a class is
typed in the graph itself (landing pages foaf:Document, contact points vcard:Kind, vocabulary terms), so the
DCAT-AP 3.0.0 SHACL shapes pass without loading other vocabularies; instants carry their time zone. Each
dataset covers the province (dct:spatial) and, when its records hold dates, the period they span
(dct:temporal, from the current version). Public packages peers federated are described too (`add_package`),
from what their CKAN dictionary states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD

from core.catalog import Catalog, Dataset
from publish.access import ANONYMOUS, can_see_dataset
from publish.dcat_vocab import AVAILABILITY, CONCEPT_LABELS, Licence, file_type_for, licence_for
from publish.listing import listed
from publish.metadata import (
    Facts,
    contact,
    dataset_facts,
    download_url,
    landing_url,
    resource_kinds,
    temporal_extent,
)
from publish.store import Store

__all__ = ["DATASETS_PER_PAGE", "FORMATS", "Paging", "add_package", "catalog_graph", "catalog_state", "dataset_graph",
           "dataset_uri", "open_datasets", "package_graph", "package_uri", "serialize"]

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# the place every dataset of the hub is about
PROVINCE = {"id": "dong-nai", "vi": "Tỉnh Đồng Nai", "en": "Đồng Nai province", "country": f"{EU}country/VNM"}

# Crosswalks from our catalogue's words to the EU authority tables DCAT-AP uses.
EU_THEMES = {"culture": "EDUC", "heritage": "EDUC", "sports": "EDUC", "tourism": "ECON", "licensing": "GOVE",
             "administrative": "REGI"}
EU_FREQUENCIES = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "quarterly": "QUARTERLY",
                  "annual": "ANNUAL", "biannual": "BIANNUAL", "irregular": "IRREG"}
EU_FILE_TYPES = {"csv": "CSV", "geojson": "GEOJSON", "dictionary": "JSON"}
EU_LANGUAGES = {"vi": "VIE", "en": "ENG"}

# format name -> (rdflib serializer, media type); the names ckanext-dcat's addresses use (xml and n3 too)
FORMATS = {"ttl": ("turtle", "text/turtle"), "jsonld": ("json-ld", "application/ld+json"),
           "rdf": ("xml", "application/rdf+xml"), "xml": ("xml", "application/rdf+xml"), "n3": ("n3", "text/n3")}
DATASETS_PER_PAGE = 100  # as ckanext-dcat's catalogue pages (ckanext.dcat.datasets_per_page)
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "owl": OWL, "skos": SKOS, "vcard": VCARD, "adms": ADMS, "gsp": GSP,
            "xsd": XSD, "dcatap": DCATAP, "rdfs": RDFS}


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


def _time(value: datetime | str) -> Literal:
    """An instant with its time zone (the store keeps naive UTC): 2025-06-01T10:00:00+00:00."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return Literal(value.astimezone(UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


N = TypeVar("N", URIRef, BNode)


def _typed(graph: Graph, node: N, *classes: URIRef) -> N:
    """`node` with its classes stated, so DCAT-AP's class checks pass without loading other vocabularies (the
    EU authority tables, IANA media types) and without RDFS inference."""
    for cls in classes:
        graph.add((node, RDF.type, cls))
    return node


def _concept(graph: Graph, uri: str) -> URIRef:
    """A concept of another vocabulary (EU authority tables, ADMS), typed and labelled."""
    node = _typed(graph, URIRef(uri), SKOS.Concept)
    if uri in CONCEPT_LABELS:
        graph.add((node, SKOS.prefLabel, Literal(CONCEPT_LABELS[uri], lang="en")))
    return node


def _document(graph: Graph, url: str) -> URIRef:
    return _typed(graph, URIRef(url), FOAF.Document)


def _licence(graph: Graph, licence: Licence | None, url: str | None, title: str | None) -> URIRef | None:
    """The licence node: the EU table's URI titled as CKAN titles it (ckanext-dcat matches the title to its
    register), with CKAN's id; else the licence's own page."""
    if licence is None:
        if not url:
            return None
        node = _typed(graph, URIRef(url), DCTERMS.LicenseDocument)
        graph.add((node, DCTERMS.title, Literal(title or url)))
        return node
    node = _typed(graph, URIRef(licence.eu), DCTERMS.LicenseDocument)
    graph.add((node, DCTERMS.title, Literal(licence.ckan_title)))
    graph.add((node, DCTERMS.identifier, Literal(licence.ckan_id)))
    if title and title != licence.ckan_title:
        graph.add((node, RDFS.label, Literal(title)))
    if licence.page:
        graph.add((node, OWL.sameAs, URIRef(licence.page)))
    return node


def _contact_point(graph: Graph, name: str | None, email: str | None) -> BNode:
    point = _typed(graph, BNode(), VCARD.Kind, VCARD.Organization)
    if name:
        graph.add((point, VCARD.fn, Literal(name)))
    if email:
        graph.add((point, VCARD.hasEmail, URIRef(f"mailto:{email}")))
    return point


def _province(graph: Graph, catalog: Catalog, base: str) -> URIRef:
    """The province as a dct:Location: named, inside Vietnam, with the box every dataset's coordinates must
    fall in (the union of the schemas' latitude/longitude limits)."""
    node = _typed(graph, URIRef(f"{base}/dcat/places/{PROVINCE['id']}"), DCTERMS.Location)
    graph.add((node, SKOS.prefLabel, Literal(PROVINCE["vi"], lang="vi")))
    graph.add((node, SKOS.prefLabel, Literal(PROVINCE["en"], lang="en")))
    country = _typed(graph, URIRef(PROVINCE["country"]), DCTERMS.Location)
    graph.add((node, DCTERMS.isPartOf, country))
    boxes = [b for b in (_bounds(ds) for ds in catalog) if b]
    if boxes:
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        graph.add((node, DCAT.bbox, _wkt_box(box)))
    return node


def _bounds(dataset: Dataset) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) the schema allows for a point dataset."""
    geometry = dataset.schema.geometry or {}
    if geometry.get("type") != "point":
        return None
    lat = dataset.schema.field(geometry["latitude"]).constraints
    lon = dataset.schema.field(geometry["longitude"]).constraints
    if not all(k in c for c in (lat, lon) for k in ("minimum", "maximum")):
        return None
    return lon["minimum"], lat["minimum"], lon["maximum"], lat["maximum"]


def _wkt_box(box: tuple[float, float, float, float]) -> Literal:
    x1, y1, x2, y2 = box
    return Literal(f"POLYGON(({x1} {y1}, {x2} {y1}, {x2} {y2}, {x1} {y2}, {x1} {y1}))", datatype=GSP.wktLiteral)


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
    graph.add((node, DCTERMS.type, _concept(graph, "http://purl.org/adms/publishertype/RegionalAuthority")))
    if entry.get("email"):
        graph.add((node, FOAF.mbox, URIRef(f"mailto:{entry['email']}")))
    if entry.get("url"):
        graph.add((node, FOAF.homepage, _document(graph, entry["url"])))
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
    box = _bounds(dataset)
    if box is None:
        return None
    location = _typed(graph, BNode(), DCTERMS.Location)
    graph.add((location, DCAT.bbox, _wkt_box(box)))
    return location


def _temporal(graph: Graph, first: Any, last: Any) -> BNode:
    period = _typed(graph, BNode(), DCTERMS.PeriodOfTime)
    graph.add((period, DCAT.startDate, Literal(first.isoformat(), datatype=XSD.date)))
    graph.add((period, DCAT.endDate, Literal(last.isoformat(), datatype=XSD.date)))
    return period


def add_dataset(graph: Graph, store: Store, base: str, dataset: Dataset, facts: Facts, lang: str = "vi") -> URIRef:
    """One open dataset with its distributions (the caller checked it is open)."""
    catalog = store.catalog
    node = dataset_uri(base, dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    _texts(graph, node, DCTERMS.title, dataset.entry.get("title"))
    _texts(graph, node, DCTERMS.description, dataset.entry.get("description"))
    graph.add((node, DCTERMS.identifier, Literal(dataset.id)))
    graph.add((node, DCTERMS.publisher, _publisher(graph, catalog, base, dataset.publisher)))
    graph.add((node, DCTERMS.issued, _time(facts.created)))
    graph.add((node, DCTERMS.modified, _time(facts.modified)))
    graph.add((node, DCTERMS.accessRights, _typed(graph, URIRef(f"{EU}access-right/PUBLIC"), DCTERMS.RightsStatement)))
    graph.add((node, DCAT.landingPage, _document(graph, landing_url(base, dataset))))
    for code in sorted({EU_LANGUAGES.get(lang, "VIE"), "VIE"}):
        graph.add((node, DCTERMS.language, _typed(graph, URIRef(f"{EU}language/{code}"), DCTERMS.LinguisticSystem)))
    if facts.version:
        graph.add((node, OWL.versionInfo, Literal(str(facts.version))))
    frequency = EU_FREQUENCIES.get(dataset.entry.get("frequency") or "")
    if frequency:
        graph.add((node, DCTERMS.accrualPeriodicity, _typed(graph, URIRef(f"{EU}frequency/{frequency}"),
                                                            DCTERMS.Frequency)))
    for kw_lang in ("vi", "en"):
        for word in dataset.keywords(kw_lang):
            graph.add((node, DCAT.keyword, Literal(word, lang=kw_lang)))
    for theme in dataset.themes:
        graph.add((node, DCAT.theme, URIRef(f"{base}/themes/{theme}")))
        if theme in EU_THEMES:
            graph.add((node, DCAT.theme, _concept(graph, f"{EU}data-theme/{EU_THEMES[theme]}")))
    who = contact(catalog, dataset)
    graph.add((node, DCAT.contactPoint, _contact_point(graph, who["name"], who["email"])))
    graph.add((node, DCTERMS.spatial, _province(graph, catalog, base)))
    location = _spatial(graph, dataset)
    if location is not None:
        graph.add((node, DCTERMS.spatial, location))
    extent = temporal_extent(store, dataset, facts.version)
    if extent is not None:
        graph.add((node, DCTERMS.temporal, _temporal(graph, *extent)))
    _distributions(graph, store, base, dataset, facts, node)
    return node


def _distributions(graph: Graph, store: Store, base: str, dataset: Dataset, facts: Facts, node: URIRef) -> None:
    catalog = store.catalog
    entry = catalog.licences.get(dataset.licence) or {}
    licence_node = _licence(graph, licence_for(dataset.licence, entry.get("url")), entry.get("url"),
                            entry.get("title") or dataset.licence)
    kinds = resource_kinds(dataset)
    schema_url = next((URIRef(download_url(base, dataset, k)) for k in kinds if k.kind == "dictionary"), None)
    if schema_url is not None:
        graph.add((schema_url, RDF.type, DCTERMS.Standard))
        graph.add((schema_url, DCTERMS.title, Literal("Frictionless Table Schema")))
    for kind in kinds:
        if kind.kind == "dictionary":
            continue
        dist = URIRef(f"{node}/distributions/{kind.kind}")
        url = _typed(graph, URIRef(download_url(base, dataset, kind)), RDFS.Resource)
        graph.add((node, DCAT.distribution, dist))
        graph.add((dist, RDF.type, DCAT.Distribution))
        for text_lang in ("vi", "en"):
            graph.add((dist, DCTERMS.title, Literal(f"{dataset.title(text_lang)} — {kind.label[text_lang]}",
                                                    lang=text_lang)))
        _texts(graph, dist, DCTERMS.description, kind.description)
        graph.add((dist, DCAT.accessURL, url))
        graph.add((dist, DCAT.downloadURL, url))
        graph.add((dist, DCTERMS.format, _typed(graph, URIRef(f"{EU}file-type/{EU_FILE_TYPES[kind.kind]}"),
                                                DCTERMS.MediaTypeOrExtent)))
        graph.add((dist, DCAT.mediaType, _typed(graph, URIRef(f"{IANA}{kind.mimetype}"), DCTERMS.MediaType)))
        graph.add((dist, DCTERMS.modified, _time(facts.data_modified or facts.modified)))
        # kept as long as the hub runs: every version stays downloadable
        graph.add((dist, DCATAP.availability, _concept(graph, f"{AVAILABILITY}STABLE")))
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
    graph.add((node, FOAF.homepage, _document(graph, f"{base}/")))
    graph.add((node, DCTERMS.language, _typed(graph, URIRef(f"{EU}language/VIE"), DCTERMS.LinguisticSystem)))
    graph.add((node, DCTERMS.spatial, _province(graph, catalog, base)))
    graph.add((node, DCAT.themeTaxonomy, _themes(graph, catalog, base)))
    return node


def catalog_state(store: Store) -> tuple[Any, ...]:
    """What the documents depend on from the store: changes when a load or the catalogue changes, so a
    serialized document may be kept until then."""
    facts = dataset_facts(store, listed(store, open_datasets(store.catalog)))
    return tuple(sorted((k, f.version, f.modified, f.records) for k, f in facts.items()))


@dataclass(frozen=True)
class Paging:
    """Which page of the catalogue to describe, as ckanext-dcat's /catalog.<format>?page=N&modified_since=..."""

    page: int = 1
    per_page: int = DATASETS_PER_PAGE
    modified_since: datetime | None = None  # naive UTC
    url: Callable[[int], str] | None = None  # the address of page N, for the hydra:PagedCollection links


def catalog_graph(store: Store, base: str, lang: str = "vi", paging: Paging | None = None, *,
                  packages: Sequence[dict[str, Any]] = ()) -> Graph:
    """The open catalogue: the dcat:Catalog, the open datasets with their distributions and the public
    packages peers federated (`packages`, CKAN dictionaries), most recently modified first; with `paging`, one
    page of them and a hydra:PagedCollection saying where the others are."""
    graph = _new_graph()
    node = _catalog_node(graph, store.catalog, base)
    datasets = listed(store, open_datasets(store.catalog))
    facts = dataset_facts(store, datasets)
    entries: list[tuple[datetime, str, Dataset | dict[str, Any]]] = \
        [(facts[ds.id].modified, ds.id, ds) for ds in datasets] + \
        [(datetime.fromisoformat(p["metadata_modified"]), p["name"], p) for p in packages if not p.get("private")]
    if entries:
        graph.add((node, DCTERMS.modified, _time(max(e[0] for e in entries))))
    since = paging.modified_since if paging else None
    chosen = sorted((e for e in entries if since is None or e[0] >= since), key=lambda e: (e[0], e[1]), reverse=True)
    shown = chosen
    if paging is not None:
        start = (paging.page - 1) * paging.per_page
        shown = chosen[start:start + paging.per_page]
        if chosen and paging.url is not None:
            _paging_triples(graph, paging, len(chosen))
    for _, _, item in shown:
        if isinstance(item, Dataset):
            graph.add((node, DCAT.dataset, add_dataset(graph, store, base, item, facts[item.id], lang)))
        else:
            graph.add((node, DCAT.dataset, add_package(graph, store.catalog, base, item)))
    return graph


def package_uri(base: str, package: dict[str, Any]) -> URIRef:
    """A federated package's URI, as ckanext-dcat makes one for a package without its own (`/dataset/<id>`)."""
    return URIRef(f"{base}/dataset/{package['id']}")


def _iri(value: Any) -> URIRef | None:
    """An http(s) address as an IRI, or None (peers' packages may hold anything in a URL field)."""
    text = str(value or "").strip()
    if not text.lower().startswith(("http://", "https://")) or any(c in text for c in ' <>"{}|\\^`'):
        return None
    return URIRef(text)


def add_package(graph: Graph, catalog: Catalog, base: str, package: dict[str, Any]) -> URIRef:
    """A package a peer federated (a CKAN dictionary) as a DCAT-AP dataset: what it says, nothing assumed (no
    language, place or period it does not state). Its description is its title when it has none."""
    node = _typed(graph, package_uri(base, package), DCAT.Dataset)
    title = package.get("title") or package["name"]
    graph.add((node, DCTERMS.title, Literal(title)))
    graph.add((node, DCTERMS.description, Literal(package.get("notes") or title)))
    graph.add((node, DCTERMS.identifier, Literal(package["id"])))
    graph.add((node, DCTERMS.issued, _time(package["metadata_created"])))
    graph.add((node, DCTERMS.modified, _time(package["metadata_modified"])))
    graph.add((node, DCTERMS.accessRights, _typed(graph, URIRef(f"{EU}access-right/PUBLIC"), DCTERMS.RightsStatement)))
    org = package.get("organization") or {}
    if org.get("name"):
        agent = _typed(graph, URIRef(f"{base}/organizations/{org['name']}"), FOAF.Agent, FOAF.Organization)
        graph.add((agent, FOAF.name, Literal(org.get("title") or org["name"])))
        graph.add((node, DCTERMS.publisher, agent))
    if (landing := _iri(package.get("url"))) is not None:
        graph.add((node, DCAT.landingPage, _typed(graph, landing, FOAF.Document)))
    name = package.get("maintainer") or package.get("author")
    email = package.get("maintainer_email") or package.get("author_email")
    if name or email:
        graph.add((node, DCAT.contactPoint, _contact_point(graph, name, email)))
    if package.get("version"):
        graph.add((node, OWL.versionInfo, Literal(str(package["version"]))))
    for tag in package.get("tags") or []:
        graph.add((node, DCAT.keyword, Literal(tag["name"])))
    for group in package.get("groups") or []:
        if group["name"] in catalog.themes:
            graph.add((node, DCAT.theme, _typed(graph, URIRef(f"{base}/themes/{group['name']}"), SKOS.Concept)))
            if group["name"] in EU_THEMES:
                graph.add((node, DCAT.theme, _concept(graph, f"{EU}data-theme/{EU_THEMES[group['name']]}")))
    licence = _licence(graph, licence_for(package.get("license_id"), package.get("license_url")),
                       package.get("license_url"), package.get("license_title"))
    for resource in package.get("resources") or []:
        url = _iri(resource.get("url"))
        if url is None:
            continue  # DCAT-AP needs an access URL
        dist = _typed(graph, URIRef(f"{node}/resource/{resource['id']}"), DCAT.Distribution)
        graph.add((node, DCAT.distribution, dist))
        graph.add((dist, DCAT.accessURL, _typed(graph, url, RDFS.Resource)))
        if resource.get("url_type") == "upload":
            graph.add((dist, DCAT.downloadURL, url))
        if resource.get("name"):
            graph.add((dist, DCTERMS.title, Literal(resource["name"])))
        if resource.get("description"):
            graph.add((dist, DCTERMS.description, Literal(resource["description"])))
        if (file_type := file_type_for(resource.get("format"))) is not None:
            graph.add((dist, DCTERMS.format, _typed(graph, URIRef(file_type), DCTERMS.MediaTypeOrExtent)))
        mimetype = str(resource.get("mimetype") or "")
        if re.fullmatch(r"[a-z]+/[\w.+-]+", mimetype):
            graph.add((dist, DCAT.mediaType, _typed(graph, URIRef(f"{IANA}{mimetype}"), DCTERMS.MediaType)))
        if resource.get("metadata_modified"):
            graph.add((dist, DCTERMS.modified, _time(resource["metadata_modified"])))
        if licence is not None:
            graph.add((dist, DCTERMS.license, licence))
    return node


def package_graph(catalog: Catalog, package: dict[str, Any], base: str) -> Graph:
    """One federated package (the caller checked it is public), with the theme scheme."""
    graph = _new_graph()
    _themes(graph, catalog, base)
    add_package(graph, catalog, base, package)
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


def dataset_graph(store: Store, dataset: Dataset, base: str, lang: str = "vi") -> Graph:
    """One open dataset (the caller checked it is open), with the theme scheme its themes belong to."""
    graph = _new_graph()
    _themes(graph, store.catalog, base)
    add_dataset(graph, store, base, dataset, dataset_facts(store, [dataset])[dataset.id], lang)
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    serializer, _ = FORMATS[fmt]
    if serializer == "json-ld":
        return graph.serialize(format="json-ld", context={k: str(v) for k, v in PREFIXES.items()}, indent=2)
    return graph.serialize(format=serializer)
