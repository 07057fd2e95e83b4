"""The workspace's words, Vietnamese and English side by side (the catalogue's gettext catalogue is the public
site's; stewards' pages keep their own pairs here so one file shows both languages)."""

from __future__ import annotations

from validate.render_model import LABELS as REPORT
from validate.render_model import Labels

__all__ = ["LABELS", "text"]

LABELS = Labels({
    "workspace": {"vi": "Khu làm việc của cán bộ dữ liệu", "en": "Data steward workspace"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "key": {"vi": "Khoá API của cán bộ quản lý dữ liệu", "en": "Data steward API key"},
    "key_help": {"vi": "Khoá do quản trị viên cấp (hub keys issue). Khoá không được lưu trong trình duyệt.",
                 "en": "The key an administrator issued (hub keys issue). The key is not stored in the browser."},
    "signed_in_as": {"vi": "Đăng nhập với tên", "en": "Signed in as"},
    "upload_title": {"vi": "Kiểm tra một tệp mới", "en": "Check a new file"},
    "upload_help": {"vi": "Tệp được kiểm tra trước, chưa nạp: đọc báo cáo rồi mới chọn nạp hoặc huỷ.",
                    "en": "The file is checked first, not loaded: read the report, then publish or discard it."},
    "dataset": REPORT["dataset"],
    "file": {"vi": "Tệp (CSV, XLSX, XLS, JSON, GeoJSON)", "en": "File (CSV, XLSX, XLS, JSON, GeoJSON)"},
    "check": {"vi": "Tải lên và kiểm tra", "en": "Upload and check"},
    "my_uploads": {"vi": "Tệp đã tải lên", "en": "Uploaded files"},
    "no_uploads": {"vi": "Chưa có tệp nào.", "en": "No files yet."},
    "history": {"vi": "Lịch sử nạp", "en": "Load history"},
    "datasets": {"vi": "Các bộ dữ liệu", "en": "Datasets"},
    "policy": {"vi": "Khi có dòng lỗi", "en": "When rows fail"},
    "policy_reject": {"vi": "từ chối cả tệp", "en": "refuse the whole file"},
    "policy_quarantine": {"vi": "nạp dòng hợp lệ, giữ lại dòng lỗi", "en": "load valid rows, keep the others aside"},
    "version": {"vi": "Phiên bản", "en": "Version"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "uploaded": {"vi": "Tải lên lúc (UTC)", "en": "Uploaded (UTC)"},
    "when": {"vi": "Lúc (UTC)", "en": "When (UTC)"},
    "by": {"vi": "Người nạp", "en": "By"},
    "source": REPORT["file"],
    "rows": {"vi": "Dòng đọc", "en": "Rows read"},
    "rejected": {"vi": "Dòng bị loại", "en": "Rejected"},
    "added": {"vi": "Thêm", "en": "Added"},
    "changed": {"vi": "Đổi", "en": "Changed"},
    "removed": {"vi": "Xoá", "en": "Removed"},
    "quality": {"vi": "Chất lượng", "en": "Quality"},
    "report": {"vi": "Báo cáo", "en": "Report"},
    "open": {"vi": "Mở", "en": "Open"},
    "st_validating": {"vi": "đang kiểm tra", "en": "checking"},
    "st_validated": {"vi": "đã kiểm tra", "en": "checked"},
    "st_publishing": {"vi": "đang nạp", "en": "publishing"},
    "st_published": {"vi": "đã nạp", "en": "published"},
    "st_failed": {"vi": "lỗi", "en": "failed"},
    "st_committed": {"vi": "đã nạp", "en": "committed"},
    "st_unchanged": {"vi": "không đổi", "en": "unchanged"},
    "st_rejected": {"vi": "bị từ chối", "en": "refused"},
    "st_running": {"vi": "đang chạy", "en": "running"},
    "working": {"vi": "Đang xử lý tệp… Trang tự tải lại.", "en": "Working on the file… This page reloads itself."},
    "rows_so_far": {"vi": "Số dòng đã đọc", "en": "Rows read so far"},
    "stale": {"vi": "Không thấy tiến trình xử lý trả lời nữa: hãy huỷ và tải lên lại.",
              "en": "The worker stopped answering: discard the file and upload it again."},
    "will_load": {"vi": "Nếu nạp: tệp sẽ thành phiên bản mới.", "en": "If published: the file becomes the next version."},
    "will_quarantine": {"vi": "Nếu nạp: chỉ các dòng hợp lệ được nạp; dòng lỗi được giữ lại để sửa.",
                        "en": "If published: only the valid rows load; the rejected rows are kept for fixing."},
    "will_refuse": {"vi": "Tệp này sẽ bị từ chối nếu nạp: hãy sửa lỗi trước (tải rows-to-fix.xlsx).",
                    "en": "This file would be refused: fix it first (download rows-to-fix.xlsx)."},
    "publish": {"vi": "Nạp thành phiên bản mới", "en": "Publish as the next version"},
    "discard": {"vi": "Huỷ tệp này", "en": "Discard this file"},
    "download_fix": {"vi": "Tải rows-to-fix.xlsx (các dòng cần sửa)", "en": "Download rows-to-fix.xlsx (rows to fix)"},
    "download_html": {"vi": "Tải báo cáo (HTML)", "en": "Download the report (HTML)"},
    "download_json": {"vi": "Tải báo cáo (JSON)", "en": "Download the report (JSON)"},
    "published_as": {"vi": "Kết quả nạp", "en": "Load result"},
    "load_report": {"vi": "Xem báo cáo của lần nạp", "en": "See the load's report"},
    "discarded": {"vi": "Đã huỷ tệp.", "en": "The file was discarded."},
    "bad_key": {"vi": "Khoá không đúng, đã hết hạn hoặc không phải của cán bộ quản lý dữ liệu.",
                "en": "The key is wrong, expired, or not a data steward's."},
    "back": {"vi": "Về khu làm việc", "en": "Back to the workspace"},
    "all_datasets": {"vi": "Tất cả bộ dữ liệu", "en": "All datasets"},
    "load": {"vi": "Lần nạp", "en": "Load"},
    "error": {"vi": "Lỗi", "en": "Error"},
})


def text(key: str, lang: str) -> str:
    return LABELS.text(key, lang)
