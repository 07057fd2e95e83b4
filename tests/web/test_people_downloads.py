"""Downloads for people (publish/exports/people.py) from the dataset page, on both backends: Vietnamese headers,
labels and ward names, fitted widths, frozen header, autofilter and an information sheet; the current filters,
search and sort kept."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import load_workbook

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_excel_for_people_keeps_the_filters_and_speaks_vietnamese(sample_client) -> None:  # noqa: ANN001
    hotels = [h for h in _sample("accommodation.csv") if h["star_rank"] and int(h["star_rank"]) >= 3]
    page = sample_client.get("/datasets/accommodation?f.star_rank__gte=3&sort=-star_rank").get_data(as_text=True)
    link = re.search(r'href="(/datasets/accommodation/people\.xlsx\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "star_rank__gte=3" in link and "f.star" not in link and "sort=-star_rank" in link
    assert f"Tải về {len(hotels)} bản ghi này" in page and "khoảng" in page
    response = sample_client.get(link)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="accommodation-loc.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Dữ liệu", "Thông tin"]
    sheet = book["Dữ liệu"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:6] == ["Mã cơ sở lưu trú", "Mã số doanh nghiệp", "Tên cơ sở lưu trú", "Loại hình lưu trú", "Hạng sao",
                          "Số buồng"]
    assert header[header.index("Mã xã/phường") + 1] == "Xã/phường"
    assert "star_rank" not in header and "commune_code" not in header
    body = rows[1:]
    assert len(body) == len(hotels)
    stars = [r[header.index("Hạng sao")] for r in body]
    assert stars == sorted(stars, reverse=True) and min(stars) >= 3  # the sort and the filter kept
    assert {r[header.index("Loại hình lưu trú")] for r in body} == {"Khách sạn"}  # labels, not khach_san
    assert {r[header.index("Tình trạng")] for r in body} <= {"Đang hoạt động", "Tạm ngừng kinh doanh", "Ngừng hoạt động"}
    wards = {r[header.index("Xã/phường")] for r in body}
    assert all(w.startswith(("Phường ", "Xã ")) for w in wards)
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}{len(body) + 1}"
    assert sheet.freeze_panes == "A2"
    name_col = sheet.cell(1, header.index("Tên cơ sở lưu trú") + 1).column_letter
    longest = max(len(r[header.index("Tên cơ sở lưu trú")]) for r in body)
    assert sheet.column_dimensions[name_col].width >= min(longest, 60)  # fitted, not 14 characters
    about = dict(book["Thông tin"].iter_rows(values_only=True))
    assert about["Cơ quan xuất bản"] == "Phòng Quản lý Du lịch"
    assert "Creative Commons Attribution 4.0" in about["Giấy phép"]
    assert about["Phiên bản"] == "1" and re.fullmatch(r"\d\d/\d\d/\d{4}", about["Ngày của phiên bản"])
    assert about["Đường dẫn"].endswith("/datasets/accommodation?sort=-star_rank&star_rank__gte=3")
    assert about["Bộ lọc đã áp dụng"].startswith("Hạng sao ≥ 3")
    assert about["Số bản ghi"] == str(len(hotels))
    assert "Phòng Quản lý Du lịch" in about["Cách trích dẫn"] and "phiên bản 1" in about["Cách trích dẫn"]


def test_csv_for_people_of_a_ward_chosen_by_name(sample_client) -> None:  # noqa: ANN001
    sites = [s for s in _sample("heritage-sites.csv") if s["commune_code"] == "26041"]
    response = sample_client.get("/datasets/heritage-sites/people.csv", query_string={"f.commune_code": "Trấn Biên"})
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == len(sites)
    assert {r["Xã/phường"] for r in rows} == {"Phường Trấn Biên"} and {r["Mã xã/phường"] for r in rows} == {"26041"}
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["Ngày quyết định"]) for r in rows if r["Ngày quyết định"])
    english = sample_client.get("/datasets/heritage-sites/people.csv?lang=en&f.code=DT-0001").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(english[1:])))
    assert row["Commune/ward"] == "Hang Gon Ward" and row["Rank"] == "Special national"


def test_whole_dataset_excel_for_people_from_the_download_box(sample_client) -> None:  # noqa: ANN001
    page = sample_client.get("/datasets/heritage-sites").get_data(as_text=True)
    box = page.split('class="downloads"', 1)[1].split("</section>", 1)[0]
    assert 'href="/datasets/heritage-sites/people.xlsx"' in box and "Excel cho người đọc" in box
    book = load_workbook(io.BytesIO(sample_client.get("/datasets/heritage-sites/people.xlsx").get_data()))
    assert book["Dữ liệu"].max_row == len(_sample("heritage-sites.csv")) + 1
    about = dict(book["Thông tin"].iter_rows(values_only=True))
    assert about["Bộ lọc đã áp dụng"] == "Không (toàn bộ bộ dữ liệu)"


def test_excel_for_people_writes_formulas_and_control_characters_as_plain_text(hub, tmp_path) -> None:  # noqa: ANN001
    from publish import pipeline
    from publish.exports.people import people_xlsx
    from publish.query import Query

    units = hub.catalog.dataset("admin-units")
    assert pipeline.run(hub.store, units.id, hub.catalog.resolve(units.source), user="tests").status == "committed"
    rows = _sample("travel-agencies.csv")
    rows[0]["name"] = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    rows[1]["address"] = "Số 1\x07 đường Lê Lợi"
    path = tmp_path / "travel-agencies.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    outcome = pipeline.run(hub.store, "travel-agencies", path, user="tests")
    assert outcome.status == "committed", outcome.report.get("errors")
    dataset = hub.catalog.dataset("travel-agencies")
    body = people_xlsx(hub.store, dataset, Query(), url="https://data.example.vn/datasets/travel-agencies")
    book = load_workbook(io.BytesIO(body))
    sheet = book["Dữ liệu"]
    assert sheet.max_row == len(_sample("travel-agencies.csv")) + 1
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)  # no formula is run
    header = [c.value for c in sheet[1]]
    names = [r[header.index("Tên doanh nghiệp")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert '=HYPERLINK("http://evil.example","Bấm vào đây")' in names
