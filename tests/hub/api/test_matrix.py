"""Every GET endpoint of the app, for every kind of caller: no personal value and no restricted row reaches a
caller without the grant, and the sharing API never answers 5xx.

The endpoints come from the app's URL map, so a route added later is covered without editing this file; path
parameters are filled with every dataset, a record key, a load id. The checks look at the bytes sent: the
personal values of the licences samples and the codes and names of the restricted dataset's rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from publish import versions
from tests.hub.api.conftest import CALLERS, PERSONAL, RESTRICTED, Secured, personal_values, restricted_values

SEES_PERSONAL = {"department-personal"}
SEES_RESTRICTED = {"department-granted", "department-personal", "steward", "admin"}
SKIP_ENDPOINTS = {"static", "web.static", "web.leaflet", "restx_doc.static", "api.doc", "ckan.download"}
RECORD_VARIANTS = ["?limit=1000", "?format=geojson&limit=1000", "?format=csv"]
# /metrics names every dataset (not its rows); it answers only loopback (as the test client is) and admin keys.
NAMES_DATASETS = {"/metrics"}
CKAN_READS = ["package_list", "current_package_list_with_resources?limit=100", "package_search?rows=100",
              "organization_list?all_fields=true"]


def _key(secured: Secured, dataset_id: str) -> str:
    """A record key of the dataset: for licences, one whose holder is an individual (personal values)."""
    from publish import query as q
    from publish.access import Viewer

    dataset = secured.hub.catalog.dataset(dataset_id)
    filters = [q.Filter("holder_kind", "eq", "ca_nhan")] if dataset_id == PERSONAL else []
    admin = Viewer(name="t", role="admin", personal=frozenset({dataset_id}))
    row = q.records(secured.hub.store, dataset, q.Query(filters=filters, limit=1), admin, count=False).rows[0]
    return ",".join(str(row[k]) for k in dataset.schema.primary_key)


def _urls(secured: Secured, app: Flask) -> list[str]:
    out: set[str] = set()
    # the reports' statistics datasets are empty here (no report produced): they have no record to walk
    datasets = [ds.id for ds in secured.hub.catalog if not ds.report] + ["no-such-dataset"]
    loads = {ds: [ld["id"] for ld in versions.loads(secured.hub.store, ds)] for ds in datasets[:-1]}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
                continue
            args = set(rule.arguments)
            if not args:
                out.add(rule.rule)
                continue
            if rule.endpoint == "ckan.action":
                continue  # below, with query strings
            for ds in datasets:
                values: dict[str, Any] = {}
                for name in args:
                    if name in ("dataset_id", "package_id", "id"):
                        values[name] = ds
                    elif name == "key":
                        values[name] = _key(secured, ds) if ds in loads else "x"
                    elif name == "load_id":
                        values[name] = max(loads.get(ds) or [1])
                    elif name == "fmt":
                        values[name] = "csv"
                    elif name == "publisher_id":
                        values[name] = secured.hub.catalog.dataset(ds).publisher if ds in loads else "x"
                    elif name == "name":
                        values[name] = "department"
                    else:
                        values[name] = "1" if "int" in str(rule._converters[name]).lower() else "x"  # noqa: SLF001
                try:
                    url = url_for(rule.endpoint, **values)
                except Exception:  # noqa: BLE001 - a converter refusing our value: nothing to probe
                    continue
                if url.endswith("/records"):
                    out.update(url + v for v in RECORD_VARIANTS)
                else:
                    out.add(url)
        if any(r.endpoint == "ckan.action" for r in app.url_map.iter_rules()):
            out.update(f"/api/3/action/{a}" for a in CKAN_READS)
            for ds in datasets:
                out.add(f"/api/3/action/package_show?id={ds}")
    return sorted(out)


def _ckan_resources(secured: Secured, client: Any) -> list[str]:
    """datastore_search URLs for every resource the admin can find (the probe then asks as every caller)."""
    urls = []
    for ds in secured.hub.catalog:
        body = client.get(f"/api/3/action/package_show?id={ds.id}", headers=secured.headers("admin"))
        if body.status_code != 200:
            continue
        for resource in (body.get_json() or {}).get("result", {}).get("resources", []):
            urls.append(f"/api/3/action/datastore_search?resource_id={resource['id']}&limit=1000")
    return urls


def _text(response: Any) -> str:
    """What the caller received, with JSON decoded so escaped letters (\\u1ea1) cannot hide a value."""
    raw = response.get_data(as_text=True)
    if response.mimetype and "json" in response.mimetype:
        try:
            return raw + json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            return raw
    return raw


@pytest.fixture(scope="module")
def probe(secured: Secured) -> dict[tuple[str, str], tuple[int, str]]:
    """(caller, url) -> (status, body text) for every GET endpoint and every caller."""
    app = secured.app()
    client = app.test_client()
    urls = _urls(secured, app) + _ckan_resources(secured, client)
    answers = {}
    for url in urls:
        for caller in CALLERS:
            with client.get(url, headers=secured.headers(caller)) as response:
                answers[(caller, url)] = (response.status_code, _text(response))
    return answers


def test_matrix_reaches_every_kind_of_endpoint(probe: dict) -> None:
    urls = {url for _, url in probe}
    for expected in ("/api/v1/datasets", f"/api/v1/datasets/{PERSONAL}/records?format=csv", f"/api/v1/datasets/{RESTRICTED}",
                     f"/api/v1/datasets/{PERSONAL}/loads", "/api/v1/admin/audit", "/api/v1/swagger.json"):
        assert expected in urls
    assert any("/loads/" in u and u.endswith("/rejected") for u in urls)
    assert any(u.startswith(f"/api/v1/datasets/{PERSONAL}/records/") for u in urls)


def test_no_personal_value_reaches_a_caller_without_the_personal_grant(probe: dict) -> None:
    secrets = personal_values()
    assert len(secrets) > 50  # names, ID numbers and phones of individual licence holders
    leaks = [(caller, url, sorted(s for s in secrets if s in text)[:3])
             for (caller, url), (_, text) in probe.items()
             if caller not in SEES_PERSONAL and any(s in text for s in secrets)]
    assert leaks == []


def test_no_restricted_row_or_id_reaches_a_caller_without_access(probe: dict) -> None:
    secrets = restricted_values()
    leaks = []
    for (caller, url), (_, text) in probe.items():
        if caller in SEES_RESTRICTED:
            continue
        found = sorted(s for s in secrets if s in text and s not in url)[:3]  # echoing the caller's URL is no leak
        if RESTRICTED in text and RESTRICTED not in url and url not in NAMES_DATASETS:
            found.append(f"the id «{RESTRICTED}»")
        if found:
            leaks.append((caller, url, found))
    assert leaks == []


def test_granted_callers_do_get_what_they_were_granted(probe: dict) -> None:
    """The two tests above would pass on an API that answers nothing: these answers must carry the data."""
    personal = personal_values()
    records = f"/api/v1/datasets/{PERSONAL}/records?limit=1000"
    status, text = probe[("department-personal", records)]
    assert status == 200 and sum(s in text for s in personal) > 20
    status, text = probe[("department-granted", f"/api/v1/datasets/{RESTRICTED}/records?limit=1000")]
    assert status == 200 and all(code in text for code in restricted_values() if code.startswith("TT-"))
    status, text = probe[("department", records)]
    assert status == 200 and "holder_id_number" not in json.loads(text.split("\n")[0])["fields"]


def test_sharing_api_never_answers_5xx(probe: dict) -> None:
    errors = [(caller, url, status) for (caller, url), (status, _) in probe.items()
              if url.startswith("/api/v1") and status >= 500]
    assert errors == []


ALL = {c: 200 for c in CALLERS}
STEWARDS = {"anonymous": 401, "department": 403, "department-granted": 403, "department-personal": 403,
            "steward": 200, "admin": 200}
ADMINS = {**STEWARDS, "steward": 403}
HIDDEN = {**ALL, "anonymous": 404, "department": 404}


@pytest.mark.parametrize("url, expected", [
    ("/api/v1/datasets/heritage-sites/records?limit=1000", ALL),
    (f"/api/v1/datasets/{PERSONAL}", {**ALL, "anonymous": 404}),
    (f"/api/v1/datasets/{PERSONAL}/records?limit=1000", {**ALL, "anonymous": 404}),
    (f"/api/v1/datasets/{RESTRICTED}", HIDDEN),
    (f"/api/v1/datasets/{RESTRICTED}/records?limit=1000", HIDDEN),
    (f"/api/v1/datasets/{RESTRICTED}/records?format=csv", HIDDEN),
    (f"/api/v1/datasets/{PERSONAL}/loads", STEWARDS),
    (f"/api/v1/datasets/{RESTRICTED}/loads", STEWARDS),
    # a department cannot tell an unknown dataset from a forbidden one: both 403, decided before the lookup
    ("/api/v1/datasets/no-such-dataset/loads", {**STEWARDS, "steward": 404, "admin": 404}),
    ("/api/v1/admin/clients", ADMINS),
    ("/api/v1/admin/audit", ADMINS),
    ("/api/v1/admin/audit/verify", ADMINS),
])
def test_status_codes_reveal_nothing_to_callers_without_access(probe: dict, url: str, expected: dict) -> None:
    got = {caller: probe[(caller, url)][0] for caller in CALLERS}
    assert got == expected


def test_personal_fields_cannot_be_used_as_an_oracle(secured_client, secured: Secured) -> None:  # noqa: ANN001
    """Filtering or sorting on a field blanked for the caller would reveal it row by row."""
    from tests.hub.api.conftest import SAMPLES

    name = next(v for v in personal_values() if " " in v)  # an individual's name
    for query in (f"holder_name={name}", f"holder_name__contains={name[:4]}", "sort=holder_name",
                  "holder_id_number=079193999442"):
        answer = secured_client.get(f"/api/v1/datasets/{PERSONAL}/records?{query}",
                                    headers=secured.headers("department"))
        assert answer.status_code == 400, query
    granted = secured_client.get(f"/api/v1/datasets/{PERSONAL}/records?holder_name={name}",
                                 headers=secured.headers("department-personal")).get_json()
    assert granted["total"] >= 1 and SAMPLES.exists()
