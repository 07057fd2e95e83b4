"""Errors as CKAN gives them: the `__type` a client raises from, CKAN's HTTP status, and our bilingual text."""

from __future__ import annotations

import pytest
import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, SearchQueryError, ValidationError


@pytest.fixture(scope="module")
def ckan(live_hub) -> RemoteCKAN:  # noqa: ANN001
    return RemoteCKAN(live_hub.url)


def test_missing_dataset_is_not_found(ckan: RemoteCKAN, live_hub) -> None:  # noqa: ANN001
    with pytest.raises(NotFound) as raised:
        ckan.action.package_show(id="no-such-dataset")
    assert "no-such-dataset" in str(raised.value)
    answer = requests.get(f"{live_hub.url}/api/3/action/package_show?id=no-such-dataset", timeout=30)
    assert answer.status_code == 404
    body = answer.json()
    assert body["success"] is False and body["error"]["__type"] == "Not Found Error"
    assert body["error"]["message"].startswith("Not found: Không có bộ dữ liệu")


def test_shared_dataset_is_not_found_for_anonymous_callers(ckan: RemoteCKAN) -> None:
    with pytest.raises(NotFound):
        ckan.action.package_show(id="licences")  # exists, but anonymous callers are not told so
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id="licences")


def test_unknown_search_parameter_is_a_search_query_error(ckan: RemoteCKAN, live_hub) -> None:  # noqa: ANN001
    with pytest.raises(SearchQueryError) as raised:
        ckan.action.package_search(q="di tich", colour="blue")
    assert "colour" in str(raised.value)
    answer = requests.post(f"{live_hub.url}/api/action/package_search", json={"colour": "blue"}, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"]["__type"] == "Search Query Error"


def test_bad_parameter_values_are_validation_errors(ckan: RemoteCKAN, live_hub) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as raised:
        ckan.action.package_search(rows="many")
    assert raised.value.error_dict["rows"] == ["Invalid integer"]
    with pytest.raises(SearchQueryError):
        ckan.action.package_search(sort="popularity sideways")
    with pytest.raises(ValidationError) as raised:
        ckan.action.datastore_search(resource_id="heritage-sites", fields="code,colour")
    assert raised.value.error_dict["fields"] == ['invalid value "colour"']
    with pytest.raises(ValidationError) as raised:
        ckan.action.datastore_search(resource_id="heritage-sites", filters={"colour": "blue"})
    assert raised.value.error_dict["filters"] == ["Unknown field: colour"]
    answer = requests.get(f"{live_hub.url}/api/3/action/package_search?rows=-1", timeout=30)
    assert answer.status_code == 409 and answer.json()["error"]["rows"] == ["Must be a natural number"]


def test_missing_required_parameter_names_it(ckan: RemoteCKAN) -> None:
    with pytest.raises(ValidationError) as raised:
        ckan.action.organization_show()
    assert raised.value.error_dict["id"] == ["Missing value"]


def test_unknown_action_is_a_bad_request_not_a_redirect(live_hub) -> None:  # noqa: ANN001
    answer = requests.post(f"{live_hub.url}/api/action/package_explode", json={}, allow_redirects=False, timeout=30)
    assert answer.status_code == 400
    assert "Action name not known: package_explode" in answer.json()
    with pytest.raises(CKANAPIError):
        RemoteCKAN(live_hub.url).call_action("package_explode")


def test_write_actions_need_post_and_a_steward_key(ckan: RemoteCKAN, live_hub) -> None:  # noqa: ANN001
    answer = requests.get(f"{live_hub.url}/api/3/action/package_create?name=x", timeout=30)
    assert answer.status_code == 400 and "Please use POST" in answer.json()
    with pytest.raises(NotAuthorized):
        ckan.action.package_create(name="mot-bo-du-lieu", owner_org="van-phong-so")


def test_a_bad_api_key_is_refused_not_treated_as_anonymous(live_hub) -> None:  # noqa: ANN001
    with pytest.raises(NotAuthorized):
        RemoteCKAN(live_hub.url, apikey="hub_deadbeef_not-a-real-key").action.package_list()
