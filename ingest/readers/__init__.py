"""One reader per source format. Each returns a `RawTable`: headers and a stream of (row number, cells)."""

from ingest.readers._table import RawTable

__all__ = ["RawTable"]
