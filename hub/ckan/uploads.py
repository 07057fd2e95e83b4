"""Files uploaded with resource_create / resource_update (multipart, field `upload`), kept in the storage folder.

A file is written under `<storage_dir>/ckan/<resource id>/` with a safe name (publish.uploads.safe_name, as
source files sent to the API and the steward workspace), first to a temporary name and
then renamed, so a download never sees half a file. The database row only records the relative path.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.uploads import safe_name

__all__ = ["Stored", "delete_upload", "guess_format", "save_upload", "upload_path"]

FOLDER = "ckan"


@dataclass(frozen=True)
class Stored:
    relative: str  # path under storage_dir
    filename: str
    size: int
    mimetype: str | None
    sha256: str


def save_upload(storage_dir: Path, resource_id: str, upload: Any) -> Stored:
    """Write an uploaded file (werkzeug FileStorage or any object with .read and .filename)."""
    filename = safe_name(getattr(upload, "filename", None) or getattr(upload, "name", None) or "")
    folder = Path(storage_dir) / FOLDER / resource_id
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{filename}.partial"
    digest = hashlib.sha256()
    size = 0
    stream = getattr(upload, "stream", upload)
    with partial.open("wb") as handle:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    for old in folder.iterdir():  # a new upload replaces the previous file of this resource
        if old != partial:
            old.unlink(missing_ok=True)
    os.replace(partial, folder / filename)
    mimetype = getattr(upload, "mimetype", None)
    if not mimetype or mimetype == "application/octet-stream":
        mimetype = mimetypes.guess_type(filename)[0] or mimetype
    return Stored(f"{FOLDER}/{resource_id}/{filename}", filename, size, mimetype, digest.hexdigest())


def upload_path(storage_dir: Path, relative: str | None) -> Path | None:
    """The file of a stored upload, or None when it is gone. Refuses paths leaving the storage folder."""
    if not relative:
        return None
    root = (Path(storage_dir) / FOLDER).resolve()
    path = (Path(storage_dir) / relative).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def delete_upload(storage_dir: Path, resource_id: str) -> None:
    shutil.rmtree(Path(storage_dir) / FOLDER / resource_id, ignore_errors=True)


def guess_format(name: str | None) -> str:
    """CKAN's if_empty_guess_format, simplified: the file extension in capitals ('data.csv' -> 'CSV')."""
    if not name:
        return ""
    base = name.rsplit("/", 1)[-1].split("?", 1)[0]
    if "." not in base:
        return ""
    ext = base.rsplit(".", 1)[-1].lower()
    return {"geojson": "GeoJSON", "json": "JSON", "jsonld": "JSON-LD"}.get(ext, ext.upper())
