"""A write-only, non-seekable file for `zipfile`, drained by the exporter after each chunk.

Given a file it cannot seek, zipfile writes each member's sizes and CRC in a data descriptor after its data
(flag bit 3) instead of going back to the local header, so a zip archive streams out with flat memory: the
Data Package and the XLSX exports both use it.
"""

from __future__ import annotations

import io
from typing import Any


class ZipSink(io.RawIOBase):
    """Collects what zipfile writes until `drain` hands it on."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def drain(self) -> bytes:
        out = bytes(self._buffer)
        self._buffer.clear()
        return out


__all__ = ["ZipSink"]
