"""Exports of a dataset version: CSV, GeoJSON, Excel (XLSX) and a zipped Data Package.

`export_stream` is the one entry point: the web site's downloads, the CKAN push and `hub export` all call it,
so every export asks the same access rules (publish.access) and reads through publish.query. Records are read
in batches and written chunk by chunk, so memory stays flat whatever the dataset's size.

The access check and the version check run when `export_stream` is called, not on the first chunk: a web
handler gets its 404 before it starts a streamed 200 response.
"""

from __future__ import annotations

from collections.abc import Iterator

from core.catalog import Dataset
from core.errors import DatasetNotFound, HubError
from publish.access import ANONYMOUS, Viewer, can_see_dataset
from publish.exports.csv import csv_chunks
from publish.exports.geojson import geojson_chunks
from publish.query import Query, iter_records, resolve_version, select_columns
from publish.store import Store

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "geojson": ("application/geo+json", "geojson"),
    "xlsx": (XLSX_MIMETYPE, "xlsx"),
    "zip": ("application/zip", "zip"),
}


class ExportError(HubError):
    code = "export-error"


def _encode(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk.encode("utf-8")


def export_stream(store: Store, dataset: Dataset | str, fmt: str, viewer: Viewer = ANONYMOUS, *,
                  version: int | None = None, bom: bool = False) -> Iterator[bytes]:
    """The bytes of `dataset` (as of `version`, current by default) in `fmt`, as the viewer may see it.

    Raises DatasetNotFound when the viewer may not see the dataset, NotFound for an unknown version and
    ExportError for an unknown format — all before the first byte.
    """
    ds = store.catalog.dataset(dataset) if isinstance(dataset, str) else dataset
    if fmt not in FORMATS:
        raise ExportError(f"Định dạng xuất không hỗ trợ «{fmt}» (có: {', '.join(FORMATS)})",
                          f"Unsupported export format «{fmt}» (choose from {', '.join(FORMATS)})", field="format")
    if not can_see_dataset(ds, viewer):
        raise DatasetNotFound(f"Không có bộ dữ liệu «{ds.id}»", f"No dataset «{ds.id}»", dataset=ds.id)
    pinned = resolve_version(store, ds, version)  # pinned now, so a load landing mid-export changes nothing
    query = Query(version=pinned, limit=0, with_geometry=fmt == "geojson")
    names, _ = select_columns(store, ds, query, viewer)
    rows = iter_records(store, ds, query, viewer)
    if fmt == "csv":
        return _encode(csv_chunks(names, rows, bom=bom))
    if fmt == "geojson":
        pk = ds.schema.primary_key
        extra = {"name": ds.id, "version": pinned}
        return _encode(geojson_chunks(rows, id_field=pk[0] if len(pk) == 1 else None, extra=extra))
    if fmt == "xlsx":
        from publish.exports.xlsx import xlsx_stream

        return xlsx_stream(ds, names, rows)
    from publish.exports.datapackage import datapackage_stream

    return datapackage_stream(store, ds, viewer, names, rows, version=pinned, bom=bom)


def export_filename(dataset: Dataset | str, fmt: str, version: int | None = None) -> str:
    """`accommodation-v3.csv`: the name downloads and `hub export` give the file."""
    ds_id = dataset if isinstance(dataset, str) else dataset.id
    suffix = f"-v{version}" if version else ""
    return f"{ds_id}{suffix}.{FORMATS[fmt][1]}"


__all__ = ["FORMATS", "ExportError", "export_stream", "export_filename"]
