"""Checks on an .xlsx container before openpyxl opens it.

An .xlsx is a zip: a tiny file can expand to gigabytes (zip bomb), a download can be cut short, and a
password-protected workbook is not a zip at all but an OLE2 compound file holding an "EncryptedPackage"
(so is an old .xls renamed .xlsx). Each gets its own message instead of a library traceback.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from core.errors import InputError

__all__ = ["check_xlsx", "MAX_UNCOMPRESSED", "MAX_RATIO"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED = 2 * 1024**3  # 2 GiB across all members
MAX_RATIO = 200  # uncompressed / compressed for a member over 10 MB
_RATIO_FLOOR = 10 * 1024**2


def _refuse(code: str, vi: str, en: str, path: Path) -> InputError:
    return InputError(vi, en, code=code, file=os.fspath(path))


def check_xlsx(path: Path) -> None:
    """Raise InputError unless `path` is a plausible, safe .xlsx zip."""
    with path.open("rb") as fh:
        magic = fh.read(8)
        if magic == OLE_MAGIC:
            fh.seek(0)
            head = fh.read(1 << 20)
            if "EncryptedPackage".encode("utf-16-le") in head or b"EncryptedPackage" in head:
                raise _refuse(
                    "encrypted-workbook",
                    "Tệp Excel được đặt mật khẩu: hãy bỏ mật khẩu rồi gửi lại",
                    "The workbook is password-protected: remove the password and send it again",
                    path,
                )
            raise _refuse(
                "xls-not-xlsx",
                "Tệp là Excel 97-2003 (.xls) mang đuôi .xlsx: hãy lưu lại dạng .xlsx",
                "The file is an Excel 97-2003 (.xls) workbook named .xlsx: save it as .xlsx",
                path,
            )
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, EOFError, OSError):
        raise _refuse(
            "broken-xlsx",
            "Tệp Excel bị hỏng hoặc không đầy đủ (không mở được dạng .xlsx)",
            "The workbook is damaged or truncated (not a readable .xlsx)",
            path,
        ) from None
    total = sum(m.file_size for m in members)
    bomb = total > MAX_UNCOMPRESSED or any(
        m.file_size > _RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members
    )
    if bomb:
        raise _refuse(
            "zip-bomb",
            "Tệp Excel giải nén ra dung lượng bất thường (nghi là zip bomb): từ chối đọc",
            "The workbook expands to an abnormal size (a zip bomb?): refused",
            path,
        )
    if "xl/workbook.xml" not in names:
        raise _refuse(
            "broken-xlsx",
            "Tệp zip này không phải sổ tính Excel (.xlsx)",
            "This zip file is not an Excel workbook (.xlsx)",
            path,
        )
