"""A zipped Frictionless Data Package: `data/<dataset>.csv` plus `datapackage.json` describing it.

The package's schema is the dataset's Table Schema cut down to what the viewer may see, and adjusted to the
CSV we write (ISO dates, `true`/`false`, no foreign keys to resources outside the package), so
`frictionless validate datapackage.json` accepts the unzipped package. The CSV's sha256 and size are
recorded too, so a copy damaged on the way fails validation.

The zip is written to a `ZipSink` drained after each chunk, so the archive streams with flat memory.
"""

from __future__ import annotations

import copy
import hashlib
import json
import stat
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.catalog import Dataset
from publish import tables
from publish.access import Viewer, conditional_personal
from publish.exports.csv import csv_chunks
from publish.exports.zipsink import ZipSink
from publish.store import Store, utcnow

DIALECT = {"delimiter": ",", "doubleQuote": True, "lineTerminator": "\r\n", "quoteChar": '"', "header": True}


def package_schema(dataset: Dataset, viewer: Viewer, names: list[str]) -> dict[str, Any]:
    """The Table Schema of the exported CSV: only the fields shown, typed as the CSV writes them."""
    shown = set(names)
    blanked = {name for name, _, _ in conditional_personal(dataset, viewer)}
    fields = []
    for f in dataset.schema.fields:
        if f.name not in shown:
            continue
        descriptor = copy.deepcopy(f.descriptor)
        if f.type == "date":
            descriptor["format"] = "default"  # the store keeps ISO dates
        if f.type == "boolean":
            descriptor["trueValues"], descriptor["falseValues"] = ["true"], ["false"]
        if f.type == "number":
            descriptor.pop("decimalChar", None)
            descriptor.pop("groupChar", None)
        if f.name in blanked:
            descriptor.get("constraints", {}).pop("required", None)  # blanked on some rows for this viewer
        fields.append(descriptor)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    pk = dataset.schema.primary_key
    if pk and all(k in shown for k in pk):
        schema["primaryKey"] = pk
    for key in ("titles", "geometry", "searchFields"):
        if key in dataset.schema.descriptor:
            schema[key] = dataset.schema.descriptor[key]
    return schema


def package_descriptor(store: Store, dataset: Dataset, viewer: Viewer, names: list[str], *, version: int | None,
                       path: str, encoding: str, sha256: str | None = None, size: int | None = None) -> dict[str, Any]:
    licence = store.catalog.licences.get(dataset.licence) or {}
    licence_entry = {k: v for k, v in {"name": dataset.licence, "path": licence.get("url"),
                                       "title": licence.get("title")}.items() if v}
    resource: dict[str, Any] = {
        "name": dataset.id,
        "path": path,
        "profile": "tabular-data-resource",
        "title": dataset.title("vi"),
        "description": dataset.description("vi"),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": encoding,
        "dialect": DIALECT,
        "schema": package_schema(dataset, viewer, names),
    }
    if sha256 is not None:
        resource["hash"] = f"sha256:{sha256}"
        resource["bytes"] = size
    return {
        "profile": "tabular-data-package",
        "name": dataset.id,
        "title": dataset.title("vi"),
        "description": dataset.description("vi"),
        "titles": {"vi": dataset.title("vi"), "en": dataset.title("en")},
        "version": str(version) if version else "0",
        "created": utcnow().replace(microsecond=0).isoformat() + "Z",
        "keywords": dataset.keywords("vi") + dataset.keywords("en"),
        "licenses": [licence_entry],
        "publisher": dataset.publisher,
        "resources": [resource],
    }


def _version_time(store: Store, dataset: Dataset, version: int | None) -> datetime:
    """When the version was committed (naive UTC), or now for a dataset without one."""
    loads = tables.loads
    with store.read_engine.connect() as conn:
        when = conn.execute(sa.select(loads.c.finished_at).where(
            loads.c.dataset == dataset.id, loads.c.version == version, loads.c.status == "committed")).scalar() \
            if version else None
    return when or utcnow()


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    """A regular file readable by everyone (0644) dated when its data was published (`when`, naive UTC, written
    in the server's local time as zip dates are), not 1980 and 0600 as zipfile's defaults for a streamed entry."""
    info = zipfile.ZipInfo(name, date_time=when.replace(tzinfo=UTC).astimezone().timetuple()[:6])
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so unzip applies the mode
    return info


def datapackage_stream(store: Store, dataset: Dataset, viewer: Viewer, names: list[str],
                       rows: Iterable[dict[str, Any]], *, version: int | None, bom: bool = False) -> Iterator[bytes]:
    sink = ZipSink()
    path = f"data/{dataset.id}.csv"
    digest = hashlib.sha256()
    size = 0
    when = _version_time(store, dataset, version)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        with archive.open(_entry(path, when), "w", force_zip64=True) as entry:
            for chunk in csv_chunks(names, rows, bom=bom):
                data = chunk.encode("utf-8")
                digest.update(data)
                size += len(data)
                entry.write(data)
                if out := sink.drain():
                    yield out
        descriptor = package_descriptor(store, dataset, viewer, names, version=version, path=path,
                                        encoding="utf-8-sig" if bom else "utf-8", sha256=digest.hexdigest(),
                                        size=size)
        archive.writestr(_entry("datapackage.json", when), json.dumps(descriptor, ensure_ascii=False, indent=2))
    yield sink.drain()
