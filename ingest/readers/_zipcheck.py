"""Checks on an .xlsx container before openpyxl opens it.

An .xlsx is a zip: a tiny file can expand to gigabytes (zip bomb), a download can be cut short, and a
password-protected workbook is not a zip at all but an OLE2 compound file holding an "EncryptedPackage"
(so is an old .xls renamed .xlsx). Each gets its own message instead of a library traceback.

Under the zip-ratio cap a workbook can still cost a worker hundreds of MB: openpyxl holds every shared
string in memory (3 million short ones in a 7.5 MB file take about 450 MB) and the whole of every part other
than the sheets (styles, workbook). So the work is counted before openpyxl opens it, by streaming the parts
through zlib: at most MAX_SHARED_STRINGS shared strings, MAX_CELLS cells in all sheets, MAX_PART bytes for a
part read whole.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from core.errors import InputError

__all__ = ["check_xlsx", "MAX_UNCOMPRESSED", "MAX_RATIO", "MAX_SHARED_STRINGS", "MAX_CELLS", "MAX_PART"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_UNCOMPRESSED = 2 * 1024**3  # 2 GiB across all members
MAX_RATIO = 200  # uncompressed / compressed for a member over 10 MB
_RATIO_FLOOR = 10 * 1024**2
MAX_SHARED_STRINGS = 1_000_000  # about 150 MB in openpyxl
MAX_CELLS = 30_000_000  # all sheets: a million rows of 30 columns
MAX_PART = 64 * 1024**2  # a part openpyxl reads whole (styles, workbook, relationships)
_SHARED = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


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
    try:
        check_xlsx_work(path)
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError):
        raise _refuse(
            "broken-xlsx",
            "Tệp Excel bị hỏng hoặc không đầy đủ (không mở được dạng .xlsx)",
            "The workbook is damaged or truncated (not a readable .xlsx)",
            path,
        ) from None


def _count(zf: zipfile.ZipFile, member: zipfile.ZipInfo, pattern: re.Pattern[bytes], limit: int) -> int:
    """Occurrences of `pattern` in a member, streamed; stops once past `limit`."""
    found = 0
    tail = b""
    with zf.open(member) as handle:
        while block := handle.read(1 << 20):
            text = tail + block
            cut = max(0, len(text) - 32)  # a tag cut by the block's end is counted with the next block
            found += len(pattern.findall(text, 0, cut))
            tail = text[cut:]
            if found > limit:
                return found
    return found + len(pattern.findall(tail))


def check_xlsx_work(path: Path) -> None:
    """Raise InputError (code xlsx-too-large) when opening the workbook would cost more than the limits."""
    def refuse(vi: str, en: str) -> InputError:
        return _refuse("xlsx-too-large", f"Tệp Excel quá lớn để xử lý: {vi}: từ chối đọc",
                       f"The workbook is too large to process: {en}: refused", path)

    with zipfile.ZipFile(path) as zf:
        cells = 0
        for member in zf.infolist():
            name = member.filename.lower()
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                cells += _count(zf, member, _CELL, MAX_CELLS - cells)
                if cells > MAX_CELLS:
                    raise refuse(f"hơn {MAX_CELLS:,} ô", f"more than {MAX_CELLS:,} cells")
            elif name.endswith("sharedstrings.xml"):
                if _count(zf, member, _SHARED, MAX_SHARED_STRINGS) > MAX_SHARED_STRINGS:
                    raise refuse(f"hơn {MAX_SHARED_STRINGS:,} chuỗi dùng chung",
                                 f"more than {MAX_SHARED_STRINGS:,} shared strings")
            elif member.file_size > MAX_PART:
                raise refuse(f"phần «{member.filename}» giải nén ra hơn {MAX_PART // 1024**2} MB",
                             f"part «{member.filename}» expands to more than {MAX_PART // 1024**2} MB")
