"""The steward workspace in a real Chromium: sign in, upload a messy file, read the report, download the rows to
fix, discard; upload a clean file and publish it. Plus the rules a browser does not show (CSRF, session,
whose uploads, personal data)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from publish import pipeline
from publish import workspace as uploads
from tests.steward.browser import new_page, screenshot
from tests.steward.reference import MESSY, SAMPLES

WAIT_MS = 120_000  # a check imports Great Expectations once per process: seconds on a busy machine


def _sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url + "/steward/")
    page.wait_for_url("**/steward/login")
    page.get_by_label("Khoá API của cán bộ quản lý dữ liệu").fill(token)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/steward/")


def _upload(page: Any, dataset: str, path: Path) -> None:
    page.get_by_label("Bộ dữ liệu", exact=True).select_option(dataset)
    page.get_by_label("Tệp (CSV, XLSX, XLS, JSON, GeoJSON)").set_input_files(str(path))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    page.wait_for_url("**/steward/uploads/*")
    page.wait_for_selector("#actions", timeout=WAIT_MS)  # the page reloads itself until the check is done


@pytest.mark.browser
def test_steward_checks_a_messy_file_fixes_nothing_discards_it_then_publishes_a_clean_one(
        workspace: dict, browser: Any, tmp_path: Path) -> None:
    page = new_page(browser)
    _sign_in(page, workspace["url"], workspace["tokens"]["steward"])
    assert "so-vhttdl-steward" in page.locator(".steward-name").inner_text()

    _upload(page, "heritage-sites", MESSY / "heritage-sites.csv")
    assert page.locator("#upload-status").inner_text() == "đã kiểm tra"
    report = page.locator("#report")
    assert report.locator("h1").inner_text() == "Báo cáo kiểm tra dữ liệu"
    assert report.locator("svg.chart rect.bar").count() >= 4
    assert report.locator(".hr-grid td.bad").count() >= 6
    assert report.locator("#q-point-outside-province").inner_text().startswith("Không đạt")  # row 17: in HCMC
    assert "chỉ các dòng hợp lệ được nạp" in page.locator("#actions").inner_text()  # heritage: quarantine
    screenshot(page, "steward-report")
    with page.expect_download() as download:
        page.locator("#download-fix").click()
    saved = tmp_path / "rows-to-fix.xlsx"
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["code", "name"] and sheet.max_row > 1
    token = page.url.rsplit("/", 1)[-1]
    page.locator("#discard").click()
    page.wait_for_url("**/steward/")
    assert "Đã huỷ tệp." in page.locator(".flash").inner_text()
    assert not uploads.folder(workspace["hub"], token).exists()

    _upload(page, "heritage-sites", SAMPLES / "heritage-sites.csv")
    assert "tệp sẽ thành phiên bản mới" in page.locator("#actions").inner_text()
    page.locator("#publish").click()
    page.wait_for_selector("#load-result", timeout=WAIT_MS)
    result = page.locator("#load-result").inner_text()
    assert "đã nạp" in result and "Phiên bản 1" in result and "Thêm 48" in result
    page.get_by_role("link", name="Xem báo cáo của lần nạp").click()
    assert page.locator("#report h1").inner_text() == "Báo cáo kiểm tra dữ liệu"
    page.get_by_role("link", name="Lịch sử nạp").first.click()
    # count() does not wait: on a busy machine it ran on the new page's document before its rows were parsed
    page.wait_for_url("**/steward/loads")
    assert page.locator("#loads tbody tr").filter(has_text="heritage-sites.csv").count() == 1
    screenshot(page, "steward-history")
    assert page.problems == [], page.problems  # no CSP violation, no script error
    served = page.request.get(workspace["url"] + "/api/v1/datasets/heritage-sites/records?limit=100").json()
    assert len(served["records"] if "records" in served else served["data"]) == 48
    page.context.close()


def _client(workspace: dict, token: str | None = None):  # noqa: ANN202
    client = workspace["app"].test_client()
    if token:
        csrf = _csrf(client.get("/steward/login").text)
        assert client.post("/steward/login", data={"key": token, "csrf_token": csrf}).status_code == 303
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_department_key_does_not_open_the_workspace(workspace: dict) -> None:
    client = workspace["app"].test_client()
    csrf = _csrf(client.get("/steward/login").text)
    answer = client.post("/steward/login", data={"key": workspace["tokens"]["department"], "csrf_token": csrf})
    assert answer.status_code == 401 and "không phải của cán bộ quản lý dữ liệu" in answer.text
    assert client.get("/steward/").status_code == 303


def test_forms_without_the_session_csrf_token_are_refused(workspace: dict) -> None:
    client = _client(workspace, workspace["tokens"]["steward"])
    answer = client.post("/steward/uploads", data={"dataset": "heritage-sites",
                                                   "file": ((MESSY / "heritage-sites.csv").open("rb"), "x.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400
    assert client.post("/steward/login", data={"key": workspace["tokens"]["steward"]}).status_code == 400


def test_the_session_cookie_holds_a_session_id_not_the_key(workspace: dict) -> None:
    client = _client(workspace, workspace["tokens"]["steward"])
    with client.session_transaction() as session:
        assert len(session["sid"]) >= 40
        assert workspace["tokens"]["steward"] not in repr(dict(session))
    assert client.post("/steward/logout", data={"csrf_token": _csrf(client.get("/steward/").text)}).status_code == 303
    assert client.get("/steward/").status_code == 303


def test_a_steward_cannot_open_another_stewards_upload(workspace: dict) -> None:
    hub = workspace["hub"]
    theirs = uploads.create(hub, "heritage-sites", (SAMPLES / "heritage-sites.csv").open("rb"), "di-tich.csv",
                            "other-steward")
    client = _client(workspace, workspace["tokens"]["steward"])
    assert client.get(f"/steward/uploads/{theirs.token}").status_code == 404
    assert client.get(f"/steward/uploads/{theirs.token}/rows-to-fix.xlsx").status_code == 404
    assert client.get("/steward/uploads/..%2F..%2Fhub.db").status_code == 404
    uploads.discard(hub, uploads.validate(hub, theirs))


def test_a_stored_report_hides_personal_values_from_a_steward_without_the_grant(workspace: dict) -> None:
    hub = workspace["hub"]
    outcome = pipeline.run(hub.store, "licences", MESSY / "licences.csv", user="tests")
    assert outcome.status == "rejected"
    cccd = "074260999556"  # holder_id_number of an individual on a rejected row (3), kept with the refused load
    rows = outcome.report["tasks"][0]["errors"]
    assert any(cccd in (e.get("cells") or []) for e in rows)
    client = _client(workspace, workspace["tokens"]["steward"])
    page = client.get(f"/steward/loads/{outcome.load.load_id}")
    assert page.status_code == 200 and "Báo cáo kiểm tra dữ liệu" in page.text and cccd not in page.text
    for name in ("report.json", "report.html"):
        assert cccd not in client.get(f"/steward/loads/{outcome.load.load_id}/{name}").get_data(as_text=True)
    fix = client.get(f"/steward/loads/{outcome.load.load_id}/rows-to-fix.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(fix.data)).worksheets[0]
    assert fix.status_code == 200 and sheet.max_row > 1
    assert cccd not in {str(c.value) for row in sheet.iter_rows() for c in row}


def test_checking_and_publishing_run_as_jobs_of_the_steward(workspace: dict) -> None:
    """One way to run background work: the workspace's check and publish are hub.jobs jobs (inline here, no
    Redis), recorded under the steward's name, not threads of the web process."""
    import threading

    from hub import jobs

    hub = workspace["hub"]
    client = _client(workspace, workspace["tokens"]["steward"])
    csrf = _csrf(client.get("/steward/").text)
    sent = client.post("/steward/uploads", data={"dataset": "sports-venues", "csrf_token": csrf,
                                                 "file": ((SAMPLES / "sports-venues.csv").open("rb"), "the-thao.csv")},
                       content_type="multipart/form-data")
    assert sent.status_code == 303
    token = sent.headers["Location"].rsplit("/", 1)[-1]
    mine = [j for j in jobs.list_jobs(hub.store, created_by="so-vhttdl-steward") if j.params.get("upload") == token]
    assert [(j.kind, j.status, j.dataset) for j in mine] == [("steward-check", "finished", "sports-venues")]
    assert mine[0].result["status"] == "validated" and mine[0].result["summary"]["refused"] is False
    assert uploads.get(hub, token).status == "validated"

    published = client.post(f"/steward/uploads/{token}/publish", data={"csrf_token": csrf})
    assert published.status_code == 303
    done = [j for j in jobs.list_jobs(hub.store, created_by="so-vhttdl-steward")
            if j.params.get("upload") == token and j.kind == "steward-publish"]
    assert len(done) == 1 and done[0].status == "finished" and done[0].load_id is not None
    assert uploads.get(hub, token).load["version"] >= 1
    assert not [t.name for t in threading.enumerate() if t.name.startswith("steward-")]


def _wait_checked(hub: Any, token: str) -> Any:
    import time

    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        item = uploads.get(hub, token)
        if not item.running:
            return item
        time.sleep(0.2)
    raise AssertionError("the upload never finished")


@pytest.mark.browser
def test_a_file_that_would_remove_most_records_needs_the_stewards_confirmation(
        workspace: dict, browser: Any, tmp_path: Path) -> None:
    hub = workspace["hub"]
    assert pipeline.run(hub.store, "sports-venues", SAMPLES / "sports-venues.csv").status in ("committed", "unchanged")
    total = len((SAMPLES / "sports-venues.csv").read_text(encoding="utf-8").splitlines()) - 1
    part = tmp_path / "cong-trinh-mot-phan.csv"
    part.write_text("".join((SAMPLES / "sports-venues.csv").read_text(encoding="utf-8").splitlines(True)[:6]),
                    encoding="utf-8")
    page = new_page(browser)
    _sign_in(page, workspace["url"], workspace["tokens"]["steward"])
    _upload(page, "sports-venues", part)
    impact = page.locator("#impact").inner_text()
    assert page.locator("#impact-removed").inner_text() == str(total - 5)
    assert "TT-0006" in page.locator("#removed-keys").inner_text()
    assert "sẽ xoá" in page.locator("#shrink-warning").inner_text() and "Xoá" in impact
    token = page.url.rsplit("/", 1)[-1]

    # publishing without the confirmation (a form posted by hand): refused, nothing removed, back to checked
    client = _client(workspace, workspace["tokens"]["steward"])
    csrf = _csrf(client.get(f"/steward/uploads/{token}").text)
    assert client.post(f"/steward/uploads/{token}/publish", data={"csrf_token": csrf}).status_code == 303
    item = _wait_checked(hub, token)
    assert item.status == "validated" and item.error["code"] == "shrink-refused"
    assert hub.store.current_version("sports-venues") == 1

    page.reload()
    page.locator("#confirm-shrink").check()
    page.locator("#publish").click()
    page.wait_for_selector("#load-result", timeout=WAIT_MS)
    assert f"Xoá {total - 5}" in page.locator("#load-result").inner_text()
    assert hub.store.current_version("sports-venues") == 2
    assert page.problems == [], page.problems
    page.context.close()
