"""What the catalogue and the store say about our datasets, as plain values for CKAN, DCAT and the CKAN push.

Everything here is derived: titles and descriptions from catalog.yaml, the data dictionary from the Table
Schema (cut to what the viewer may see), dates and record counts from the store's loads. Identifiers are
UUIDs derived from our own ids (uuid5), so a package or resource keeps its id across restarts, machines and
base URLs, which is what harvesters key on.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.catalog import Catalog, Dataset
from publish import tables
from publish.access import ANONYMOUS, Viewer, visible_fields
from publish.lru import LruCache
from publish.query import count_current
from publish.store import Store

__all__ = ["NAMESPACE", "Facts", "FileFacts", "RESOURCE_KINDS", "ResourceKind", "ckan_time", "csv_file_facts",
           "dataset_facts", "dictionary", "download_url", "hub_id", "landing_url", "resource_kinds", "temporal_extent"]

# Fixed forever: changing it would give every package, resource and organisation a new id.
NAMESPACE = uuid.UUID("6f1c2f0e-5b7a-5d3e-9a41-d0e9a1c8b7f2")


def hub_id(kind: str, key: str) -> str:
    """A stable UUID for one of our things: hub_id('dataset', 'heritage-sites')."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


def ckan_time(value: datetime | str | None) -> str | None:
    """Naive UTC ISO 8601 with microseconds and no 'Z', as CKAN writes metadata_modified (harvesters compare
    these as strings, so '2025-01-02T03:04:05' and '2025-01-02T03:04:05.000000' must not both occur)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Facts:
    """The store's side of a dataset: its current version, records and dates (naive UTC)."""

    version: int | None
    records: int
    created: datetime  # the first committed load, or when the catalogue entry appeared
    modified: datetime  # the newer of the last committed load and the last catalogue/schema edit
    data_modified: datetime | None  # the last committed load


def _file_time(*paths: Any) -> datetime:
    stamps = [p.stat().st_mtime for p in paths if p is not None and p.exists()]
    return datetime.fromtimestamp(max(stamps) if stamps else 0, UTC).replace(tzinfo=None)


# Record counts only change with a new version: (database, dataset, version) -> count, per process.
_COUNTS: dict[tuple[str, str, int], int] = {}


def _count(store: Store, dataset: Dataset, version: int) -> int:
    key = (str(store.engine.url), dataset.id, version)
    if key not in _COUNTS:
        if len(_COUNTS) > 10_000:
            _COUNTS.clear()
        _COUNTS[key] = count_current(store, dataset)
    return _COUNTS[key]


def dataset_facts(store: Store, datasets: list[Dataset]) -> dict[str, Facts]:
    """Facts for several datasets in one query on the loads (counts are kept per version)."""
    t = tables.loads
    ids = [d.id for d in datasets]
    stmt = (sa.select(t.c.dataset, sa.func.max(t.c.version), sa.func.min(t.c.started_at), sa.func.max(t.c.finished_at))
            .where(t.c.status == "committed", t.c.dataset.in_(ids)).group_by(t.c.dataset))
    with store.read_engine.connect() as conn:
        loaded = {row[0]: row[1:] for row in conn.execute(stmt)} if ids else {}
    out: dict[str, Facts] = {}
    for ds in datasets:
        edited = _file_time(store.catalog.path, ds.schema.path)
        version, first, last = loaded.get(ds.id, (None, None, None))
        out[ds.id] = Facts(
            version=version,
            records=_count(store, ds, version) if version else 0,
            created=first or edited,
            modified=max(last, edited) if last else edited,
            data_modified=last,
        )
    return out


@dataclass(frozen=True)
class ResourceKind:
    """One file every dataset offers: a data export or the data dictionary."""

    kind: str  # csv, geojson, dictionary
    format: str  # CKAN's format label
    mimetype: str
    extension: str
    label: dict[str, str]  # {vi, en}
    description: dict[str, str]
    datastore: bool = False  # served by datastore_search


RESOURCE_KINDS = (
    ResourceKind("csv", "CSV", "text/csv", "csv", {"vi": "Dữ liệu CSV", "en": "CSV data"},
                 {"vi": "Toàn bộ bản ghi hiện hành, mã hoá UTF-8.", "en": "Every current record, UTF-8 encoded."},
                 datastore=True),
    ResourceKind("geojson", "GeoJSON", "application/geo+json", "geojson", {"vi": "Bản đồ GeoJSON", "en": "GeoJSON map"},
                 {"vi": "Bản ghi hiện hành kèm vị trí (WGS 84).", "en": "Current records with their location (WGS 84)."}),
    ResourceKind("dictionary", "JSON", "application/json", "schema.json",
                 {"vi": "Từ điển dữ liệu", "en": "Data dictionary"},
                 {"vi": "Mô tả các trường (Table Schema của Frictionless Data): tên, kiểu, ràng buộc.",
                  "en": "The fields described as a Frictionless Table Schema: names, types, constraints."}),
)


def resource_kinds(dataset: Dataset) -> list[ResourceKind]:
    """The files this dataset offers: GeoJSON only when its records have a geometry."""
    return [k for k in RESOURCE_KINDS if k.kind != "geojson" or dataset.schema.geometry_kind]


def landing_url(base: str, dataset: Dataset) -> str:
    """The dataset's page on the catalogue web site (hub/web)."""
    return f"{base}/datasets/{dataset.id}"


def download_url(base: str, dataset: Dataset, kind: ResourceKind) -> str:
    """Where the file is downloaded: the web site's stable export URL for data, ours for the dictionary."""
    if kind.kind == "dictionary":
        rid = hub_id("resource", f"{dataset.id}/{kind.kind}")
        return f"{base}/dataset/{dataset.id}/resource/{rid}/download/{dataset.id}.{kind.extension}"
    return f"{base}/datasets/{dataset.id}/download.{kind.extension}"


def dictionary(dataset: Dataset, viewer: Viewer) -> dict[str, Any]:
    """The dataset's Table Schema as the viewer's CSV has it: hidden fields are not even described."""
    from publish.exports.datapackage import package_schema

    schema = package_schema(dataset, viewer, visible_fields(dataset, viewer))
    schema.setdefault("name", dataset.id)
    schema["titles"] = dataset.schema.descriptor.get("titles") or {"vi": dataset.title("vi"), "en": dataset.title("en")}
    return schema


def publisher_name(catalog: Catalog, publisher: str, lang: str = "vi") -> str:
    name = (catalog.publishers.get(publisher) or {}).get("name") or publisher
    return name if isinstance(name, str) else (name.get(lang) or name.get("vi") or publisher)


def contact(catalog: Catalog, dataset: Dataset) -> dict[str, str]:
    """Who answers questions about the dataset: its catalogue contact, else its publisher, else the site."""
    entry = dataset.entry.get("contact") or {}
    publisher = catalog.publishers.get(dataset.publisher) or {}
    site = catalog.site.get("contact") or {}
    return {
        "name": entry.get("name") or publisher_name(catalog, dataset.publisher) or site.get("name", ""),
        "email": entry.get("email") or publisher.get("email") or site.get("email", ""),
    }


@dataclass(frozen=True)
class FileFacts:
    """Size and sha256 of a file as a citizen downloads it (what CKAN's `size` and `hash` describe)."""

    size: int
    sha256: str

    @property
    def hash(self) -> str:
        """The hash as Frictionless Data (and our Data Package export) write it: `sha256:<hex>`."""
        return f"sha256:{self.sha256}"


# (database, dataset, version, fields shown) -> facts, per process; the same facts are kept on disk (see
# csv_file_facts), so a new worker or a restart does not export the dataset again.
_FILES: LruCache[FileFacts] = LruCache(1000)


def csv_file_facts(store: Store, storage_dir: Path, dataset: Dataset, version: int | None) -> FileFacts:
    """Size and sha256 of the dataset's anonymous CSV download at `version` (the bytes of
    /datasets/<id>/download.csv). Computed once per version and field list: a version's rows never change."""
    names = visible_fields(dataset, ANONYMOUS)
    shape = hashlib.sha256(json.dumps(names).encode()).hexdigest()[:16]
    key = (str(store.engine.url), dataset.id, version or 0, shape)
    found = _FILES.get(key)
    if found is not None:
        return found
    path = storage_dir / "file-facts" / f"{dataset.id}-v{version or 0}-{shape}.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        found = FileFacts(int(saved["size"]), str(saved["sha256"]))
    except (OSError, ValueError, KeyError, TypeError):
        found = _measure_csv(store, dataset, version)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps({"size": found.size, "sha256": found.sha256}), encoding="utf-8")
            os.replace(partial, path)
        except OSError:
            pass  # a read-only storage folder: computed again by the next process
    _FILES.put(key, found)
    return found


def _measure_csv(store: Store, dataset: Dataset, version: int | None) -> FileFacts:
    from publish.exports import export_stream

    digest, size = hashlib.sha256(), 0
    for chunk in export_stream(store, dataset, "csv", ANONYMOUS, version=version):
        digest.update(chunk)
        size += len(chunk)
    return FileFacts(size, digest.hexdigest())


# (database, dataset, version, fields) -> (first, last) date in the data: a version's rows never change
_EXTENTS: LruCache[tuple[date, date] | None] = LruCache(1000)


def temporal_extent(store: Store, dataset: Dataset, version: int | None) -> tuple[date, date] | None:
    """The earliest and latest date in the version's records, over the date and datetime fields an anonymous
    citizen may see on every row (DCAT's temporal coverage; a field blanked on some rows is left out, or its
    extremes could tell a blanked value); None when the dataset has no such field or no value."""
    from publish.query import queryable_fields

    shown = queryable_fields(dataset, ANONYMOUS)
    names = [f.name for f in dataset.schema.fields if f.type in ("date", "datetime") and f.name in shown]
    if not names or not version:
        return None
    key = (str(store.engine.url), dataset.id, version, tuple(names))
    if (hit := _EXTENTS.get(key)) is not None or key in _EXTENT_NONE:
        return hit
    from publish.query import version_clause

    table = store.table(dataset)
    columns = [agg(table.c[n]) for n in names for agg in (sa.func.min, sa.func.max)]
    with store.read_engine.connect() as conn:
        row = conn.execute(sa.select(*columns).where(version_clause(table, version))).one()
    values = [_as_date(v) for v in row if v is not None]
    found = (min(values), max(values)) if values else None
    if found is None:
        _EXTENT_NONE.add(key)
    else:
        _EXTENTS.put(key, found)
    return found


_EXTENT_NONE: set[tuple[Any, ...]] = set()


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite may hand the text back
