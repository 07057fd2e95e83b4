"""Clients nobody here wrote, against a live hub: frictionless's CKAN adapter, ckanapi for the actions a
harvester or a federating peer calls, and a harvester's own `fq` patterns."""

from __future__ import annotations

import hashlib

import requests
from frictionless import Catalog, Package
from frictionless.portals import CkanControl

from core.catalog import load_catalog
from core.config import PROJECT_ROOT

OPEN = {"accommodation", "admin-units", "heritage-sites", "sports-venues", "travel-agencies"}


def _csv_resource(package: Package):  # noqa: ANN202
    return next(r for r in package.resources if (r.format or "").lower() == "csv")


def test_csv_resources_carry_their_schema_size_and_sha256(live_hub) -> None:  # noqa: ANN001
    for name in sorted(OPEN):
        pkg = requests.get(f"{live_hub.url}/api/3/action/package_show", params={"id": name}, timeout=30).json()
        resource = next(r for r in pkg["result"]["resources"] if r["format"] == "CSV")
        body = requests.get(resource["url"], timeout=60).content
        assert resource["size"] == len(body), name
        assert resource["hash"] == f"sha256:{hashlib.sha256(body).hexdigest()}", name
        header = body.decode("utf-8").splitlines()[0].split(",")
        assert [f["name"] for f in resource["schema"]["fields"]] == header, name


def test_frictionless_ckan_adapter_reads_every_open_dataset_with_the_schema_types(live_hub) -> None:  # noqa: ANN001
    catalog = Catalog(live_hub.url, control=CkanControl(baseurl=live_hub.url, num_packages=100))
    assert {d.name for d in catalog.datasets} == OPEN
    ours = load_catalog(PROJECT_ROOT / "catalog.yaml")
    for dataset in catalog.datasets:
        resource = _csv_resource(dataset.package)
        rows = resource.read_rows()
        assert rows, dataset.name
        schema = ours.dataset(dataset.name).schema
        for field in resource.schema.fields:
            assert field.type == schema.field(field.name).type, (dataset.name, field.name)
        text = [f.name for f in resource.schema.fields if f.type == "string"]
        for row in rows:
            assert row.valid, (dataset.name, row.errors)
            assert all(row[n] is None or isinstance(row[n], str) for n in text), (dataset.name, row)
    accommodation = next(d for d in catalog.datasets if d.name == "accommodation")
    phones = [r["phone"] for r in _csv_resource(accommodation.package).read_rows() if r["phone"]]
    assert phones and all(p.startswith("0") for p in phones)  # "0251..." stays text, not the number 251...
    assert frictionless_validates(_csv_resource(accommodation.package))


def frictionless_validates(resource) -> bool:  # noqa: ANN001
    report = resource.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    return True
