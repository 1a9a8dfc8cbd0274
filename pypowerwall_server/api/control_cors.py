"""CORS for every route except control: a browser page from another origin may read the
data, but never write (no CORS headers, preflights refused), whatever PW_CORS_ORIGINS says."""

from __future__ import annotations

import re
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PATH = re.compile(r"^(/gw/[^/]+)?/control(/|$)|^/api/(gateways/[^/]+/)?control(/|$)")


def is_control_path(path: str) -> bool:
    return CONTROL_PATH.match(path) is not None


class CorsExceptControl:
    def __init__(self, app: ASGIApp, /, **cors: Any) -> None:
        self._app = app
        self._cors = CORSMiddleware(app, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_control_path(scope.get("path", "")):
            await self._app(scope, receive, send)
        else:
            await self._cors(scope, receive, send)
