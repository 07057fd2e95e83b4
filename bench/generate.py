"""Deterministic, seeded source files shaped like the ones district offices send, for benchmarks.

`generate("accommodation", 1_000_000, path)` writes an accommodation register the way a spreadsheet export
looks: Vietnamese headers, names and addresses with diacritics, labels instead of enum slugs, communes by
name or code, dd/mm/yyyy dates, Vietnamese number notation ("1.200" rooms, "10,9456" degrees), phones in
mixed forms ("(061) 3822 123", "+84 909 123 456"). With `error_rate`, that share of rows gets one planted
error each, and the returned dict says which row and field, so a benchmark can check the report too.

Columns are built with numpy (a million rows in a few seconds); the same seed gives the same bytes.
To add a dataset, add a column maker to `MAKERS`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["generate", "MAKERS", "CODE_PATTERN"]

REFERENCE = Path(__file__).resolve().parent.parent / "ingest" / "reference" / "dong-nai-wards-2026.csv"
# Keys wider than the published schema's LT-\d{4} when a file has more than 9,999 rows: bench/ingest.py
# loads such files with this pattern (everything else in the schema is unchanged).
CODE_PATTERN = r"(?:LT-\d{4,7})"

_TYPES = [  # slug, label as offices write it, weight
    ("khach_san", "Khách sạn", 0.35),
    ("nha_nghi_du_lich", "Nhà nghỉ du lịch", 0.25),
    ("nha_o_co_phong_cho_khach_du_lich_thue", "Nhà ở có phòng cho khách du lịch thuê (homestay)", 0.2),
    ("can_ho_du_lich", "Căn hộ du lịch", 0.08),
    ("biet_thu_du_lich", "Biệt thự du lịch", 0.07),
    ("bai_cam_trai_du_lich", "Bãi cắm trại du lịch", 0.03),
    ("khac", "Cơ sở lưu trú khác", 0.02),
]
_NAME_PREFIX = {
    "khach_san": "Khách sạn",
    "nha_nghi_du_lich": "Nhà nghỉ",
    "nha_o_co_phong_cho_khach_du_lich_thue": "Homestay",
    "can_ho_du_lich": "Căn hộ",
    "biet_thu_du_lich": "Biệt thự",
    "bai_cam_trai_du_lich": "Khu cắm trại",
    "khac": "Cơ sở lưu trú",
}
_NAMES = (
    "Sen Hồng, Rừng Xanh, Bửu Long, Đồng Nai, Hoàng Gia, Phương Nam, Thủy Tiên, Trị An, Mã Đà, Cát Tiên, "
    "Hương Tràm, Ánh Dương, Bình Minh, Suối Mơ, Long Thành, Ngọc Lan, Hòa Bình, Phú Quý, Thiên Ân, Hải Đăng, "
    "Mỹ Lệ, Thanh Thủy, Đại Dương, Bảo Ngọc, Gió Biển, Lâm Viên, Vườn Xoài, Thác Mai, Bà Rá, Sóc Bom Bo"
).split(", ")
_STREETS = (
    "Phạm Văn Thuận, Trần Phú, Hồ Thị Hương, Nguyễn Ái Quốc, Võ Thị Sáu, Quốc lộ 51, Quốc lộ 20, Quốc lộ 1A, "
    "Hà Huy Giáp, Đồng Khởi, Lê Duẩn, Hùng Vương, Nguyễn Huệ, Phú Riềng Đỏ, Trường Chinh, Cách Mạng Tháng Tám"
).split(", ")
_STATUSES = [("dang_hoat_dong", "Đang hoạt động", 0.85), ("tam_ngung", "Tạm ngừng kinh doanh", 0.1),
             ("ngung_hoat_dong", "Ngừng hoạt động", 0.05)]
HEADERS = [
    "Mã CSLT", "Mã số doanh nghiệp", "Tên cơ sở lưu trú", "Loại hình", "Hạng sao", "Số buồng", "Địa chỉ",
    "Xã/Phường", "Điện thoại", "Thư điện tử", "Trang web", "Vĩ độ", "Kinh độ", "Tình trạng", "Ngày thông báo",
]
_ERROR_KINDS = [  # kind, column, value
    ("bad-date", "Ngày thông báo", "31/02/2024"),
    ("bad-number", "Số buồng", "nhiều"),
    ("unknown-commune", "Xã/Phường", "Xã Không Có"),
    ("outside-province", "Vĩ độ", "21.0285"),
    ("missing-name", "Tên cơ sở lưu trú", ""),
    ("bad-enum", "Loại hình", "Khách sạn mini"),
    ("bad-phone", "Điện thoại", "gọi sau"),
    ("duplicate-key", "Mã CSLT", None),  # the previous row's key
]


def _communes() -> list[dict[str, str]]:
    with REFERENCE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _pick(rng: np.random.Generator, items: list[Any], n: int, weights: list[float] | None = None) -> np.ndarray:
    p = None if weights is None else np.asarray(weights) / sum(weights)
    return rng.choice(len(items), size=n, p=p)


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    """Landlines and mobiles written the many ways offices type them (all understood by the normaliser)."""
    area = rng.integers(3_800_000, 3_999_999, n)
    mobile = rng.integers(10_000_000, 99_999_999, n)
    prefix = np.array(["090", "091", "093", "097", "098", "032", "035", "070", "083"])[rng.integers(0, 9, n)]
    form = rng.integers(0, 8, n)
    out = []
    for a, m, p, f in zip(area.tolist(), mobile.tolist(), prefix.tolist(), form.tolist(), strict=True):
        a7 = f"{a:07d}"
        m8 = f"{m:08d}"
        out.append(
            (
                f"0251{a7}",
                f"0251 {a7[:3]} {a7[3:]}",
                f"(0251) {a7[:3]}.{a7[3:]}",
                f"(061) {a7[:4]} {a7[4:]}",  # area code before the 2017 renumbering
                f"{p}{m8[:7]}",
                f"{p} {m8[:3]} {m8[3:7]}",
                f"+84 {p[1:]} {m8[:3]} {m8[3:7]}",
                f"{p}.{m8[:3]}.{m8[3:7]}",
            )[f]
        )
    return out


def _accommodation(rng: np.random.Generator, n: int, first: int) -> dict[str, list[Any]]:
    """Column values (as a department would write them) for rows first..first+n-1."""
    communes = _communes()
    width = 4 if first + n <= 10_000 else 7
    numbers = range(first, first + n)
    kinds = _pick(rng, _TYPES, n, [t[2] for t in _TYPES])
    slugs = [_TYPES[k][0] for k in kinds.tolist()]
    label = rng.random(n) < 0.8  # most sheets write the label, some the slug
    name_idx = rng.integers(0, len(_NAMES), n)
    street_idx = rng.integers(0, len(_STREETS), n)
    house = rng.integers(1, 999, n)
    com_idx = rng.integers(0, len(communes), n)
    by_name = rng.random(n) < 0.6
    stars = rng.integers(1, 6, n)
    rated = rng.random(n) < 0.5
    rooms = np.where(rng.random(n) < 0.02, rng.integers(1000, 3000, n), rng.integers(3, 400, n))
    lat = 10.62 + rng.random(n) * 1.6
    lon = 106.45 + rng.random(n) * 1.08
    comma = rng.random(n) < 0.3  # decimal comma, as a Vietnamese-locale Excel writes it
    has_web = rng.random(n) < 0.3
    status = _pick(rng, _STATUSES, n, [s[2] for s in _STATUSES])
    days = rng.integers(0, 365 * 12, n)
    start = dt.date(2013, 1, 1)
    ent = rng.integers(0, 99_999_999, n)
    cols: dict[str, list[Any]] = {h: [] for h in HEADERS}
    cols["Mã CSLT"] = [f"LT-{i:0{width}d}" for i in numbers]
    cols["Mã số doanh nghiệp"] = [f"99{e:08d}" for e in ent.tolist()]
    cols["Tên cơ sở lưu trú"] = [
        f"{_NAME_PREFIX[s]} {_NAMES[k]} {i}" for s, k, i in zip(slugs, name_idx.tolist(), numbers, strict=True)
    ]
    cols["Loại hình"] = [_TYPES[k][1] if lb else _TYPES[k][0] for k, lb in zip(kinds.tolist(), label.tolist(), strict=True)]
    cols["Hạng sao"] = [str(s) if s_ == "khach_san" and r else "" for s, s_, r in zip(stars.tolist(), slugs, rated.tolist(), strict=True)]
    cols["Số buồng"] = [f"{r // 1000}.{r % 1000:03d}" if r >= 1000 else str(r) for r in rooms.tolist()]
    cols["Xã/Phường"] = [
        communes[c]["full_name"] if b else communes[c]["code"] for c, b in zip(com_idx.tolist(), by_name.tolist(), strict=True)
    ]
    cols["Địa chỉ"] = [
        f"Số {h}, đường {_STREETS[s]}, {communes[c]['full_name']}, tỉnh Đồng Nai"
        for h, s, c in zip(house.tolist(), street_idx.tolist(), com_idx.tolist(), strict=True)
    ]
    cols["Điện thoại"] = _phones(rng, n)
    cols["Thư điện tử"] = [f"cslt{i}@example.vn" for i in numbers]
    cols["Trang web"] = [f"https://cslt{i}.example.vn" if w else "" for i, w in zip(numbers, has_web.tolist(), strict=True)]
    for header, values in (("Vĩ độ", lat), ("Kinh độ", lon)):
        cols[header] = [
            f"{v:.6f}".replace(".", ",") if c else f"{v:.6f}" for v, c in zip(values.tolist(), comma.tolist(), strict=True)
        ]
    cols["Tình trạng"] = [_STATUSES[s][1] for s in status.tolist()]
    cols["Ngày thông báo"] = [(start + dt.timedelta(days=d)).strftime("%d/%m/%Y") for d in days.tolist()]
    return cols


MAKERS: dict[str, Callable[[np.random.Generator, int, int], dict[str, list[Any]]]] = {
    "accommodation": _accommodation,
}


def _plant(rng: np.random.Generator, cols: dict[str, list[Any]], first: int, rate: float) -> list[dict[str, Any]]:
    """Overwrite one cell in about `rate` of the rows; rows are numbered like frictionless (header = 1)."""
    n = len(cols[HEADERS[0]])
    hit = np.flatnonzero(rng.random(n) < rate) if rate > 0 else np.array([], dtype=int)
    kinds = rng.integers(0, len(_ERROR_KINDS), len(hit))
    planted = []
    for i, k in zip(hit.tolist(), kinds.tolist(), strict=True):
        kind, column, value = _ERROR_KINDS[k]
        if kind == "duplicate-key":
            if first + i == 1:  # the first row has no previous key
                continue
            width = len(cols[column][i]) - 3  # keys are numbered, so the previous one is known
            value = f"LT-{first + i - 1:0{width}d}"
        cols[column][i] = value
        planted.append({"row": first + i + 1, "column": column, "kind": kind, "value": value})
    return planted


def generate(
    dataset_id: str,
    rows: int,
    path: Path,
    *,
    seed: int = 1,
    error_rate: float = 0.0,
    fmt: str = "csv",
) -> dict[str, Any]:
    """Write `rows` rows for `dataset_id` to `path` (CSV UTF-8, XLSX, or JSON: an array of objects keyed by the
    headers); return what was planted."""
    if dataset_id not in MAKERS:
        raise ValueError(f"no generator for {dataset_id!r} (have: {', '.join(MAKERS)})")
    if fmt not in ("csv", "xlsx", "json"):
        raise ValueError(f"fmt must be 'csv', 'xlsx' or 'json', not {fmt!r}")
    path = Path(path)
    rng = np.random.default_rng(seed)
    chunk = 100_000  # bounded memory whatever `rows` is
    planted: list[dict[str, Any]] = []
    writer = _XlsxWriter(path) if fmt == "xlsx" else _JsonWriter(path) if fmt == "json" else _CsvWriter(path)
    with writer:
        writer.row(HEADERS)
        for first in range(1, rows + 1, chunk):
            n = min(chunk, rows + 1 - first)
            cols = MAKERS[dataset_id](rng, n, first)
            planted += _plant(rng, cols, first, error_rate)
            for values in zip(*(cols[h] for h in HEADERS), strict=True):
                writer.row(values)
    by_kind: dict[str, int] = {}
    for p in planted:
        by_kind[p["kind"]] = by_kind.get(p["kind"], 0) + 1
    return {
        "dataset": dataset_id,
        "path": str(path),
        "format": fmt,
        "rows": rows,
        "seed": seed,
        "error_rate": error_rate,
        "headers": list(HEADERS),
        "errors": planted,
        "errors_by_kind": by_kind,
        "bytes": path.stat().st_size,
    }


class _CsvWriter:
    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh)

    def __enter__(self) -> _CsvWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def row(self, values: Any) -> None:
        self._writer.writerow(values)


class _XlsxWriter:
    """openpyxl's write-only mode: a million rows without the whole sheet in memory."""

    def __init__(self, path: Path) -> None:
        import openpyxl

        self._path = path
        self._wb = openpyxl.Workbook(write_only=True)
        self._ws = self._wb.create_sheet("Danh sách")

    def __enter__(self) -> _XlsxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._wb.save(self._path)

    def row(self, values: Any) -> None:
        self._ws.append(list(values))


class _JsonWriter:
    """An array of objects keyed by the first row's headers, one object a line, written as it goes."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", encoding="utf-8")
        self._headers: list[str] | None = None

    def __enter__(self) -> _JsonWriter:
        self._fh.write("[")
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.write("\n]\n")
        self._fh.close()

    def row(self, values: Any) -> None:
        if self._headers is None:
            self._headers = list(values)
            return
        first = self._fh.tell() == 1
        self._fh.write(("\n" if first else ",\n") + json.dumps(dict(zip(self._headers, values, strict=True)),
                                                                ensure_ascii=False))
