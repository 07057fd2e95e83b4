"""Ingest: turn whatever a district office sends into canonical text rows for validation.

table = read_table("co-so-luu-tru.xlsx", schema)
for frame in table.batches():      # pandas DataFrames of str/None plus "_row"
    ...
table.mapping, table.unknown_columns, table.missing_fields, table.changes
"""

from ingest.pipeline import Change, SourceTable, read_table

__all__ = ["read_table", "SourceTable", "Change"]
