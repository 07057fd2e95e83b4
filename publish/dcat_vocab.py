"""Crosswalks from our words and CKAN's to the controlled vocabularies DCAT-AP 3 asks for.

Licences: DCAT-AP expects the EU licence authority table (`.../authority/licence/CC_BY_4_0`), CKAN and
ckanext-dcat know licences by CKAN's register (`cc-by`, "Creative Commons Attribution"; ckan/model/license.py).
ckanext-dcat finds a licence id by comparing a distribution's dct:license URI, then its dct:title, with that
register; so a licence node is the EU URI (what DCAT-AP validators check), titled as CKAN's register titles it
(what ckanext-dcat matches), with the CKAN id as dct:identifier and the licence's own page as owl:sameAs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AVAILABILITY", "EU", "EU_FILE_TYPES", "Licence", "licence_for", "file_type_for"]

EU = "http://publications.europa.eu/resource/authority/"
# dcatap:availability: how long the distribution is kept (the EU planned-availability table)
AVAILABILITY = f"{EU}planned-availability/"


@dataclass(frozen=True)
class Licence:
    eu: str  # the EU licence table's URI
    ckan_id: str  # CKAN's licence register id
    ckan_title: str  # CKAN's title for it (ckanext-dcat matches on it)
    page: str | None  # the licence's own page


_LICENCES = [
    # (EU code, CKAN id, CKAN title, the licence's page, other addresses and ids naming the same licence)
    ("CC_BY_4_0", "cc-by", "Creative Commons Attribution", "https://creativecommons.org/licenses/by/4.0/",
     ("http://www.opendefinition.org/licenses/cc-by", "cc-by-4.0")),
    ("CC_BYSA_4_0", "cc-by-sa", "Creative Commons Attribution Share-Alike",
     "https://creativecommons.org/licenses/by-sa/4.0/", ("http://www.opendefinition.org/licenses/cc-by-sa",
                                                           "cc-by-sa-4.0")),
    ("CC0", "cc-zero", "Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/",
     ("http://www.opendefinition.org/licenses/cc-zero", "cc0", "cc0-1.0")),
    ("ODC_BY", "odc-by", "Open Data Commons Attribution License", "https://opendatacommons.org/licenses/by/",
     ("http://www.opendefinition.org/licenses/odc-by",)),
    ("ODC_BL", "odc-odbl", "Open Data Commons Open Database License (ODbL)",
     "https://opendatacommons.org/licenses/odbl/", ("http://www.opendefinition.org/licenses/odc-odbl", "odbl")),
    ("ODC_PDDL", "odc-pddl", "Open Data Commons Public Domain Dedication and License (PDDL)",
     "https://opendatacommons.org/licenses/pddl/", ("http://www.opendefinition.org/licenses/odc-pddl",)),
]


def _key(value: str) -> str:
    return value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")


_BY_KEY: dict[str, Licence] = {}
for _code, _ckan, _title, _page, _others in _LICENCES:
    _licence = Licence(f"{EU}licence/{_code}", _ckan, _title, _page)
    for _name in (_code, _ckan, _page, *_others):
        _BY_KEY[_key(_name)] = _licence


def licence_for(*names: str | None) -> Licence | None:
    """The licence named by any of `names` (our catalogue's id or URL, a CKAN id, an EU code or URI)."""
    for name in names:
        if not name:
            continue
        if name.startswith(f"{EU}licence/"):
            name = name.rsplit("/", 1)[-1]
        found = _BY_KEY.get(_key(name))
        if found is not None:
            return found
    return None


# CKAN's format labels (and our resource kinds) -> the EU file-type table
EU_FILE_TYPES = {"CSV": "CSV", "GEOJSON": "GEOJSON", "JSON": "JSON", "DICTIONARY": "JSON", "XLSX": "XLSX",
                 "XLS": "XLS", "PDF": "PDF", "HTML": "HTML", "ZIP": "ZIP", "XML": "XML", "RDF": "RDF_XML",
                 "TTL": "RDF_TURTLE", "JSONLD": "JSON_LD", "JSON-LD": "JSON_LD", "KML": "KML", "SHP": "SHP",
                 "TXT": "TXT", "ODS": "ODS", "DOCX": "DOCX", "DOC": "DOC", "JPG": "JPEG", "JPEG": "JPEG", "PNG": "PNG",
                 "TSV": "TSV", "GPKG": "GPKG", "WMS": "WMS_SRVC", "WFS": "WFS_SRVC"}


def file_type_for(label: str | None) -> str | None:
    """The EU file-type URI of a format label ('CSV', 'GeoJSON', ...), or None when the table has none."""
    code = EU_FILE_TYPES.get((label or "").strip().upper().lstrip("."))
    return f"{EU}file-type/{code}" if code else None


# English labels of the concepts we name from other vocabularies, written beside them so a validator without
# those vocabularies loaded still finds the label DCAT-AP requires of a skos:Concept
CONCEPT_LABELS = {
    f"{EU}data-theme/ECON": "Economy and finance",
    f"{EU}data-theme/EDUC": "Education, culture and sport",
    f"{EU}data-theme/GOVE": "Government and public sector",
    f"{EU}data-theme/REGI": "Regions and cities",
    f"{AVAILABILITY}STABLE": "stable",
    "http://purl.org/adms/publishertype/RegionalAuthority": "Regional authority",
}
