"""Resource files at CKAN's download address, `/dataset/<package>/resource/<resource>/download/<file>`.

Serves the files peers uploaded with resource_create, and the files of our own datasets' resources (the
data dictionary; the CSV and GeoJSON exports too, for clients that build CKAN's download URL themselves),
always as the caller may see them.
"""

from __future__ import annotations

import json

from flask import Response, abort, send_file, stream_with_context

from core.errors import Unauthenticated
from hub.auth import current_viewer
from hub.ckan import federation
from hub.ckan.api import blueprint
from hub.ckan.uploads import upload_path
from hub.context import current_hub
from publish.access import can_see_dataset
from publish.metadata import dictionary, hub_id, resource_kinds

__all__: list[str] = []


@blueprint.get("/dataset/<package_id>/resource/<resource_id>/download", defaults={"filename": None})
@blueprint.get("/dataset/<package_id>/resource/<resource_id>/download/<path:filename>")
def download(package_id: str, resource_id: str, filename: str | None) -> Response:
    hub = current_hub()
    try:
        viewer = current_viewer()
    except Unauthenticated as exc:  # a bad, revoked or expired key: 401 (it was a 500)
        body = json.dumps(exc.to_dict(), ensure_ascii=False)
        return Response(body, status=exc.http_status, mimetype="application/json",
                        headers={"WWW-Authenticate": 'Bearer realm="hub"'})
    for ds in hub.catalog:
        if package_id not in (ds.id, hub_id("dataset", ds.id)) or not can_see_dataset(ds, viewer):
            continue
        for kind in resource_kinds(ds):
            if resource_id != hub_id("resource", f"{ds.id}/{kind.kind}"):
                continue
            if kind.kind == "dictionary":
                body = json.dumps(dictionary(ds, viewer), ensure_ascii=False, indent=2)
                return Response(body, mimetype=kind.mimetype)
            from publish.exports import FORMATS, export_filename, export_stream

            chunks = export_stream(hub.store, ds, kind.kind, viewer)
            response = Response(stream_with_context(chunks), mimetype=FORMATS[kind.kind][0])
            response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(ds, kind.kind)}"'
            return response
    found = federation.find_resource(hub, resource_id, viewer)
    if found is None or package_id not in (found[0].id, found[0].name):
        abort(404)
    path = upload_path(hub.settings.storage_dir, found[1].upload_path)
    if path is None:
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name, mimetype=json.loads(found[1].data).get("mimetype"))
