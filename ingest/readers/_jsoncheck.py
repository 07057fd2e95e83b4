"""A bound on a JSON file's nesting before ijson parses it.

ijson keeps the path of every open container, so its memory grows with the square of the nesting depth: a
400 KB file of `[` then `]` (200,000 deep) grows a worker to about 20 GB. Tables never nest deeper than a few
levels (a GeoJSON MultiPolygon's coordinates are the deepest, at about 8), so the file is scanned first at C
speed (1 MB blocks split at the quotes, the brackets between strings summed by accumulate; about 40 MB/s) and
refused when it nests deeper than MAX_DEPTH. Work is then linear in the file's size, which the upload limit
(HUB_MAX_UPLOAD_MB) bounds.
"""

from __future__ import annotations

import os
from itertools import accumulate
from pathlib import Path

from core.errors import InputError

__all__ = ["check_json", "MAX_DEPTH"]

MAX_DEPTH = 64
_BLOCK = 1 << 20
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def check_json(path: Path, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise InputError (code json-too-deep) unless the file nests at most `max_depth` containers deep."""
    depth = 0
    in_string = False
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            while block.endswith(b"\\") and (more := fh.read(1)):
                block += more  # an escape is never cut in two
            # escaped backslashes, then escaped quotes, out: every quote left opens or closes a string, and
            # only the pieces between strings count (backslashes are valid only inside strings)
            parts = block.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')
            outside = b"".join(parts[1 if in_string else 0::2])
            in_string ^= (len(parts) - 1) % 2 == 1
            brackets = outside.translate(None, _NOT_BRACKETS)
            if brackets:
                levels = list(accumulate(map(_STEP.__getitem__, brackets), initial=depth))
                if max(levels) > max_depth:
                    raise InputError(
                        f"Tệp JSON lồng nhau quá sâu (hơn {max_depth} cấp): từ chối đọc",
                        f"The JSON file nests deeper than {max_depth} levels: refused",
                        code="json-too-deep", file=os.fspath(path), detail=f"near byte {offset}")
                depth = levels[-1]
            offset += len(block)
