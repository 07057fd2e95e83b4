"""hub_harvests: every harvest attempt of every dataset, what it fetched and what became of it."""

from __future__ import annotations

import sqlalchemy as sa

from publish.tables import metadata

harvests = sa.Table(
    "hub_harvests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.String(100), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # http, folder, ckan, dcat
    sa.Column("status", sa.String(20), nullable=False),  # running, committed, unchanged, failed, dry-run
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("source_url", sa.Text),
    sa.Column("remote_modified", sa.String(64)),  # the source's Last-Modified / metadata_modified, as sent
    sa.Column("etag", sa.String(200)),
    sa.Column("sha256", sa.String(64)),
    sa.Column("rows", sa.Integer),
    sa.Column("load_id", sa.Integer),  # hub_loads.id of the pipeline run
    sa.Column("version", sa.Integer),
    sa.Column("conditional", sa.Boolean, server_default=sa.false()),  # answered 304 / same metadata: nothing fetched
    sa.Column("error_vi", sa.Text),
    sa.Column("error_en", sa.Text),
    sa.Column("worker", sa.String(200)),
)
