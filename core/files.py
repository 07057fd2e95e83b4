"""Writing files whole or not at all, and one clear error when the disk is full or read-only.

Every file the hub writes for people (reports, exports, backups, uploads) goes through `atomic_write`: the
bytes go to a hidden `.NAME.part` next to the target, which replaces the target only once complete; on any
failure the partial file is removed. An OSError that means "no room" or "cannot write here" becomes a
StorageError (exit status 4 on the command line, HTTP 507) naming the file.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.errors import StorageError

# errno -> (Vietnamese, English) reason
REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("đĩa đã đầy", "the disk is full"),
    errno.EDQUOT: ("đã hết hạn mức dung lượng", "the disk quota is used up"),
    errno.EROFS: ("ổ đĩa chỉ cho đọc", "the file system is read-only"),
    errno.EACCES: ("không có quyền ghi", "no permission to write"),
    errno.EPERM: ("không có quyền ghi", "no permission to write"),
    errno.EFBIG: ("tệp quá lớn cho ổ đĩa", "the file is too large for the file system"),
}


def storage_error(exc: OSError, path: Path | str) -> StorageError | None:
    """The StorageError an OSError writing `path` means, or None when it is another kind of failure."""
    reason = REASONS.get(exc.errno or 0)
    if reason is None:
        return None
    return StorageError(f"Không ghi được {path}: {reason[0]}; không có tệp dở dang nào được giữ lại",
                        f"Cannot write {path}: {reason[1]}; no partial file was left", file=str(path))


@contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Turn a "disk full / read-only / no permission" OSError inside the block into a StorageError."""
    try:
        yield
    except OSError as exc:
        error = storage_error(exc, path)
        if error is None:
            raise
        raise error from None


def partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.part")


@contextmanager
def atomic_write(path: Path | str, mode: str = "wb", *, fsync: bool = True) -> Iterator[IO[Any]]:
    """A handle on `.NAME.part`; when the block ends well it replaces `path`, otherwise it is removed."""
    path = Path(path)
    partial = partial_path(path)
    try:
        with storage_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open(mode, encoding=None if "b" in mode else "utf-8") as handle:
                yield handle
                handle.flush()
                if fsync:
                    os.fsync(handle.fileno())
            os.replace(partial, path)
    finally:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass


__all__ = ["REASONS", "atomic_write", "partial_path", "storage_error", "storage_errors"]
