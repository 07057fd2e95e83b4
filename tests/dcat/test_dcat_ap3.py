"""DCAT-AP 3 conformance of what the hub publishes, and what ckanext-dcat's RDF parser makes of it.

pyshacl checks the catalogue against the constraints the hub once broke (tests/dcat/hub_dcat_ap3_shapes.ttl),
and against the official DCAT-AP 3.0.0 and 2.1.1 shapes files when present: HUB_DCAT_AP_SHAPES and
HUB_DCAT_AP2_SHAPES name them, else the copies in tests/dcat/shapes/ (SEMIC's files, CC-BY 4.0, see NOTICE.md).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import requests
from ckanapi import RemoteCKAN
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SH, SKOS, XSD

from core.config import PROJECT_ROOT
from tests.ckan.conftest import RunningHub, district_hub  # noqa: F401 - the fixture, for federated packages

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
OUR_SHAPES = Path(__file__).with_name("hub_dcat_ap3_shapes.ttl")
OPEN = {"accommodation", "admin-units", "heritage-sites", "sports-venues", "travel-agencies"}
# CKAN 2.11's licence register as ckanext-dcat's parser reads it (ckan/model/license.py): id -> (url, title)
CKAN_LICENCES = {
    "cc-by": ("http://www.opendefinition.org/licenses/cc-by", "Creative Commons Attribution"),
    "cc-by-sa": ("http://www.opendefinition.org/licenses/cc-by-sa", "Creative Commons Attribution Share-Alike"),
    "cc-zero": ("http://www.opendefinition.org/licenses/cc-zero", "Creative Commons CCZero"),
    "odc-odbl": ("http://www.opendefinition.org/licenses/odc-odbl", "Open Data Commons Open Database License (ODbL)"),
    "other-open": ("", "Other (Open)"),
}


SHAPES = {"3.0.0": "HUB_DCAT_AP_SHAPES", "2.1.1": "HUB_DCAT_AP2_SHAPES"}


def official_shapes(version: str) -> Path | None:
    candidates = [os.environ.get(SHAPES[version]), str(Path(__file__).with_name("shapes") / f"dcat-ap-{version}-SHACL.ttl")]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def _catalog(url: str, path: str = "/catalog.ttl") -> Graph:
    answer = requests.get(f"{url}{path}", timeout=60)
    assert answer.status_code == 200, answer.text[:200]
    return Graph().parse(data=answer.text, format="turtle")


def _violations(graph: Graph, shapes: Path) -> list[str]:
    conforms, report, _ = validate(graph, shacl_graph=Graph().parse(shapes, format="turtle"), inference="none",
                                   allow_warnings=True)
    return [f"{report.value(r, SH.focusNode)} {report.value(r, SH.resultPath)}: {report.value(r, SH.resultMessage)}"
            for r in report.subjects(RDF.type, SH.ValidationResult)
            if report.value(r, SH.resultSeverity) == SH.Violation]


def ckan_licence_id(graph: Graph, dataset: URIRef) -> str:
    """What ckanext-dcat's parser sets as license_id: the first distribution licence whose URI, then title,
    CKAN's register knows (ckanext/dcat/profiles/base.py `_license`)."""
    by_url = {url: key for key, (url, _) in CKAN_LICENCES.items() if url}
    by_title = {title: key for key, (_, title) in CKAN_LICENCES.items()}
    for dist in graph.objects(dataset, DCAT.distribution):
        licence = graph.value(dist, DCTERMS.license)
        if licence is not None:
            found = by_url.get(str(licence)) or by_title.get(str(graph.value(licence, DCTERMS.title)))
            if found:
                return found
    return ""


def _federate(hub: RunningHub) -> dict:
    peer = RemoteCKAN(hub.url, apikey=hub.key)
    peer.action.organization_create(name="xa-phu-ly", title="UBND xã Phú Lý")
    peer.action.package_create(name="ho-so-noi-bo", owner_org="xa-phu-ly", private=True)
    return peer.action.package_create(
        name="le-hoi-phu-ly", title="Lễ hội xã Phú Lý", owner_org="xa-phu-ly", license_id="odc-odbl",
        maintainer="Văn phòng UBND xã", maintainer_email="vp@phuly.example.vn", url="https://phuly.example.vn/",
        tags=[{"name": "lễ hội"}], groups=[{"name": "culture"}],
        resources=[{"name": "Lịch", "url": "https://phuly.example.vn/lich.csv", "format": "CSV", "size": 120},
                   {"name": "Không có địa chỉ", "url": ""}])


def test_the_catalogue_meets_the_dcat_ap3_constraints_the_hub_once_broke(live_hub) -> None:  # noqa: ANN001
    graph = _catalog(live_hub.url)
    assert _violations(graph, OUR_SHAPES) == []
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    assert (graph.value(catalog, FOAF.homepage), RDF.type, FOAF.Document) in graph
    heritage = URIRef(f"{live_hub.url}/dcat/datasets/heritage-sites")
    assert (graph.value(heritage, DCAT.landingPage), RDF.type, FOAF.Document) in graph
    assert (graph.value(heritage, DCAT.contactPoint), RDF.type, VCARD.Kind) in graph
    assert str(graph.value(heritage, DCTERMS.modified)).endswith("+00:00")
    places = {str(graph.value(p, SKOS.prefLabel)) for p in graph.objects(heritage, DCTERMS.spatial)} | {
        str(label) for p in graph.objects(heritage, DCTERMS.spatial) for label in graph.objects(p, SKOS.prefLabel)}
    assert "Tỉnh Đồng Nai" in places
    with (PROJECT_ROOT / "samples" / "heritage-sites.csv").open(encoding="utf-8") as handle:
        dates = sorted(r["decision_date"] for r in csv.DictReader(handle) if r["decision_date"])
    period = graph.value(heritage, DCTERMS.temporal)
    assert (str(graph.value(period, DCAT.startDate)), str(graph.value(period, DCAT.endDate))) == (dates[0], dates[-1])
    assert graph.value(period, DCAT.startDate).datatype == XSD.date
    assert graph.value(URIRef(f"{live_hub.url}/dcat/datasets/accommodation"), DCTERMS.temporal) is None  # no dates
    csv_dist = URIRef(f"{heritage}/distributions/csv")
    assert str(graph.value(csv_dist, DCATAP.availability)).endswith("/planned-availability/STABLE")
    licence = graph.value(csv_dist, DCTERMS.license)
    assert str(licence) == "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"
    assert str(graph.value(licence, DCTERMS.identifier)) == "cc-by"


def test_ckanext_dcat_finds_a_ckan_licence_id_for_every_dataset(live_hub) -> None:  # noqa: ANN001
    graph = _catalog(live_hub.url)
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert {str(graph.value(d, DCTERMS.identifier)) for d in datasets} == OPEN
    assert {str(graph.value(d, DCTERMS.identifier)): ckan_licence_id(graph, d) for d in datasets} == {
        name: "cc-by" for name in OPEN}


def test_federated_packages_are_in_dcat_too(district_hub: RunningHub) -> None:  # noqa: F811
    created = _federate(district_hub)
    graph = _catalog(district_hub.url)
    node = URIRef(f"{district_hub.url}/dataset/{created['id']}")
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert str(graph.value(node, DCTERMS.title)) == "Lễ hội xã Phú Lý"
    assert ckan_licence_id(graph, node) == "odc-odbl"
    assert len(list(graph.objects(node, DCAT.distribution))) == 1  # the resource without an address is left out
    assert "ho-so-noi-bo" not in {str(graph.value(d, DCTERMS.identifier)) for d in
                                  graph.subjects(RDF.type, DCAT.Dataset)}
    assert all("ho-so-noi-bo" not in str(s) for s in graph.subjects())
    assert _violations(graph, OUR_SHAPES) == []
    one = requests.get(f"{district_hub.url}/dataset/le-hoi-phu-ly.jsonld", timeout=30)
    assert one.status_code == 200 and str(node) in one.text
    assert requests.get(f"{district_hub.url}/dataset/ho-so-noi-bo.ttl", timeout=30).status_code == 404
    uri = requests.get(str(node), headers={"Accept": "application/ld+json"}, timeout=30)  # the URI dereferences
    assert uri.headers["Content-Type"].startswith("application/ld+json") and str(node) in uri.text
    page = requests.get(f"{district_hub.url}/dataset/bien-hoa-wards", headers={"Accept": "text/html"},
                        allow_redirects=False, timeout=30)
    assert page.status_code == 302 and page.headers["Location"].endswith("/datasets/bien-hoa-wards")
    listed = requests.get(f"{district_hub.url}/dcat.json", timeout=30).json()
    assert "Lễ hội xã Phú Lý" in [d["title"] for d in listed]


@pytest.mark.skipif(not any(official_shapes(v) for v in SHAPES), reason="no DCAT-AP shapes file on this machine")
def test_the_official_dcat_ap_shapes_find_no_violation(live_hub, district_hub: RunningHub) -> None:  # noqa: ANN001,F811
    _federate(district_hub)
    catalogs = {url: _catalog(url) for url in (live_hub.url, district_hub.url)}
    for version in SHAPES:
        shapes = official_shapes(version)
        for url, graph in catalogs.items():
            assert shapes is None or _violations(graph, shapes) == [], (version, url)
