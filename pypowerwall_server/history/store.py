"""The history file: one writer thread running queued jobs in batched transactions, reader
connections for queries off the event loop, and an honest state when the file breaks.

A broken store (folder read-only, disk full, corrupt file) never raises into the caller:
writes are dropped and counted, reads raise HistoryUnavailable with the reason, and the
problem is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from pypowerwall_server.history.lock import FileLock
from pypowerwall_server.history.schema import in_transaction, migrate

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], None]
FILE_NAME = "history.sqlite"
_STOP = object()


class _Flushed(threading.Event):
    """A marker in the job queue: set once every job queued before it is committed."""


class HistoryUnavailable(Exception):
    """History is off or broken; `reason` says which, for a 503 answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HistoryStore:
    """Implements the SqlRunner protocol (add_schema, write, read) besides the open/close
    life cycle. `batch_seconds` is how long the writer gathers jobs into one transaction:
    a kill -9 loses at most that much."""

    def __init__(self, folder: Path, batch_seconds: float = 1.0, readers: int = 2) -> None:
        self.path = folder / FILE_NAME
        self.batch_seconds = batch_seconds
        self.lock = FileLock(folder / (FILE_NAME + ".lock"))
        self.problem: str | None = None
        self.dropped_writes = 0
        self.batches = 0
        self._extra_schemas: list[tuple[str, tuple[str, ...]]] = []
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._opened = threading.Event()
        self._closed = False
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="history-read")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []  # closed with the store

    # --- SqlRunner ---
    def add_schema(self, name: str, statements: Sequence[str]) -> None:
        self._extra_schemas.append((name, tuple(statements)))

    def write(self, job: Job) -> None:
        if self.problem is not None or self._closed:
            self.dropped_writes += 1
            return
        self._jobs.put(job)

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        self._check_readable()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_now, query)

    # --- life cycle ---
    def start(self) -> None:
        """Open (or create and migrate) the file on the writer thread; returns once it is
        open or broken."""
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()
        self._opened.wait()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop; the lock is released."""
        if self._closed:
            return
        self._closed = True
        self._readers.shutdown(wait=True)
        for conn in self._reader_conns:  # first: the writer's close then merges the WAL
            conn.close()
        if self._thread is not None:
            self._jobs.put(_STOP)
            self._thread.join(timeout)
        self.lock.release()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every job queued so far is committed (tests and benchmarks); False
        when that did not happen (broken, closed or too slow)."""
        if self.problem is not None or self._closed:
            return False
        done = _Flushed()
        self._jobs.put(done)
        return done.wait(timeout) and self.problem is None

    def read_now(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a query on this thread's reader connection (blocking)."""
        self._check_readable()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            self._reader_conns.append(conn)
        try:
            return query(conn)
        except sqlite3.DatabaseError as exc:
            raise HistoryUnavailable(f"history read failed: {exc}") from None

    def _check_readable(self) -> None:
        if self.problem is not None:
            raise HistoryUnavailable(self.problem)
        if not self._opened.is_set() or self._closed:
            raise HistoryUnavailable("history store is not open")

    # --- writer thread ---
    def _run(self) -> None:
        conn = self._open()
        self._opened.set()
        if conn is None:
            return
        try:
            while self._write_batch(conn):
                pass
        finally:
            conn.close()

    def _open(self) -> sqlite3.Connection | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 5000")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
            migrate(conn)
            for _name, statements in self._extra_schemas:
                in_transaction(conn, statements)
            return conn
        except Exception as exc:  # any failure to open leaves history broken, live data on
            self._broken(f"history file {self.path} cannot be used: {_reason(exc)}")
            return None

    def _write_batch(self, conn: sqlite3.Connection) -> bool:
        """One transaction of every job that arrives within batch_seconds of the first;
        False once asked to stop (after writing what came before)."""
        first = self._jobs.get()
        batch, stop = [first], first is _STOP
        deadline = time.monotonic() + self.batch_seconds
        while not stop:
            try:
                job = self._jobs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            stop = job is _STOP
            batch.append(job)
        jobs = [job for job in batch if job is not _STOP and not isinstance(job, _Flushed)]
        if jobs and self.problem is None:
            self._commit(conn, jobs)
        for job in batch:
            if isinstance(job, _Flushed):
                job.set()  # after the commit: what was queued before it is readable now
        return not stop

    def _commit(self, conn: sqlite3.Connection, jobs: list[object]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                job(conn)  # type: ignore[operator]
            conn.execute("COMMIT")
            self.batches += 1
        except Exception as exc:  # disk full, I/O error, a job's own bug: history stops
            self.dropped_writes += len(jobs)
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self._broken(f"history writes failed: {_reason(exc)}")

    def _broken(self, reason: str) -> None:
        if self.problem is None:
            self.problem = reason
            log.error("%s; live data is not affected, history is off until restart", reason)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
