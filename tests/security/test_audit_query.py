"""Finding 5: a personal value used as a filter is not stored in the audit log (keyed-hashed instead)."""

from __future__ import annotations

import sqlalchemy as sa

from core.config import Settings
from publish import tables
from publish.audit_query import token
from tests.security.conftest import PERSONAL, PERSONAL_VALUES

CCCD = sorted(v for v in PERSONAL_VALUES if v.isdigit() and len(v) == 12)[0]


def test_a_cccd_filter_is_kept_hashed_in_the_audit_log(attacked, attacked_client) -> None:
    asker = attacked.headers("department-personal")
    for url in (f"/api/v1/datasets/{PERSONAL}/records?holder_id_number={CCCD}",
                f"/api/v1/datasets/{PERSONAL}/records?q={CCCD}",
                f"/api/3/action/datastore_search?resource_id={PERSONAL}&filters=%7B%22holder_id_number%22%3A%22{CCCD}%22%7D"):
        assert attacked_client.get(url, headers=asker).status_code == 200, url
    with attacked.hub.store.audit_engine.connect() as conn:
        queries = [q for (q,) in conn.execute(sa.select(tables.audit_log.c.query)) if q]
    assert not [q for q in queries if CCCD in q]
    key = Settings(secret_key=attacked.hub.settings.secret_key).audit_secret
    assert any(token(key, CCCD) in q for q in queries)  # an auditor with the key finds the requests
    shown = attacked_client.get("/api/v1/admin/audit?limit=1000", headers=attacked.headers("admin"))
    assert shown.status_code == 200 and CCCD not in shown.get_data(as_text=True)
