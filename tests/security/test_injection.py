"""Injection corpus: SQL, FTS, JSON and path payloads in every query parameter of the records API and the CKAN
datastore_search: never a server error, never a personal value or a restricted row to an anonymous caller."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.hub.api.conftest import restricted_values
from tests.security.conftest import PERSONAL, leaked

PAYLOADS = [
    "' OR '1'='1", "1' OR 1=1 --", "\" OR \"\"=\"", "1; DROP TABLE hub_audit; --", "') UNION SELECT * FROM hub_keys --",
    "holder_id_number", "*", "%", "_", "\\", "' AND sleep(5) --", "1 OR pg_sleep(5)", "NEAR(a b)", "a\" OR \"b",
    "../../etc/passwd", "${jndi:ldap://x}", "{{7*7}}", "<script>alert(1)</script>", "😀" * 50, "đ" * 500,
    "-1", "1e309", "NaN", "[]", "{}", '{"$and": [{"holder_kind": "ca_nhan"}]}',
]
PARAMS = ["q", "sort", "fields", "holder_kind", "holder_kind__in", "number__contains", "commune", "bbox", "near",
          "limit", "offset", "cursor", "as_of", "format", "labels"]


@pytest.mark.parametrize("param", PARAMS)
def test_records_api_payloads(attacked_client, param: str) -> None:
    secret = restricted_values()
    for payload in PAYLOADS:
        for dataset in (PERSONAL, "heritage-sites"):
            answer = attacked_client.get(f"/api/v1/datasets/{dataset}/records?{param}={quote(payload)}")
            assert answer.status_code < 500, (dataset, param, payload, answer.status_code)
            text = answer.get_data(as_text=True)
            assert leaked(text) == [] and not [v for v in secret if len(v) > 6 and v in text], (param, payload)


@pytest.mark.parametrize("param", ["q", "filters", "sort", "fields", "distinct", "plain", "language"])
def test_ckan_datastore_search_payloads(attacked_client, param: str) -> None:
    for payload in PAYLOADS:
        answer = attacked_client.get(f"/api/3/action/datastore_search?resource_id=heritage-sites&{param}="
                                     + quote(payload))
        assert answer.status_code < 500, (param, payload, answer.status_code)
        assert leaked(answer.get_data(as_text=True)) == []
