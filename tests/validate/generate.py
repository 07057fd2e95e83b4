"""Messy CSVs with planted errors of every kind, for the differential tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

RANKS = ["cap_tinh", "quoc_gia", "quoc_gia_dac_biet"]
COMMUNES = ["25195", "25198", "26041", "26068"]

HERITAGE: dict[str, Any] = {
    "name": "heritage-sites",
    "titles": {"vi": "Di tích", "en": "Heritage sites"},
    "fields": [
        {
            "name": "code",
            "type": "string",
            "titles": {"vi": "Mã di tích", "en": "Site code"},
            "constraints": {"required": True, "pattern": "(?:DN)\\d{3}"},
        },
        {
            "name": "name",
            "type": "string",
            "titles": {"vi": "Tên di tích", "en": "Site name"},
            "constraints": {"required": True, "minLength": 2, "maxLength": 12},
        },
        {
            "name": "rank",
            "type": "string",
            "titles": {"vi": "Cấp di tích", "en": "Rank"},
            "constraints": {"enum": RANKS},
        },
        {
            "name": "year",
            "type": "integer",
            "titles": {"vi": "Năm xây dựng", "en": "Year built"},
            "constraints": {"minimum": 1000, "maximum": 2025},
        },
        {
            "name": "area",
            "type": "number",
            "titles": {"vi": "Diện tích", "en": "Area"},
            "constraints": {"minimum": 0, "exclusiveMaximum": 1000.5},
        },
        {
            "name": "recognised",
            "type": "boolean",
            "titles": {"vi": "Đã xếp hạng", "en": "Ranked"},
            "trueValues": ["có", "x"],
            "falseValues": ["không"],
        },
        {
            "name": "ranked_on",
            "type": "date",
            "titles": {"vi": "Ngày xếp hạng", "en": "Ranked on"},
            "constraints": {"minimum": "1900-01-01"},
        },
        {
            "name": "email",
            "type": "string",
            "format": "email",
            "titles": {"vi": "Thư điện tử", "en": "Email"},
        },
        {
            "name": "website",
            "type": "string",
            "format": "uri",
            "titles": {"vi": "Trang web", "en": "Website"},
        },
        {"name": "commune_code", "type": "string", "titles": {"vi": "Mã xã", "en": "Commune code"}},
        {"name": "parent_code", "type": "string", "titles": {"vi": "Thuộc cụm", "en": "Part of"}},
        {
            "name": "register_no",
            "type": "integer",
            "titles": {"vi": "Số đăng ký", "en": "Register number"},
            "constraints": {"unique": True},
        },
    ],
    "primaryKey": ["code"],
    "foreignKeys": [
        {"fields": "commune_code", "reference": {"resource": "admin-units", "fields": "code"}},
        {"fields": "parent_code", "reference": {"resource": "", "fields": "code"}},
    ],
}

EVENTS: dict[str, Any] = {
    "name": "events",
    "missingValues": ["", "NA", "-"],
    "fields": [
        {"name": "district", "type": "integer", "titles": {"vi": "Huyện", "en": "District"}},
        {
            "name": "seq",
            "type": "integer",
            "titles": {"vi": "Số thứ tự", "en": "Number"},
            "constraints": {"required": True},
        },
        {
            "name": "title",
            "type": "string",
            "titles": {"vi": "Tên sự kiện", "en": "Event"},
            "constraints": {"unique": True, "enum": ["a", "b", "c", "d", "e", "f", "g"]},
        },
        {
            "name": "free",
            "type": "boolean",
            "titles": {"vi": "Miễn phí", "en": "Free"},
            "constraints": {"required": True},
        },
        {
            "name": "starts",
            "type": "date",
            "titles": {"vi": "Bắt đầu", "en": "Starts"},
            "constraints": {"maximum": "2030-12-31", "enum": ["2024-01-01", "2024-02-10", "2025-1-5"]},
        },
        {
            "name": "price",
            "type": "number",
            "titles": {"vi": "Giá vé", "en": "Price"},
            "constraints": {"maximum": 100, "enum": [0, 10, 20.5, "100", 150]},
        },
    ],
    "primaryKey": ["district", "seq"],
}

ADMIN_UNITS: dict[str, Any] = {
    "name": "admin-units",
    "fields": [{"name": "code", "type": "string"}, {"name": "name", "type": "string"}],
    "primaryKey": ["code"],
}

# good and bad texts per field; a generated cell is good most of the time
CELLS: dict[str, dict[str, list[str]]] = {
    "heritage-sites": {
        "code": {"good": [f"DN{n:03d}" for n in range(40)], "bad": ["", "dn001", "DN01", "DN0011", "XX123"]},
        "name": {
            "good": ["Đình Tân Lân", "Chùa Đại Giác", "Văn miếu"],
            "bad": ["", "A", "Thành cổ Biên Hòa xưa"],
        },
        "rank": {"good": RANKS + [""], "bad": ["quoc gia", "Cap_tinh"]},
        "year": {
            "good": ["1698", "1715", " 1900", "+2000", ""],
            "bad": ["999", "2026", "17xx", "1.5", "1e3"],
        },
        "area": {
            "good": ["0", "12.5", "1000.4", "1e2", " 3 ", ""],
            "bad": ["-1", "1000.5", "NaN", "12,5", "abc"],
        },
        "recognised": {"good": ["có", "x", "không", ""], "bad": ["Có", "yes", "true", " có"]},
        "ranked_on": {
            "good": ["1990-01-01", "2020-1-5", "2001-12-31", ""],
            "bad": ["1899-12-31", "2020-02-30", "20200105", "05/06/2020", " 2020-01-01"],
        },
        "email": {"good": ["ditich@dongnai.gov.vn", ""], "bad": ["ditich@", "a b@c.vn", "x@localhost"]},
        "website": {
            "good": ["https://dongnai.gov.vn", "http://x.vn/a?b=1", ""],
            "bad": ["dongnai.gov.vn", "www.x"],
        },
        "commune_code": {"good": COMMUNES + [""], "bad": ["99999", "2519"]},
        "parent_code": {"good": ["", "", "DN001", "DN002", "DN017"], "bad": ["DN999", "ZZ"]},
        "register_no": {"good": [str(n) for n in range(200)] + [""], "bad": ["1", "2", "007", "abc"]},
    },
    "events": {
        "district": {"good": ["1", "2", "3", "NA"], "bad": ["x", "-"]},
        "seq": {"good": [str(n) for n in range(30)], "bad": ["", "-", "NA", "1.0"]},
        "title": {"good": list("abcdefg") + ["", "NA"], "bad": ["h", "A"]},
        "free": {"good": ["true", "false", "1", "0"], "bad": ["", "yes", "-"]},
        "starts": {
            "good": ["2024-01-01", "2024-02-10", "2025-01-05", ""],
            "bad": ["2031-01-01", "2024-01-02", "x"],
        },
        "price": {"good": ["0", "10", "20.5", "20.50", "100", "1e1", ""], "bad": ["150", "11", "abc", "NaN"]},
    },
}


def messy_rows(
    schema: dict[str, Any],
    n_rows: int,
    rng: random.Random,
    *,
    error_rate: float = 0.08,
    shape_rate: float = 0.05,
) -> list[list[str]]:
    """Rows of text with planted bad cells, duplicates, short, long, blank and empty rows."""
    cells = CELLS[schema["name"]]
    names = [f["name"] for f in schema["fields"]]
    rows: list[list[str]] = []
    for _ in range(n_rows):
        row = []
        for name in names:
            pool = cells[name]["bad"] if rng.random() < error_rate else cells[name]["good"]
            row.append(rng.choice(pool))
        shape = rng.random()
        if shape < shape_rate:
            row = row[: rng.randrange(0, len(row))]  # short row (possibly an empty line)
        elif shape < 2 * shape_rate:
            row = row + [rng.choice(["", "thừa", "x"]) for _ in range(rng.randrange(1, 3))]  # long row
        elif shape < 3 * shape_rate:
            row = [""] * len(names) if rng.random() < 0.7 else [""] * (len(names) + 1)  # blank row
        rows.append(row)
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            if row:
                writer.writerow(row)
            else:
                handle.write("\n")  # an empty line: csv.writer would write "" as a quoted cell
    return path


def write_admin_units(directory: Path) -> Path:
    return write_csv(directory / "admin-units.csv", ["code", "name"], [[c, f"Xã {c}"] for c in COMMUNES])
