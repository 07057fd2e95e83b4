"""Validation reports and rejected rows for data stewards, with personal values blanked unless granted."""

from __future__ import annotations

import json

from publish import clients
from tests.hub.api.conftest import PERSONAL, RESTRICTED, Secured, personal_values


def _report_urls(secured: Secured) -> tuple[str, str]:
    base = f"/api/v1/datasets/{PERSONAL}/loads/{secured.rejected_load}"
    return base, base + "/rejected"


def test_steward_lists_loads_newest_first(secured: Secured, secured_client) -> None:  # noqa: ANN001
    body = secured_client.get(f"/api/v1/datasets/{PERSONAL}/loads", headers=secured.headers("steward")).get_json()
    statuses = [load["status"] for load in body["loads"]]
    assert statuses[0] == "rejected" and "committed" in statuses
    assert body["loads"][0]["id"] == secured.rejected_load and body["loads"][0]["rows_rejected"] > 0
    restricted = secured_client.get(f"/api/v1/datasets/{RESTRICTED}/loads", headers=secured.headers("steward"))
    assert restricted.status_code == 200  # stewards look after every dataset, restricted ones too


def test_steward_reads_report_and_rejected_rows_without_personal_values(secured: Secured, secured_client) -> None:  # noqa: ANN001
    report_url, rejected_url = _report_urls(secured)
    report = secured_client.get(report_url, headers=secured.headers("steward")).get_json()
    errors = report["report"]["tasks"][0]["errors"]
    assert report["status"] == "rejected" and len({e["rowNumber"] for e in errors}) == report["rows_rejected"]
    fields = {e.get("fieldName") for e in errors}
    assert {"issue_date", "holder_id_number"} <= fields  # the steward still learns what is wrong, and where
    id_error = next(e for e in errors if e.get("fieldName") == "holder_id_number")
    assert id_error["cell"] is None and id_error["rowNumber"] and "***" in id_error["messages"]["vi"]
    rejected = secured_client.get(rejected_url, headers=secured.headers("steward")).get_json()
    assert len(rejected["rows"]) == rejected["rows_rejected"]
    individual = next(r for r in rejected["rows"] if r["data"]["holder_kind"] == "ca_nhan")
    assert individual["data"]["holder_id_number"] is None and individual["data"]["holder_name"] is None
    organisation = next(r for r in rejected["rows"] if r["data"]["holder_kind"] == "to_chuc")
    assert organisation["data"]["holder_name"]  # an organisation's name is not personal
    text = json.dumps(report, ensure_ascii=False) + json.dumps(rejected, ensure_ascii=False)
    assert not [v for v in personal_values() if v in text]


def test_steward_granted_personal_data_sees_the_values(secured: Secured, secured_client) -> None:  # noqa: ANN001
    name = f"steward-personal-{secured.hub.store.dialect}"
    if name not in {c["name"] for c in clients.clients(secured.hub.store)}:
        clients.create_client(secured.hub.store, name, "steward", actor="tests")
        clients.grant(secured.hub.store, name, PERSONAL, personal=True, purpose="Sửa dữ liệu nguồn / fixing the source",
                   granted_by="tests")
    headers = {"Authorization": f"Bearer {clients.issue_key(secured.hub.store, name, actor='tests').token}"}
    _, rejected_url = _report_urls(secured)
    rows = secured_client.get(rejected_url, headers=headers).get_json()["rows"]
    assert any(r["data"]["holder_id_number"] == "07512345678" for r in rows)


def test_reports_are_for_stewards_and_admins_only(secured: Secured, secured_client) -> None:  # noqa: ANN001
    report_url, rejected_url = _report_urls(secured)
    for url in (report_url, rejected_url):
        assert secured_client.get(url).status_code == 401
        assert secured_client.get(url, headers=secured.headers("department-personal")).status_code == 403
        assert secured_client.get(url, headers=secured.headers("admin")).status_code == 200
    other = f"/api/v1/datasets/heritage-sites/loads/{secured.rejected_load}"
    assert secured_client.get(other, headers=secured.headers("steward")).status_code == 404  # not that dataset's load
    bad = secured_client.get(rejected_url + "?limit=0", headers=secured.headers("steward"))
    assert bad.status_code == 400 and bad.get_json()["context"]["field"] == "limit"


def test_unknown_source_columns_are_hidden_like_personal_ones(secured: Secured) -> None:
    from hub.api.reports import redact_row
    from publish.access import Viewer

    dataset = secured.hub.catalog.dataset(PERSONAL)
    data = {"number": "GP-1", "holder_kind": "to_chuc", "holder_name": "Công ty A", "Số CMND cũ": "023456789012"}
    errors = ["Dòng 4: cột lạ «Số CMND cũ» = 023456789012"]
    shown, messages = redact_row(dataset, Viewer(name="s", role="steward"), data, errors)
    assert shown == {"number": "GP-1", "holder_kind": "to_chuc", "holder_name": "Công ty A", "Số CMND cũ": None}
    assert "023456789012" not in messages[0]
    granted = Viewer(name="s", role="steward", personal=frozenset({PERSONAL}))
    assert redact_row(dataset, granted, data, errors) == (data, errors)
