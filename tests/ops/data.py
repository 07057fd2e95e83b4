"""Generated source files for the operations tests: as many valid rows as a test needs."""

from __future__ import annotations

import json
from pathlib import Path

from core.config import PROJECT_ROOT

HEADER = "enterprise_code,name,licence_scope,licence_number,address,commune_code,phone,email,website,status\n"


def commune_codes() -> list[str]:
    features = json.loads((PROJECT_ROOT / "samples" / "admin-units.geojson").read_text(encoding="utf-8"))["features"]
    return [f["properties"]["code"] for f in features]


def travel_agencies_csv(path: Path, rows: int, *, start: int = 0) -> Path:
    """A valid travel-agencies file of `rows` fictitious agencies (keys start at 8000000000 + start)."""
    codes = commune_codes()
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for i in range(start, start + rows):
            handle.write(
                f"{8_000_000_000 + i},Công ty TNHH Du lịch Mẫu số {i:07d},noi_dia,75-{i:07d}/2024/TCDL-GP LHND,"
                f"\"Số {i % 500 + 1}, đường Võ Thị Sáu, tỉnh Đồng Nai\",{codes[i % len(codes)]},09{i % 10**8:08d},"
                f"lienhe{i}@example.vn,,dang_hoat_dong\n"
            )
    return path
