"""The catalogue search index: which datasets match a citizen's words, best first.

One document per dataset, built from the catalogue alone (titles, descriptions, keywords in both languages,
and the names and titles of the fields an anonymous citizen may see), so it is (re)built at app start and
never goes stale between loads. Text is folded with `core.text.search_fold` on the way in and on the way out: FTS5
and PostgreSQL's 'simple' configuration ignore case, but neither folds 'đ' to 'd' (pitfalls.md).

- SQLite: an FTS5 virtual table, ranked by bm25 with the title weighing more than the body.
- PostgreSQL: a plain table holding the folded text and a tsvector ('simple' config, title weight A, body
  weight B), ranked by ts_rank.

Table names do not start with `hub_`: those belong to Alembic (publish/migrations/env.py ignores the rest).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.catalog import Catalog, Dataset
from core.text import search_fold, search_words
from publish.access import ANONYMOUS, Viewer, can_see_dataset, visible_fields
from publish.listing import listed
from publish.store import Store

TABLE = "web_catalogue_search"
_LOCK_KEY = 0x5EA7C4  # PostgreSQL advisory lock: several workers may start at once

__all__ = ["Hit", "build_index", "document", "search"]


@dataclass(frozen=True)
class Hit:
    dataset: str
    score: float


def document(dataset: Dataset) -> tuple[str, str]:
    """(title, body) of a dataset, folded: what the index holds."""
    title = " ".join(dict.fromkeys([dataset.title("vi"), dataset.title("en")]))
    parts = [dataset.description("vi"), dataset.description("en"), dataset.id]
    parts += dataset.keywords("vi") + dataset.keywords("en")
    shown = set(visible_fields(dataset, ANONYMOUS))  # a field the public cannot see is not advertised either
    for f in dataset.schema.fields:
        if f.name in shown:
            parts += [f.name, f.name.replace("_", " "), f.title("vi"), f.title("en")]
    return search_fold(title), search_fold(" ".join(p for p in parts if p))


def build_index(store: Store, catalog: Catalog) -> None:
    """Drop and refill the index from the catalogue, in one transaction."""
    rows = [{"dataset": ds.id, "title": t, "body": b} for ds in catalog for t, b in [document(ds)]]
    if store.dialect == "postgresql":
        _build_postgres(store, rows)
    else:
        _build_sqlite(store, rows)


def _build_sqlite(store: Store, rows: list[dict[str, str]]) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {TABLE} USING fts5(dataset UNINDEXED, title, body, "
                             "tokenize = 'unicode61 remove_diacritics 2')")
        if rows:
            conn.execute(sa.text(f"INSERT INTO {TABLE} (dataset, title, body) VALUES (:dataset, :title, :body)"), rows)


def _build_postgres(store: Store, rows: list[dict[str, str]]) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (dataset text PRIMARY KEY, title text NOT NULL, "
                             "body text NOT NULL, doc tsvector NOT NULL)")
        conn.exec_driver_sql(f"CREATE INDEX {TABLE}_doc ON {TABLE} USING gin (doc)")
        if rows:
            conn.execute(sa.text(
                f"INSERT INTO {TABLE} (dataset, title, body, doc) VALUES (:dataset, :title, :body, "
                "setweight(to_tsvector('simple', :title), 'A') || setweight(to_tsvector('simple', :body), 'B'))"
            ), rows)


def search(store: Store, catalog: Catalog, q: str | None, viewer: Viewer = ANONYMOUS) -> list[Hit]:
    """Datasets the viewer may see matching every word of `q` (each word also as a prefix), best first.

    An empty query matches every visible dataset with score 0.
    """
    visible = [ds.id for ds in listed(store, [ds for ds in catalog if can_see_dataset(ds, viewer)])]
    words = search_words(q)
    if not words:
        return [Hit(d, 0.0) for d in visible]
    if store.dialect == "postgresql":
        # search_words leaves only word characters, so no tsquery operator can be smuggled in
        tsquery = " & ".join(f"{w}:*" for w in words)
        stmt = sa.text(f"SELECT dataset, ts_rank(doc, to_tsquery('simple', :q)) AS score FROM {TABLE} "
                       "WHERE doc @@ to_tsquery('simple', :q) ORDER BY score DESC, dataset")
        params = {"q": tsquery}
    else:
        match = " ".join(f'"{w}"*' for w in words)
        # bm25 is lower-is-better; negate it so every backend returns higher-is-better
        stmt = sa.text(f"SELECT dataset, -bm25({TABLE}, 0.0, 4.0, 1.0) AS score FROM {TABLE} "
                       f"WHERE {TABLE} MATCH :q ORDER BY score DESC, dataset")
        params = {"q": match}
    with store.engine.connect() as conn:
        found = conn.execute(stmt, params).all()
    allowed = set(visible)
    return [Hit(row.dataset, float(row.score)) for row in found if row.dataset in allowed]
