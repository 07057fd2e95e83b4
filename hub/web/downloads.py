"""`/datasets/<id>/download.<fmt>`: the whole dataset (or one version) as a file, streamed.

publish.exports.export_stream does the work (access rules, version pinning, every format).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, abort, request, stream_with_context, url_for

from core.catalog import Dataset
from hub.api.datasets import visible_dataset
from hub.context import current_hub, public_base
from hub.web.blueprint import bp
from hub.web.i18n import current_lang
from hub.web.preview import parse_preview, reference_fields
from publish.access import ANONYMOUS
from publish.catalogue import count_download, download_formats
from publish.exports import FORMATS, XLSX_MIMETYPE, export_filename, export_stream, people
from publish.labels import describe_query
from publish.query import Query, records
from publish.store import Store


def export(store: Store, dataset: Dataset, fmt: str, *, version: int | None, bom: bool) -> tuple[Iterator[bytes], str, str]:
    """(chunks, mimetype, file name). Access and version are checked before the first chunk."""
    chunks = export_stream(store, dataset, fmt, ANONYMOUS, version=version, bom=bom)
    return chunks, FORMATS[fmt][0], export_filename(dataset, fmt, version)


@bp.get("/datasets/<dataset_id>/download.<fmt>")
def download(dataset_id: str, fmt: str) -> Response:
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    if fmt not in download_formats(dataset):
        abort(404)
    version = request.args.get("version", type=int)
    bom = request.args.get("bom") in ("1", "true")
    chunks, mimetype, filename = export(hub.store, dataset, fmt, version=version, bom=bom)
    count_download(hub.store, dataset.id)
    response = Response(stream_with_context(chunks), content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


PEOPLE_FORMATS = {"xlsx": XLSX_MIMETYPE, "csv": "text/csv; charset=utf-8"}


@bp.get("/datasets/<dataset_id>/people.<fmt>")
def download_for_people(dataset_id: str, fmt: str) -> Response:
    """Excel or CSV for people (publish.exports.people) of the rows the preview shows: the same filters, search
    and sort as the page the link is on (`f.<field>`, `q`, `sort`), every page of them."""
    hub = current_hub()
    dataset = visible_dataset(hub, dataset_id, ANONYMOUS)
    if fmt not in PEOPLE_FORMATS:
        abort(404)
    preview = parse_preview(dataset, request.args, references=reference_fields(hub, dataset))
    query = preview.resolved_query(hub.store)
    counted = Query(filters=list(query.filters), q=query.q, limit=1)
    if (records(hub.store, dataset, counted, ANONYMOUS).total or 0) > people.MAX_ROWS:  # before a byte is sent
        raise people.TooManyRows(
            f"Bản tải cho người đọc có tối đa {people.MAX_ROWS:,} dòng: hãy lọc bớt, hoặc tải bản CSV đầy đủ",
            f"A download for people holds at most {people.MAX_ROWS:,} rows: filter further, or take the full CSV",
            dataset=dataset.id)
    query.version = counted.version  # the version counted is the one written
    lang = current_lang()
    name = f"{dataset.id}{'-loc' if preview.active else ''}.{fmt}"
    if fmt == "xlsx":
        url = public_base() + preview.url(url_for("web.dataset_page", dataset_id=dataset.id), page=None, per=None)
        body = people.people_xlsx(hub.store, dataset, query, ANONYMOUS, url=url, lang=lang,
                                  filters=describe_query(hub.store, dataset, query, lang))
        response = Response(body, content_type=PEOPLE_FORMATS[fmt])
    else:
        response = Response(stream_with_context(people.people_csv(hub.store, dataset, query, ANONYMOUS, lang)),
                            content_type=PEOPLE_FORMATS[fmt])
    count_download(hub.store, dataset.id)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
