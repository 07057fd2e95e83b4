"""`dcat` sources: a DCAT catalogue (Turtle, JSON-LD or RDF/XML, read with rdflib) naming the distribution to
fetch: the dataset (by dct:identifier, its URI or its title; the only one when not given) and the
distribution's media type or format (default text/csv). The distribution is then fetched with a conditional GET.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from publish.harvest import http
from publish.harvest.base import Fetched, HarvestFailed, Previous

RDF_FORMATS = {"text/turtle": "turtle", "application/x-turtle": "turtle", "application/ld+json": "json-ld",
               "application/rdf+xml": "xml", "application/n-triples": "nt", "text/n3": "n3"}


def distribution(catalogue: bytes, content_type: str, spec: dict[str, Any]) -> tuple[str, str | None]:
    """(download URL, remote modified) of the distribution the declaration names."""
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import DCAT, DCTERMS, RDF

    fmt = RDF_FORMATS.get(content_type) or ("json-ld" if str(spec["url"]).endswith((".jsonld", ".json"))
                                            else "xml" if str(spec["url"]).endswith((".rdf", ".xml")) else "turtle")
    graph = Graph()
    try:
        graph.parse(data=catalogue, format=fmt)
    except Exception as exc:  # noqa: BLE001 - rdflib raises many kinds for a bad document
        raise HarvestFailed(f"Danh mục DCAT không đọc được ({fmt}): {type(exc).__name__}",
                            f"The DCAT catalogue cannot be read ({fmt}): {type(exc).__name__}") from None
    wanted = spec.get("dataset")
    datasets = [d for d in graph.subjects(RDF.type, DCAT.Dataset)
                if not wanted or str(d) == wanted or Literal(wanted) in graph.objects(d, DCTERMS.identifier)
                or any(str(t) == wanted for t in graph.objects(d, DCTERMS.title))]
    if len(datasets) != 1:
        raise HarvestFailed(f"Danh mục DCAT có {len(datasets)} bộ dữ liệu khớp «{wanted or '(bất kỳ)'}», cần đúng 1",
                            f"The DCAT catalogue has {len(datasets)} datasets matching «{wanted or '(any)'}», needs 1")
    media = str(spec.get("media_type", "text/csv")).lower()
    for dist in graph.objects(datasets[0], DCAT.distribution):
        kinds = {str(v).lower().rsplit("/", 1)[-1] if "iana.org" not in str(v) else str(v).lower().split("media-types/")[-1]
                 for p in (DCAT.mediaType, DCTERMS.format) for v in graph.objects(dist, p)}
        if media in kinds or media.rsplit("/", 1)[-1] in kinds:
            link = graph.value(dist, DCAT.downloadURL) or graph.value(dist, DCAT.accessURL)
            if isinstance(link, (URIRef, Literal)):
                modified = graph.value(dist, DCTERMS.modified) or graph.value(datasets[0], DCTERMS.modified)
                return str(link), str(modified) if modified is not None else None
    raise HarvestFailed(f"Bộ dữ liệu trong danh mục DCAT không có bản phân phối {media}",
                        f"The dataset in the DCAT catalogue has no {media} distribution")


def fetch(spec: dict[str, Any], previous: Previous, workdir: Path, *, timeout: float) -> Fetched:
    session = requests.Session()
    answer = http.get(session, spec["url"], headers={"Accept": ", ".join(RDF_FORMATS)}, timeout=timeout)
    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    link, modified = distribution(answer.content, content_type, spec)
    link = requests.compat.urljoin(spec["url"], link)
    dest = workdir / "source.csv"
    response = http.get(session, link, headers=http.conditional(previous), timeout=timeout, expect=http.CSV_TYPES,
                        dest=dest)
    if response.status_code == 304:
        return Fetched(link, not_modified=True, etag=previous.etag, modified=previous.modified)
    return Fetched(link, dest, response.headers.get("ETag"), response.headers.get("Last-Modified") or modified)
