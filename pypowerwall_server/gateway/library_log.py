"""What the gateway library said during one poll, read from its log records.

pypowerwall swallows most failures (returning None and logging), so the adapter learns the
outcome of a poll from the records the library and its HTTP client (urllib3) log on the
poll's worker thread: the library's warnings, urllib3's retry warnings, and the HTTP status
of every response (urllib3 logs one DEBUG line per response). Statuses are what the adapter
classifies by: message wording changes between library versions, status codes do not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

LIBRARY_LOGGER = "pypowerwall"
HTTP_LOGGER = "urllib3"
# urllib3's per-response line: scheme, host, port, method, url, version, status, length.
_RESPONSE_FORMAT = '%s://%s:%s "%s %s %s" %s %s'


@dataclass(frozen=True, slots=True)
class HttpResponse:
    method: str
    path: str  # without the query
    status: int


@dataclass(slots=True)
class PollLog:
    """Messages (WARNING and above) and HTTP responses of one poll, in order."""

    messages: list[str] = field(default_factory=list)
    responses: list[HttpResponse] = field(default_factory=list)


def _response(record: logging.LogRecord) -> HttpResponse | None:
    args = record.args
    if record.msg != _RESPONSE_FORMAT or not isinstance(args, tuple) or len(args) != 8:
        return None
    status = args[6]
    if not isinstance(status, int):
        return None
    return HttpResponse(str(args[3]), str(args[4]).partition("?")[0], status)


class _ThreadSinks(logging.Handler):
    """One handler on the library's and urllib3's loggers for the whole process. Records go
    to the PollLog of the thread that logged them: each gateway's calls run on one worker
    thread at a time, so a PollLog holds exactly one poll. (Adding and removing a handler
    per poll serialized 64 worker threads on logging's module lock.)"""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._local = threading.local()

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: emit only touches this thread's sink, so workers never wait on
        # each other (urllib3 logs every response).
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        sink: PollLog | None = getattr(self._local, "sink", None)
        if sink is None:
            return
        if record.levelno >= logging.WARNING:
            sink.messages.append(record.getMessage())
        elif (response := _response(record)) is not None:
            sink.responses.append(response)

    @contextmanager
    def collect(self) -> Iterator[PollLog]:
        previous = getattr(self._local, "sink", None)
        sink = PollLog()
        self._local.sink = sink
        try:
            yield sink
        finally:
            self._local.sink = previous


_install_lock = threading.Lock()
_sinks: _ThreadSinks | None = None


def collect() -> AbstractContextManager[PollLog]:
    """Collect what the library logs on this thread until the block ends."""
    global _sinks
    with _install_lock:
        if _sinks is None:
            _sinks = _ThreadSinks()
            for name in (LIBRARY_LOGGER, HTTP_LOGGER):
                logging.getLogger(name).addHandler(_sinks)
            http_logger = logging.getLogger(HTTP_LOGGER)
            if http_logger.level == logging.NOTSET:  # configure_library_logging did not run
                http_logger.setLevel(logging.DEBUG)
                http_logger.propagate = False
    return _sinks.collect()


def configure_library_logging(debug: bool) -> None:
    """pypowerwall logs every failed request at ERROR and urllib3 a warning per retry; the
    poller logs an outage once when it starts and once when it ends. So their records stop
    at their own loggers (where collect() reads them) unless --debug. urllib3 logs at DEBUG
    for the response statuses collect() reads."""
    library_logger = logging.getLogger(LIBRARY_LOGGER)
    library_logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    library_logger.propagate = debug
    http_logger = logging.getLogger(HTTP_LOGGER)
    http_logger.setLevel(logging.DEBUG)
    http_logger.propagate = debug
