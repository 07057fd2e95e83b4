"""What a steward's report shows, computed once from a report dict for the HTML page, the XLSX file and the CLI.

A report dict is what `publish.pipeline.run` produces and `hub_loads.report` keeps: frictionless's report shape
(`tasks[0].errors`, each with rowNumber, fieldName, cells, messages {vi, en}) plus our "hub" section (source
file, header mapping, normaliser changes) and "quality" section (validate/quality.py). Nothing here reads a
file or a database: the same report renders the same way from the CLI, the web and a stored load.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from core.catalog import Schema

__all__ = ["LABELS", "RULE_TITLES", "TYPE_TITLES", "BadRow", "ErrorGroup", "Labels", "ReportView", "label", "row_messages", "rule_title", "view"]



class Labels(dict[str, dict[str, str]]):
    """Texts by key, Vietnamese and English side by side so that one file shows both languages; the
    steward's workspace (hub/steward/labels.py) keeps its own table of the same kind."""

    def text(self, key: str, lang: str, **values: Any) -> str:
        """The text in `lang` (Vietnamese when there is none), with `{name}` slots filled from `values`."""
        pair = self[key]
        text = pair.get(lang) or pair["vi"]
        return text.format(**values) if values else text


#: Vietnamese and English titles of frictionless's error types (frictionless only has English ones).
TYPE_TITLES: dict[str, dict[str, str]] = {
    "type-error": {"vi": "Sai kiểu dữ liệu", "en": "Wrong data type"},
    "constraint-error": {"vi": "Vi phạm ràng buộc", "en": "Constraint broken"},
    "primary-key": {"vi": "Khoá chính trống hoặc trùng", "en": "Empty or repeated primary key"},
    "foreign-key": {"vi": "Mã tham chiếu không có", "en": "Reference not found"},
    "unique-error": {"vi": "Giá trị phải duy nhất bị trùng", "en": "Repeated unique value"},
    "missing-cell": {"vi": "Dòng thiếu ô", "en": "Missing cell"},
    "extra-cell": {"vi": "Dòng thừa ô", "en": "Extra cell"},
    "blank-row": {"vi": "Dòng trống", "en": "Blank row"},
}

#: What each normalisation rule of ingest/ did, for the change log (unknown rules show as their name).
RULE_TITLES: dict[str, dict[str, str]] = {
    "text": {"vi": "Khoảng trắng, Unicode NFC", "en": "Spacing, Unicode NFC"},
    "date": {"vi": "Ngày về dạng yyyy-mm-dd", "en": "Date to yyyy-mm-dd"},
    "number-vi": {"vi": "Số viết kiểu Việt Nam (1.234,5)", "en": "Number in Vietnamese notation (1.234,5)"},
    "number-en": {"vi": "Số viết kiểu Anh (1,234.5)", "en": "Number in English notation (1,234.5)"},
    "number": {"vi": "Số", "en": "Number"},
    "boolean": {"vi": "Có/không", "en": "Yes/no"},
    "phone": {"vi": "Số điện thoại", "en": "Phone number"},
    "enterprise-code": {"vi": "Mã số doanh nghiệp", "en": "Enterprise code"},
    "enum": {"vi": "Tên gọi → mã danh mục", "en": "Label → code of the list"},
    "coordinate": {"vi": "Toạ độ (độ phút giây, dấu phẩy)", "en": "Coordinate (DMS, decimal comma)"},
    "latlon-swap": {"vi": "Vĩ độ và kinh độ bị đổi chỗ", "en": "Latitude and longitude swapped"},
    "vn2000": {"vi": "Toạ độ VN-2000 → WGS84", "en": "VN-2000 coordinates → WGS84"},
    "geojson": {"vi": "Hình học GeoJSON", "en": "GeoJSON geometry"},
    "commune-name": {"vi": "Tên xã/phường → mã", "en": "Commune/ward name → code"},
    "commune-code": {"vi": "Mã xã/phường", "en": "Commune/ward code"},
    "commune-crosswalk": {"vi": "Xã/phường trước 2025 → mã hiện nay", "en": "Pre-2025 commune → today's code"},
    "commune-name-shared-with-old-unit": {"vi": "Tên hiện nay, trùng tên một đơn vị cũ nơi khác",
                                          "en": "Today's name, shared with a former unit elsewhere"},
    "commune-ambiguous-old-name": {"vi": "Không sửa: tên cũ trùng ở nhiều nơi",
                                   "en": "Not repaired: the old name is ambiguous"},
    "commune-split-old-unit": {"vi": "Không sửa: đơn vị cũ bị chia cho nhiều xã/phường",
                               "en": "Not repaired: the former unit was split between communes"},
}


def rule_title(rule: str, lang: str) -> str:
    return (RULE_TITLES.get(rule) or {}).get(lang) or rule


LABELS = Labels({
    "title": {"vi": "Báo cáo kiểm tra dữ liệu", "en": "Data validation report"},
    "dataset": {"vi": "Bộ dữ liệu", "en": "Dataset"},
    "file": {"vi": "Tệp nguồn", "en": "Source file"},
    "format": {"vi": "Định dạng, bảng mã", "en": "Format, encoding"},
    "status": {"vi": "Kết quả", "en": "Result"},
    "valid": {"vi": "Hợp lệ", "en": "Valid"},
    "invalid": {"vi": "Có lỗi", "en": "Has errors"},
    "blocked": {"vi": "Bị chặn bởi kiểm tra chất lượng", "en": "Blocked by a quality check"},
    "rows_read": {"vi": "Dòng đã đọc", "en": "Rows read"},
    "rows_valid": {"vi": "Dòng hợp lệ", "en": "Valid rows"},
    "rows_rejected": {"vi": "Dòng bị loại", "en": "Rejected rows"},
    "errors": {"vi": "Lỗi", "en": "Errors"},
    "quality_score": {"vi": "Điểm chất lượng", "en": "Quality score"},
    "changes": {"vi": "Giá trị đã chuẩn hoá", "en": "Values normalised"},
    "summary": {"vi": "Tóm tắt", "en": "Summary"},
    "chart": {"vi": "Số lỗi theo loại và theo cột", "en": "Errors by type and by column"},
    "by_type": {"vi": "Theo loại lỗi", "en": "By error type"},
    "by_field": {"vi": "Theo cột", "en": "By column"},
    "groups": {"vi": "Lỗi theo loại và cột", "en": "Errors by type and column"},
    "no_errors": {"vi": "Không có lỗi nào.", "en": "No errors."},
    "row": {"vi": "Dòng", "en": "Row"},
    "column": {"vi": "Cột", "en": "Column"},
    "value": {"vi": "Giá trị", "en": "Value"},
    "message": {"vi": "Lỗi", "en": "Problem"},
    "more": {"vi": "và {n} lỗi khác", "en": "and {n} more"},
    "bad_rows": {"vi": "Các dòng có lỗi (ô lỗi được tô màu)", "en": "Rows with errors (bad cells highlighted)"},
    "bad_rows_more": {"vi": "Chỉ hiện {shown} trên {total} dòng; xem rows-to-fix.xlsx để có tất cả.",
                      "en": "Showing {shown} of {total} rows; rows-to-fix.xlsx has them all."},
    "quality": {"vi": "Kiểm tra chất lượng", "en": "Quality checks"},
    "quality_none": {"vi": "Bộ dữ liệu này chưa có bộ kiểm tra chất lượng.", "en": "This dataset has no quality suite."},
    "expectation": {"vi": "Yêu cầu", "en": "Expectation"},
    "severity": {"vi": "Mức", "en": "Severity"},
    "warn": {"vi": "cảnh báo", "en": "warn"},
    "block": {"vi": "chặn", "en": "block"},
    "checked": {"vi": "Dòng kiểm tra", "en": "Rows checked"},
    "unexpected": {"vi": "Không đạt", "en": "Not met"},
    "met": {"vi": "Tỷ lệ đạt", "en": "Share met"},
    "passed": {"vi": "Đạt", "en": "Passed"},
    "failed": {"vi": "Không đạt", "en": "Failed"},
    "examples": {"vi": "Ví dụ", "en": "Examples"},
    "threshold": {"vi": "ngưỡng", "en": "threshold"},
    "same_as": {"vi": "trùng với dòng", "en": "same as row"},
    "hidden": {"vi": "(dữ liệu cá nhân, không hiển thị)", "en": "(personal data, not shown)"},
    "changes_title": {"vi": "Nhật ký chuẩn hoá (hub đã sửa gì trước khi kiểm tra)",
                      "en": "Normalisation log (what the hub changed before checking)"},
    "changes_none": {"vi": "Hub không phải sửa giá trị nào.", "en": "The hub changed no value."},
    "original": {"vi": "Giá trị gốc", "en": "Original"},
    "normalised": {"vi": "Sau chuẩn hoá", "en": "Normalised"},
    "rule": {"vi": "Quy tắc", "en": "Rule"},
    "mapping": {"vi": "Cột nguồn → trường", "en": "Source column → field"},
    "unknown_columns": {"vi": "Cột không nhận ra (bỏ qua)", "en": "Columns not recognised (ignored)"},
    "missing_fields": {"vi": "Trường không có trong tệp", "en": "Fields missing from the file"},
    "score_help": {"vi": "Điểm = tỷ lệ dòng hợp lệ × tỷ lệ (có trọng số) các yêu cầu chất lượng được đáp ứng.",
                   "en": "Score = share of valid rows × weighted share of quality expectations met."},
    "what_to_fix": {"vi": "Lỗi cần sửa", "en": "What to fix"},
    "source_row": {"vi": "Dòng gốc", "en": "Source row"},
    "generated": {"vi": "Tạo bởi cổng dữ liệu VHTTDL Đồng Nai", "en": "Made by the Đồng Nai culture data hub"},
    "notes": {"vi": "Ghi chú", "en": "Notes"},
    "whole_row": {"vi": "cả dòng", "en": "whole row"},
})


def label(key: str, lang: str, **values: Any) -> str:
    return LABELS.text(key, lang, **values)


@dataclass
class ErrorGroup:
    type: str
    field: str | None
    count: int
    errors: list[dict[str, Any]]


@dataclass
class BadRow:
    row: int
    cells: list[str | None]
    bad: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # cell index -> messages {vi, en}
    messages: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ReportView:
    report: dict[str, Any]
    labels: list[str]
    titles: dict[str, dict[str, str]]
    errors: list[dict[str, Any]]
    groups: list[ErrorGroup]
    by_type: list[tuple[str, int]]
    by_field: list[tuple[str | None, int]]  # None: errors about a whole row
    bad_rows: list[BadRow]
    rows_with_errors: int
    hub: dict[str, Any]
    quality: dict[str, Any] | None

    @property
    def status(self) -> str:
        if (self.quality or {}).get("blocked"):
            return "blocked"
        return "valid" if self.report.get("valid") else "invalid"

    @property
    def rows_read(self) -> int:
        return int(self.hub.get("rows_read") or self.task.get("stats", {}).get("rows") or 0)

    @property
    def task(self) -> dict[str, Any]:
        task: dict[str, Any] = (self.report.get("tasks") or [{}])[0]
        return task

    @property
    def score(self) -> float | None:
        return self.hub.get("quality_score")

    def title(self, name: str | None, lang: str) -> str:
        if not name:
            return label("whole_row", lang)
        titles = self.titles.get(name)
        return f"{titles.get(lang) or titles.get('vi')} ({name})" if titles else name


def _fields_of(error: dict[str, Any]) -> list[str]:
    """The fields an error is about: its cell's field, a foreign key's fields, the primary key's fields."""
    if error.get("fieldName"):
        return [error["fieldName"]]
    if error.get("fieldNames"):
        return list(error["fieldNames"])
    return []


def view(report: dict[str, Any], schema: Schema | None = None, *, max_rows: int = 200,
         per_group: int = 50) -> ReportView:
    task = (report.get("tasks") or [{}])[0]
    errors = list(task.get("errors") or report.get("errors") or [])
    labels = list(task.get("labels") or (schema.field_names if schema else []))
    titles = {f.name: f.titles for f in schema.fields} if schema else {}
    pk = list(schema.primary_key) if schema else []
    grouped: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for e in errors:
        names = _fields_of(e) or (pk if e.get("type") == "primary-key" else [])
        grouped[(e.get("type", "?"), ", ".join(names) or None)].append(e)
    groups = [ErrorGroup(t, f, len(items), items[:per_group]) for (t, f), items in
              sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0][0], kv[0][1] or ""))]
    by_type = Counter(e.get("type", "?") for e in errors).most_common()
    no_field: list[str | None] = [None]  # an error about a whole row
    by_field = Counter(f for e in errors for f in (_fields_of(e) or no_field)).most_common()
    rows: dict[int, BadRow] = {}
    for e in errors:
        number = int(e.get("rowNumber") or 0)
        if number not in rows:
            if len(rows) >= max_rows:
                continue
            cells = list(e.get("cells") or [])
            rows[number] = BadRow(number, cells + [None] * (len(labels) - len(cells)))
        bad = rows[number]
        message = e.get("messages") or {"vi": e.get("message", ""), "en": e.get("message", "")}
        bad.messages.append(message)
        names = _fields_of(e) or (pk if e.get("type") == "primary-key" else [])
        for name in names:
            if name in labels:
                bad.bad.setdefault(labels.index(name), []).append(message)
        if e.get("type") == "extra-cell" and e.get("fieldNumber"):
            bad.bad.setdefault(int(e["fieldNumber"]) - 1, []).append(message)
    return ReportView(report=report, labels=labels, titles=titles, errors=errors, groups=groups, by_type=by_type,
                      by_field=by_field, bad_rows=sorted(rows.values(), key=lambda r: r.row),
                      rows_with_errors=len({e.get("rowNumber") for e in errors}), hub=report.get("hub") or {},
                      quality=report.get("quality"))


def row_messages(report: dict[str, Any], primary_key: list[str] | None = None) -> dict[int, list[dict[str, Any]]]:
    """Every error of the report by row number: {"fields": [...], "messages": {vi, en}}. A repeated or empty
    primary key is about the key's fields (`primary_key`), so their cells are marked too."""
    task = (report.get("tasks") or [{}])[0]
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in task.get("errors") or report.get("errors") or []:
        message = e.get("messages") or {"vi": e.get("message", ""), "en": e.get("message", "")}
        fields = _fields_of(e) or (list(primary_key or []) if e.get("type") == "primary-key" else [])
        out[int(e.get("rowNumber") or 0)].append({"fields": fields, "type": e.get("type"),
                                                  "messages": message})
    return out
