"""Tables: the hub's own (managed by Alembic) and one temporal table per dataset, derived from its schema.

A dataset table holds every version of every record. Each row carries the version that added it (`_from`)
and the version that superseded it (`_to`, NULL while current), its primary key as one text (`_key`), a
hash of its values (`_hash`, so an unchanged row is never written twice), folded search text (`_search`) and
the geometry (`_geom`, SRID 4326). "Current" is `_to IS NULL`; "as of version v" is
`_from <= v AND (_to IS NULL OR _to > v)`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry

from core.catalog import Dataset

metadata = sa.MetaData()

loads = sa.Table(
    "hub_loads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.String(100), nullable=False, index=True),
    sa.Column("version", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),  # running, committed, unchanged, rejected, failed, pending, discarded
    sa.Column("source_name", sa.Text),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("source_size", sa.BigInteger),
    sa.Column("format", sa.String(20)),
    sa.Column("encoding", sa.String(40)),
    sa.Column("created_by", sa.String(200)),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("rows_read", sa.Integer, server_default="0"),
    sa.Column("rows_loaded", sa.Integer, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, server_default="0"),
    sa.Column("rows_unchanged", sa.Integer, server_default="0"),
    sa.Column("rows_added", sa.Integer, server_default="0"),
    sa.Column("rows_changed", sa.Integer, server_default="0"),
    sa.Column("rows_removed", sa.Integer, server_default="0"),
    sa.Column("quality_score", sa.Float),
    sa.Column("report", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("pid", sa.Integer),
    # which process runs the load and its last sign of life (publish/leases.py; migration 0005)
    sa.Column("host", sa.String(255)),
    sa.Column("boot_id", sa.String(64)),
    sa.Column("pid_ns", sa.String(64)),
    sa.Column("heartbeat_at", sa.DateTime),
    sa.Index("ix_hub_loads_dataset_version", "dataset", "version"),
)

rejected_rows = sa.Table(
    "hub_rejected_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("load_id", sa.Integer, sa.ForeignKey("hub_loads.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON object of the source text
    sa.Column("errors", sa.Text, nullable=False),  # JSON list of bilingual messages
)

clients = sa.Table(
    "hub_clients",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),  # department, steward, admin
    sa.Column("title", sa.Text),
    sa.Column("contact", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

api_keys = sa.Table(
    "hub_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("hub_clients.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("prefix", sa.String(16), nullable=False, index=True),
    sa.Column("hash", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("last_used_at", sa.DateTime),
)

# One row, bumped by triggers (migration 0006) on every change a resolved key depends on: a key revoked, its
# expiry or owner changed, a client's role or state, a grant. Each keyed request reads it in a statement it makes
# anyway (publish.response_cache.VersionReader), so a key change made by any process counts at its next request.
# Its own MetaData (migration 0006 creates it), and left out of backups (publish/backup.py's discover).
key_generation = sa.Table(
    "hub_key_generation",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger, nullable=False),
)

grants = sa.Table(
    "hub_grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("hub_clients.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("dataset", sa.String(100), nullable=False),
    sa.Column("personal", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("purpose", sa.Text),
    sa.Column("granted_at", sa.DateTime, nullable=False),
    sa.Column("granted_by", sa.String(100)),
    sa.UniqueConstraint("client_id", "dataset", name="uq_hub_grants_client_dataset"),
)

audit_log = sa.Table(
    "hub_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("client", sa.String(100), index=True),
    sa.Column("ip", sa.String(64)),
    sa.Column("method", sa.String(10)),
    sa.Column("path", sa.Text),
    sa.Column("dataset", sa.String(100), index=True),
    sa.Column("query", sa.Text),
    sa.Column("status", sa.Integer),
    sa.Column("rows", sa.Integer),
    sa.Column("personal", sa.Boolean),  # personal fields were returned
    sa.Column("detail", sa.Text),  # JSON: what a management action changed, a refused key's prefix...
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_hub_audit_at", "at"),
)

jobs = sa.Table(
    "hub_jobs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # queued, running, finished, failed
    sa.Column("dataset", sa.String(100)),
    sa.Column("load_id", sa.Integer),
    sa.Column("progress", sa.Float, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("params", sa.Text),
    sa.Column("result", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("created_by", sa.String(100)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    # which process runs the job ("host:pid") and when it last said it was alive: a job whose process died
    # (kill -9, OOM) is marked failed by the next worker start or once its heartbeat is stale (hub/jobs.py)
    sa.Column("worker", sa.String(200)),
    sa.Column("heartbeat_at", sa.DateTime),
    sa.Index("ix_hub_jobs_status", "status"),
)

dataset_stats = sa.Table(
    "hub_dataset_stats",
    metadata,
    sa.Column("dataset", sa.String(100), primary_key=True),
    sa.Column("views", sa.Integer, nullable=False, server_default="0"),
    sa.Column("downloads", sa.Integer, nullable=False, server_default="0"),
)

# Federated CKAN packages: what trusted peers (a district's or another province's hub) push into ours through
# the CKAN Action API (hub/ckan). They are not schema-driven datasets: CKAN's own dictionaries, kept as JSON.
ckan_organizations = sa.Table(
    "hub_ckan_organizations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON: title, description, image_url, extras...
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("modified", sa.DateTime, nullable=False),
)

ckan_packages = sa.Table(
    "hub_ckan_packages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("owner_org", sa.String(36), index=True),
    sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("data", sa.Text, nullable=False),  # JSON: the package dictionary without its resources
    sa.Column("created_by", sa.String(100)),
    sa.Column("metadata_created", sa.DateTime, nullable=False),
    sa.Column("metadata_modified", sa.DateTime, nullable=False),
)

ckan_resources = sa.Table(
    "hub_ckan_resources",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("package_id", sa.String(36), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON: the resource dictionary
    sa.Column("upload_path", sa.Text),  # uploaded file, relative to settings.storage_dir
)

HUB_TABLES = [loads, rejected_rows, clients, api_keys, grants, audit_log, jobs, dataset_stats,
              ckan_organizations, ckan_packages, ckan_resources]

_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "string": sa.Text,
    "integer": sa.BigInteger,
    "number": sa.Float,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "datetime": sa.DateTime,
    "time": sa.Text,
    "year": sa.Integer,
    "geojson": sa.Text,
    "object": sa.Text,
    "array": sa.Text,
}

SYSTEM_COLUMNS = ("_id", "_key", "_hash", "_from", "_to", "_search", "_geom")


def column_type(field_type: str) -> sa.types.TypeEngine[Any]:
    return _TYPES.get(field_type, sa.Text)()


def table_for(dataset: Dataset, md: sa.MetaData | None = None) -> sa.Table:
    """The temporal table of a dataset, derived from its schema (one column per field)."""
    md = md if md is not None else sa.MetaData()
    name = dataset.table_name
    if name in md.tables:
        return md.tables[name]
    schema = dataset.schema
    columns: list[sa.Column[Any]] = [
        sa.Column("_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("_key", sa.Text, nullable=False),
        sa.Column("_hash", sa.String(32), nullable=False),
        sa.Column("_from", sa.Integer, nullable=False),
        sa.Column("_to", sa.Integer),
        sa.Column("_search", sa.Text),
    ]
    for f in schema.fields:
        columns.append(sa.Column(f.name, column_type(f.type), comment=f.title("en")))
    if schema.geometry_kind:
        geometry_type = "POINT" if schema.geometry_kind == "point" else "GEOMETRY"
        columns.append(sa.Column("_geom", Geometry(geometry_type, srid=4326, spatial_index=True)))
    table = sa.Table(name, md, *columns, comment=dataset.title("en"))
    sa.Index(f"ix_{name}_current", table.c._key, unique=True, postgresql_where=table.c._to.is_(None),
             sqlite_where=table.c._to.is_(None))
    sa.Index(f"ix_{name}_key", table.c._key, table.c._from)
    # superseded rows only (the change feed asks `_to > v`): a first load, all current, builds it empty
    sa.Index(f"ix_{name}_to", table.c._to, postgresql_where=table.c._to.is_not(None),
             sqlite_where=table.c._to.is_not(None))
    return table


# The report and scheduler tables live beside their code; registering them on `metadata` here makes every user
# of it (backup's foreign-key order, Alembic's autogenerate) see them. Imported last: they import `metadata`.
from publish import schedule as _schedule  # noqa: E402, F401
from publish.harvest import tables as _harvest_tables  # noqa: E402, F401
from publish.reports import tables as _report_tables  # noqa: E402, F401
