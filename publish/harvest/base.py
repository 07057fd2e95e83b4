"""What every source kind shares: the fetched file, the previous harvest's validators, failures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import HubError


class HarvestFailed(HubError):
    """The source could not give us usable data: nothing is loaded, the current version stays served."""

    code = "harvest-failed"
    http_status = 502
    exit_code = 5  # like unreadable input: the source gave nothing usable


@dataclass
class Previous:
    """The last successful harvest's validators (for conditional requests and the unchanged check)."""

    etag: str | None = None
    modified: str | None = None
    sha256: str | None = None


@dataclass
class Fetched:
    """A source's data in a temporary file (or nothing, when the source said it has not changed)."""

    url: str
    path: Path | None = None
    etag: str | None = None
    modified: str | None = None
    not_modified: bool = False  # a conditional request answered 304 (or the metadata says unchanged)
    rows: int | None = None
    format: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        if self.path is None:
            return None
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def dig(node: Any, path: str | None) -> Any:
    """`a.b.0.c` into nested JSON; None when a step is missing. An empty path is the node itself."""
    if not path:
        return node
    for step in str(path).split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node
