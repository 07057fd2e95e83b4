"""Finding 1: jobs are their owner's (and admins'), and every report served passes the personal-field
redaction: a steward or admin without the grant never reads another's (or even its own) personal values
through /api/v1/jobs or the upload's answer."""

from __future__ import annotations

from tests.security.conftest import MESSY_LICENCES, PERSONAL, leaked


def upload(client, headers: dict[str, str]):  # noqa: ANN001, ANN201
    with MESSY_LICENCES.open("rb") as handle:
        return client.post(f"/api/v1/datasets/{PERSONAL}/uploads", headers=headers,
                           data={"file": (handle, "licences.csv")}, content_type="multipart/form-data")


def test_another_steward_cannot_see_a_stewards_job(attacked, attacked_client) -> None:
    answer = upload(attacked_client, attacked.headers("steward"))
    assert answer.status_code == 422, answer.json
    job_id = answer.json["job"]["id"]
    other = attacked.headers("steward-b")
    assert attacked_client.get(f"/api/v1/jobs/{job_id}", headers=other).status_code == 404
    listed = attacked_client.get("/api/v1/jobs", headers=other)
    assert listed.status_code == 200
    assert job_id not in [j["id"] for j in listed.json]
    mine = attacked_client.get("/api/v1/jobs", headers=attacked.headers("steward"))
    assert job_id in [j["id"] for j in mine.json]
    assert leaked(mine.get_data(as_text=True)) == []


def test_admin_sees_every_job_but_no_personal_value_without_the_grant(attacked, attacked_client) -> None:
    answer = upload(attacked_client, attacked.headers("steward"))
    job_id = answer.json["job"]["id"]
    assert leaked(answer.get_data(as_text=True)) == []  # the uploader has no grant either
    for caller in ("admin",):
        one = attacked_client.get(f"/api/v1/jobs/{job_id}", headers=attacked.headers(caller))
        assert one.status_code == 200
        assert one.json["result"]["report"]["tasks"], "the report is still there, blanked"
        assert leaked(one.get_data(as_text=True)) == []
        listed = attacked_client.get("/api/v1/jobs", headers=attacked.headers(caller))
        assert job_id in [j["id"] for j in listed.json]
        assert leaked(listed.get_data(as_text=True)) == []


def test_a_granted_uploader_sees_its_own_report_whole(attacked, attacked_client) -> None:
    answer = upload(attacked_client, attacked.headers("steward-personal"))
    assert leaked(answer.get_data(as_text=True)), "the granted steward sees the cells it must fix"
    job_id = answer.json["job"]["id"]
    assert leaked(attacked_client.get(f"/api/v1/jobs/{job_id}", headers=attacked.headers("steward-personal"))
                  .get_data(as_text=True))
    # an admin granted the personal data reads it as well; a department never sees a steward's job
    assert attacked_client.get(f"/api/v1/jobs/{job_id}", headers=attacked.headers("department-personal")
                               ).status_code == 404
