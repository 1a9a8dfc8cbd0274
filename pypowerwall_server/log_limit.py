"""Log lines a client can cause at will: the first one of a kind, then one per interval with a
count of those left out, so a fuzzer or a scanner cannot fill the disk."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_INTERVAL_S = 60.0


class RateLimitedLog:
    """logger.log(...) at most once per `interval` per key; the next line says how many
    lines of that key were left out meanwhile."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def admit(self, key: str) -> str | None:
        """None if a line of `key` went out less than `interval` ago (it is counted); else
        the suffix for this line ("" or how many were left out since the last one)."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._left_out[key] = self._left_out.get(key, 0) + 1
            return None
        self._last[key] = now
        left_out = self._left_out.pop(key, 0)
        if not left_out or last is None:
            return ""
        return f" ({left_out} more like this in the last {now - last:.0f} s)"

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log unless a line of `key` was logged less than `interval` ago; True if logged."""
        if not self.logger.isEnabledFor(level):
            return False
        suffix = self.admit(key)
        if suffix is None:
            return False
        self.logger.log(level, message + suffix, *args)
        return True


class ClientNoiseFilter(logging.Filter):
    """On uvicorn's logger: WebSocket open/accept/close lines become DEBUG (one connect used
    to log 2 INFO lines); warnings about malformed client input are rate-limited."""

    DEMOTED = ('%s - "WebSocket ', "connection open", "connection closed", "connection rejected")
    CLIENT_FAULTS = (
        "Invalid HTTP request received.",
        "Unsupported upgrade request.",
        "Invalid UTF-8 sequence received from client.",
        "Exceeded concurrency limit.",
    )

    def __init__(self, interval: float = DEFAULT_INTERVAL_S) -> None:
        super().__init__()
        self.limiter = RateLimitedLog(logging.getLogger("uvicorn.error"), interval)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if record.levelno == logging.INFO and message.startswith(self.DEMOTED):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        if record.levelno >= logging.WARNING and message in self.CLIENT_FAULTS:
            suffix = self.limiter.admit(message)
            if suffix is None:
                return False
            record.msg = message + suffix
        return True


def install_client_noise_filter() -> ClientNoiseFilter:
    """Attach the filter to uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    for existing in logger.filters:
        if isinstance(existing, ClientNoiseFilter):
            return existing
    noise = ClientNoiseFilter()
    logger.addFilter(noise)
    return noise
