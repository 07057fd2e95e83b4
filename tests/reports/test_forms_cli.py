"""`hub reports` as a steward runs it: compute a period, show it, export the office form (XLSX) and the
printable page (HTML), list where every report stands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from core.config import PROJECT_ROOT
from publish.context import Hub
from publish.reports import compute

REPORT, PERIOD = "accommodation-monthly", "2026-09"


def hub_cli(hub: Hub, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATABASE_URL=hub.settings.database_url, HUB_CATALOG_PATH=str(PROJECT_ROOT / "catalog.yaml"),
               HUB_STORAGE_DIR=str(hub.settings.storage_dir), HUB_LOG_FORMAT="text")
    return subprocess.run([sys.executable, "-m", "hub", "reports", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_compute_show_export_and_list(reports_hub: Hub, tmp_path: Path) -> None:
    done = hub_cli(reports_hub, "compute", REPORT, "--period", PERIOD, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert REPORT in done.stdout and "accommodation v1" in done.stdout
    stored = compute.read(reports_hub.store, REPORT, PERIOD)

    shown = hub_cli(reports_hub, "show", REPORT, "--period", PERIOD, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["rows"] == [c.to_dict() for c in stored.cells]

    xlsx = tmp_path / "form.xlsx"
    written = hub_cli(reports_hub, "export", REPORT, "--period", PERIOD, "--format", "xlsx", "--out", str(xlsx),
                      cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    sheet = load_workbook(xlsx).active
    cells = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    text = "\n".join(str(c) for row in cells for c in row if c is not None)
    for part in ("Biểu số 01/DL-LT", "Đơn vị báo cáo: Sở Văn hóa, Thể thao và Du lịch tỉnh Đồng Nai",
                 "Đơn vị nhận báo cáo: Cục Du lịch Quốc gia Việt Nam", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO CƠ SỞ LƯU TRÚ DU LỊCH VÀ SỐ BUỒNG",
                 "Kỳ báo cáo: Tháng 09 năm 2026 (01/09/2026 - 30/09/2026)", "Ghi chú:", "Đồng Nai, ngày",
                 "Người lập biểu", "Thủ trưởng đơn vị", "(Ký, họ tên, đóng dấu)", "Cơ sở lưu trú du lịch (1)"):
        assert part in text, part
    header = next(i for i, row in enumerate(cells) if row[:4] == ("Mã số", "Chỉ tiêu", "Đơn vị tính", "Số lượng"))
    table = {row[0]: row for row in cells[header + 1:] if row[0]}
    totals = {c.indicator: c.value for c in stored.cells if not c.breakdown}
    assert table["01"][2] == "cơ sở" and table["01"][3] == totals["01"]
    assert table["02"][2] == "buồng" and table["02"][3] == totals["02"]
    # breakdown lines carry readable labels: enum titles and commune names from admin-units
    labels = [row[1].strip() for row in cells[header + 1:] if row[0] and row[0].startswith("01.")]
    assert any(": Khách sạn - " in label for label in labels)  # "Loại hình × Hạng sao: Khách sạn - 3"
    assert any("Phường" in label or "Xã" in label for label in labels)

    page = tmp_path / "form.html"
    written = hub_cli(reports_hub, "export", REPORT, "--period", PERIOD, "--format", "html", "--lang", "en",
                      "--out", str(page), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    html = page.read_text(encoding="utf-8")
    for part in ("Biểu số 01/DL-LT", "Reporting unit", "September 2026", "Prepared by", "Head of unit", "@media print"):
        assert part in html, part
    assert "<script" not in html and "http" not in html.split("<body>")[1]  # printable offline, nothing fetched

    listed = hub_cli(reports_hub, "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    mine = next(r for r in rows if r["report"] == REPORT and r["period"] == PERIOD)
    assert mine["produced"] and mine["state"] == "late"  # produced, not delivered, past 5 October
    assert any(r["report"] == REPORT and r["period"] == "2026-10" and r["state"] in ("due", "late") for r in rows)


def test_a_period_not_ended_is_one_clear_line(reports_hub: Hub, tmp_path: Path) -> None:
    refused = hub_cli(reports_hub, "compute", REPORT, "--period", "2099-01", cwd=tmp_path)
    assert refused.returncode == 5 and "Traceback" not in refused.stderr
    assert "has not ended" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    unknown = hub_cli(reports_hub, "show", "no-such-report", "--period", "2026-09", cwd=tmp_path)
    assert unknown.returncode == 8 and "no-such-report" in unknown.stderr
