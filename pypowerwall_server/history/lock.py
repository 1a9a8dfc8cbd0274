"""An exclusive lock file beside the history file: a second server on the same data folder
is refused with a clear message instead of two writers corrupting each other's buckets."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class HistoryLocked(Exception):
    """Another process holds the history file."""


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (idempotent); HistoryLocked if another process has it."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HistoryLocked(
                f"another pypowerwall-server uses the history file in {self.path.parent} "
                "(give each server its own data folder: PW_DATA_DIR, or PW_HISTORY=no)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
