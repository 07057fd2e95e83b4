"""`folder` sources: files district offices drop into a watched folder.

A file is taken once it is stable (unchanged for `stable_seconds`), oldest first, one per harvest; after its
load it is moved to done/ (loaded or unchanged) or failed/ (refused), so no file is taken twice.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from publish.harvest.base import Fetched, HarvestFailed, Previous


def folder_of(spec: dict[str, Any], root: Path) -> Path:
    path = Path(spec["path"])
    return path if path.is_absolute() else root / path


def fetch(spec: dict[str, Any], previous: Previous, workdir: Path, *, timeout: float, root: Path) -> Fetched:
    folder = folder_of(spec, root)
    if not folder.is_dir():
        raise HarvestFailed(f"Không có thư mục nguồn {folder}", f"The source folder {folder} does not exist",
                            file=str(folder))
    stable = float(spec.get("stable_seconds", 10))
    now = time.time()
    candidates = sorted((p for p in folder.glob(spec.get("pattern", "*")) if p.is_file() and not p.name.startswith(".")),
                        key=lambda p: p.stat().st_mtime)
    for path in candidates:
        first = path.stat()
        if now - first.st_mtime < stable:
            continue  # still being written
        return Fetched(str(path), path, modified=str(int(first.st_mtime)), extra={"file": str(path)})
    return Fetched(str(folder), not_modified=True)


def settle(fetched: Fetched, ok: bool) -> Path | None:
    """Move a taken file to done/ or failed/ beside it (a name already there gets a time suffix)."""
    source = fetched.extra.get("file")
    if not source or not Path(source).exists():
        return None
    path = Path(source)
    target_dir = path.parent / ("done" if ok else "failed")
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}{path.suffix}"
    shutil.move(str(path), target)
    return target
