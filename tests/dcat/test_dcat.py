"""DCAT-AP output: parses with rdflib and carries the mandatory properties for every open dataset, nothing else."""

from __future__ import annotations

import pytest
import requests
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF

from publish.context import Hub

# plain namespaces: rdflib's closed DCAT namespace warns when pytest looks at the module's names
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}


def _open_ids(hub: Hub) -> set[str]:
    # a report's statistics dataset is listed once a report is produced (publish/listing.py)
    return {ds.id for ds in hub.catalog if ds.access == "open" and not ds.report}


def assert_dataset_is_complete(graph: Graph, node: URIRef) -> None:
    """Everything DCAT-AP requires (and what we promise): title, description, publisher, contact point,
    themes, modified, and distributions with access URL, format and licence."""
    for predicate in (DCTERMS.title, DCTERMS.description):
        languages = {literal.language for literal in graph.objects(node, predicate)}
        assert {"vi", "en"} <= languages, (node, predicate)
    publisher = graph.value(node, DCTERMS.publisher)
    assert publisher is not None and graph.value(publisher, FOAF.name) is not None
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, VCARD.fn) is not None
    assert str(graph.value(contact, VCARD.hasEmail)).startswith("mailto:")
    themes = set(graph.objects(node, DCAT.theme))
    assert any("data-theme" in str(t) for t in themes) and any(graph.value(t, RDF.type) for t in themes)
    assert graph.value(node, DCTERMS.modified) is not None
    distributions = list(graph.objects(node, DCAT.distribution))
    assert distributions
    for dist in distributions:
        for predicate in (DCAT.accessURL, DCTERMS.format, DCTERMS.license):
            assert graph.value(dist, predicate) is not None, (dist, predicate)


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_catalog_parses_and_describes_every_open_dataset(sample_client, sample_hub: Hub, fmt: str) -> None:  # noqa: ANN001
    answer = sample_client.get(f"/catalog.{fmt}")
    assert answer.status_code == 200
    graph = Graph().parse(data=answer.data.decode("utf-8"), format=FORMATS[fmt])
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    assert graph.value(catalog, DCTERMS.title) is not None and graph.value(catalog, DCTERMS.publisher) is not None
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert {str(graph.value(d, DCTERMS.identifier)) for d in datasets} == _open_ids(sample_hub)
    for node in datasets:
        assert_dataset_is_complete(graph, node)


def test_dataset_documents_for_open_datasets_only(sample_client, sample_hub: Hub) -> None:  # noqa: ANN001
    for dataset_id in _open_ids(sample_hub):
        answer = sample_client.get(f"/dcat/datasets/{dataset_id}.ttl")
        assert answer.status_code == 200 and answer.mimetype == "text/turtle"
        graph = Graph().parse(data=answer.data.decode("utf-8"), format="turtle")
        node = next(graph.subjects(RDF.type, DCAT.Dataset))
        assert str(node).endswith(f"/dcat/datasets/{dataset_id}")
        assert_dataset_is_complete(graph, node)
    assert sample_client.get("/dcat/datasets/licences.ttl").status_code == 404  # shared data: not described
    assert sample_client.get("/dcat/datasets/no-such-dataset.jsonld").status_code == 404


def test_dataset_uri_dereferences_to_rdf_and_links_work(live_hub) -> None:  # noqa: ANN001
    uri = f"{live_hub.url}/dcat/datasets/heritage-sites"
    answer = requests.get(uri, headers={"Accept": "application/ld+json"}, timeout=30)
    assert answer.headers["Content-Type"].startswith("application/ld+json")
    graph = Graph().parse(data=answer.text, format="json-ld")
    node = URIRef(uri)
    assert (node, RDF.type, DCAT.Dataset) in graph
    title = {literal.language: str(literal) for literal in graph.objects(node, DCTERMS.title)}
    assert title == {"vi": "Di tích lịch sử - văn hóa và danh lam thắng cảnh", "en": "Heritage sites"}
    for dist in graph.objects(node, DCAT.distribution):
        download = requests.get(str(graph.value(dist, DCAT.downloadURL)), timeout=30)
        assert download.status_code == 200 and download.content
    schema = requests.get(str(graph.value(next(graph.objects(node, DCAT.distribution)), DCTERMS.conformsTo)),
                          timeout=30).json()
    assert "code" in [f["name"] for f in schema["fields"]]


HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
MEDIA = {"ttl": ("text/turtle", "turtle"), "rdf": ("application/rdf+xml", "xml"),
         "xml": ("application/rdf+xml", "xml"), "jsonld": ("application/ld+json", "json-ld"), "n3": ("text/n3", "n3")}


@pytest.mark.parametrize("fmt", sorted(MEDIA))
def test_ckanext_dcat_dataset_addresses_answer(live_hub, fmt: str) -> None:  # noqa: ANN001
    package_id = requests.get(f"{live_hub.url}/api/3/action/package_show", params={"id": "heritage-sites"},
                              timeout=30).json()["result"]["id"]
    for key in ("heritage-sites", package_id):
        answer = requests.get(f"{live_hub.url}/dataset/{key}.{fmt}", timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(MEDIA[fmt][0])
        graph = Graph().parse(data=answer.text, format=MEDIA[fmt][1])
        assert [str(d) for d in graph.subjects(RDF.type, DCAT.Dataset)] == [
            f"{live_hub.url}/dcat/datasets/heritage-sites"]
    assert requests.get(f"{live_hub.url}/dataset/licences.{fmt}", timeout=30).status_code == 404


def test_ckanext_dcat_catalog_pages(live_hub, sample_hub: Hub) -> None:  # noqa: ANN001
    xml = requests.get(f"{live_hub.url}/catalog.xml", timeout=30)
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/rdf+xml")
    graph = Graph().parse(data=xml.text, format="xml")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == len(_open_ids(sample_hub))

    first = Graph().parse(data=requests.get(f"{live_hub.url}/catalog.ttl?page=1", timeout=30).text, format="turtle")
    paging = next(first.subjects(RDF.type, HYDRA.PagedCollection))
    assert str(paging) == f"{live_hub.url}/catalog.ttl?page=1"
    assert int(first.value(paging, HYDRA.totalItems)) == len(_open_ids(sample_hub))
    assert int(first.value(paging, HYDRA.itemsPerPage)) == 100 and first.value(paging, HYDRA.next) is None
    second = Graph().parse(data=requests.get(f"{live_hub.url}/catalog.ttl?page=2", timeout=30).text, format="turtle")
    assert not set(second.subjects(RDF.type, DCAT.Dataset))
    assert str(second.value(next(second.subjects(RDF.type, HYDRA.PagedCollection)), HYDRA.previous)).endswith("page=1")
    later = requests.get(f"{live_hub.url}/catalog.ttl", params={"modified_since": "2999-01-01T00:00:00Z"}, timeout=30)
    assert not set(Graph().parse(data=later.text, format="turtle").subjects(RDF.type, DCAT.Dataset))
    for bad in ({"page": "0"}, {"page": "mot"}, {"modified_since": "hôm qua"}):
        refused = requests.get(f"{live_hub.url}/catalog.ttl", params=bad, timeout=30)
        assert refused.status_code == 409 and ("Page param" in refused.text or "ISO-8601" in refused.text)


def test_ckanext_dcat_json_lists_the_open_packages(live_hub, sample_hub: Hub) -> None:  # noqa: ANN001
    answer = requests.get(f"{live_hub.url}/dcat.json", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    listed = answer.json()
    assert len(listed) == len(_open_ids(sample_hub))
    modified = [d["modified"] for d in listed]
    assert modified == sorted(modified, reverse=True)
    heritage = next(d for d in listed if d["title"] == "Di tích lịch sử - văn hóa và danh lam thắng cảnh")
    assert heritage["landingPage"].endswith("/datasets/heritage-sites") and "di tích" in heritage["keyword"]
    assert {d["format"] for d in heritage["distribution"]} == {"CSV", "GeoJSON", "JSON"}
    assert all(requests.head(d["accessURL"], timeout=30).status_code == 200 for d in heritage["distribution"])
    assert requests.get(f"{live_hub.url}/dcat.json?page=2", timeout=30).json() == []
