"""Finding 10: crafted input ends as a clear 4xx (bilingual on the sharing API), never a 500."""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import PERSONAL

OPEN = "heritage-sites"


def resource_download_url(client) -> str:  # noqa: ANN001
    package = client.get(f"/api/3/action/package_show?id={OPEN}").json["result"]
    resource = package["resources"][0]
    return f"/dataset/{package['id']}/resource/{resource['id']}/download/x.csv"


def test_ckan_download_with_a_bad_key_is_401_not_500(attacked, attacked_client) -> None:
    url = resource_download_url(attacked_client)
    for header in ({"Authorization": "hub_bad_key"}, {"Authorization": "Bearer nonsense"},
                   {"X-CKAN-API-Key": "hub_abc_def"}):
        answer = attacked_client.get(url, headers=header)
        assert answer.status_code in (401, 403), (header, answer.status_code)


@pytest.mark.parametrize("query", [
    "offset=100000000000000000000000",
    "limit=10&offset=-1",
    "cursor=eyJ2IjogWzFdLCAibyI6IDB9",
    "cursor=eyJ2IjogMSwgIm8iOiAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDB9",
    "cursor=!!!",
])
def test_overflowing_and_forged_parameters_are_400(attacked_client, query: str) -> None:
    answer = attacked_client.get(f"/api/v1/datasets/{OPEN}/records?{query}")
    assert answer.status_code == 400, (query, answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.json["message"]["vi"] and answer.json["message"]["en"]


@pytest.mark.parametrize("query", ["star_rank=100000000000000000000000", "star_rank__gt=-100000000000000000000000",
                                   "star_rank__in=1,100000000000000000000000"])
def test_overflowing_integer_filters_are_400(attacked_client, query: str) -> None:
    answer = attacked_client.get(f"/api/v1/datasets/accommodation/records?{query}")
    assert answer.status_code == 400, (query, answer.status_code, answer.get_data(as_text=True)[:300])
    assert answer.json["message"]["vi"] and answer.json["message"]["en"]


@pytest.mark.parametrize("body", [
    '{"resource_id": "heritage-sites", "q": "\\ud800"}',
    '{"id": "\\ud800"}',
    '{"resource_id": "heritage-sites", "filters": ' + '{"a": ' * 1500 + '1' + '}' * 1500 + '}',
    '{"resource_id": "heritage-sites", "offset": 100000000000000000000000}',
    '{"resource_id": "heritage-sites", "filters": {"$and": ' + '[{"$and": ' * 1200 + '[]' + '}]' * 1200 + '}}',
])
def test_crafted_ckan_parameters_are_4xx(attacked_client, body: str) -> None:
    for action in ("datastore_search", "package_show"):
        answer = attacked_client.post(f"/api/3/action/{action}", data=body, content_type="application/json")
        assert 400 <= answer.status_code < 500, (action, body[:80], answer.status_code, answer.get_data(as_text=True)[:300])
        body = answer.json  # CKAN answers a request it cannot read with a JSON string, else its envelope
        assert isinstance(body, str) or body["success"] is False


def test_datastore_search_filters_nested_deep_in_a_query_string_is_400(attacked_client) -> None:
    deep = json.dumps({"resource_id": PERSONAL})  # a valid start
    answer = attacked_client.get("/api/3/action/datastore_search?resource_id=heritage-sites&filters="
                                 + "%7B%22a%22%3A" * 1500 + "1" + "%7D" * 1500)
    assert 400 <= answer.status_code < 500 and deep


@pytest.mark.parametrize("path", ["loads/15031000741274", "loads/15031000741274/rejected?limit=5"])
def test_a_load_id_beyond_the_databases_integers_names_no_load(attacked, attacked_client, path: str) -> None:
    # found by the fuzz test on PostgreSQL: "integer out of range" was a 500
    answer = attacked_client.get(f"/api/v1/datasets/{OPEN}/{path}", headers=attacked.headers("admin"))
    assert answer.status_code == 404, (path, answer.status_code, answer.get_data(as_text=True)[:300])
