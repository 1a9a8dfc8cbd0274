"""httpx: the import workaround that keeps its command-line tool out of the server.

pypowerwall always imports its Tesla cloud client, which imports httpx, and httpx's package
imports its command-line tool (rich and pygments, ~2.7 MiB) whenever rich is installed, as
it is beside development tools or other applications. A server never runs that tool. httpx
guards that import with `try: from ._main import main except ImportError`, and a None in
sys.modules makes the import raise ImportError, so httpx skips it.
"""

from __future__ import annotations

import sys

CLI_MODULE = "httpx._main"


def skip_httpx_cli() -> None:
    """Before httpx's first import: make it skip importing its command-line tool."""
    if "httpx" not in sys.modules and CLI_MODULE not in sys.modules:
        sys.modules[CLI_MODULE] = None  # type: ignore[assignment]
