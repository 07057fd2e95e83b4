"""Saving a file a steward sends, the same way whether it comes through the API or the steward workspace.

The file is refused before a byte is written when the hub cannot read its format (ingest's readers decide:
`ingest.pipeline.format_for`), and after when it is empty. It is written under a safe name (ASCII letters,
digits, '.', '-', '_'; Vietnamese letters lose their marks, 'đ' becomes 'd') to a '.part' file renamed into
place, so a half-sent file never looks complete. Whether the file's *data* is refused is the pipeline's rule
(`publish.pipeline.refuses`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from core.errors import InputError
from core.files import storage_errors
from ingest.pipeline import FORMATS, READABLE, format_for

__all__ = ["READABLE", "SUFFIXES", "Saved", "safe_name", "save_upload"]

SUFFIXES = tuple(FORMATS)  # '.csv', '.tsv', ... '.geojson': what a file picker offers
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_BLOCK = 1 << 20
_LONGEST = 200  # characters of a stored name


@dataclass(frozen=True)
class Saved:
    path: Path  # where the file now is
    source_name: str  # the name the steward's file had
    format: str  # the reader that will open it


def safe_name(filename: str) -> str:
    """A file name safe on any file system: 'Di tích (bản 2).csv' -> 'Di_tich_ban_2_.csv'; 'upload' plus the
    suffix when nothing is left of the name."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    folded = unicodedata.normalize("NFKD", base.replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", ascii_name).strip("._")
    suffix = PurePosixPath(base).suffix.lower()
    if not name or ("." not in name and suffix):
        name = "upload" + (suffix if _UNSAFE.sub("", suffix) == suffix else "")
    if len(name) > _LONGEST:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:_LONGEST - len(ext) - 1]}.{ext}" if dot and len(ext) < 16 else name[:_LONGEST]
    return name


def save_upload(stream: IO[bytes], filename: str | None, directory: Path, *, prefix: str = "",
                format: str | None = None) -> Saved:
    """Write `stream` to `directory`/<prefix><safe name>; InputError for no file name, a format the hub does not
    read, or an empty file (nothing is left behind then)."""
    original = PurePosixPath((filename or "").replace("\\", "/")).name
    if not original:
        raise InputError("Chưa chọn tệp", "No file chosen", field="file")
    fmt = format_for(original, format)
    target = directory / f"{prefix}{safe_name(original)}"
    partial = target.with_name(target.name + ".part")
    size = 0
    try:
        with storage_errors(target):  # a full or read-only disk: StorageError (exit 4, HTTP 507)
            directory.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as handle:
                for block in iter(lambda: stream.read(_BLOCK), b""):
                    handle.write(block)
                    size += len(block)
            if size == 0:
                raise InputError("Tệp rỗng", "The file is empty", file=original)
            partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)  # never a half-written upload left behind
    return Saved(target, original, fmt)
