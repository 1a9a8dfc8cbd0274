"""SIGTERM is how Docker, systemd and `kill` ask the server to stop; a stop that went as
asked exits 0. uvicorn shuts down gracefully on SIGTERM and then raises the signal again for
the handler that was there before it; without one the process died of the signal (143)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import NoReturn


def exit_zero_on_sigterm() -> None:
    """Install before uvicorn.run (which restores it, then re-raises SIGTERM into it)."""
    signal.signal(signal.SIGTERM, _exit_zero)


def _exit_zero(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)
