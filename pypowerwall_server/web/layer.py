"""The ASGI layer that serves the UI, in front of the FastAPI app (behind the fast path).

Pages and static files are answered from memory here, so a browser never builds FastAPI
for them and they never enter the hot path's tables; every other request goes on to FastAPI
unchanged (the legacy catch-all still answers unknown API paths with 404). HTML answers
from FastAPI (/help) get the same security headers as ours (web/security.py).

Reverse proxies: every URL in the UI is relative, so a proxy that strips its prefix needs
nothing. One that keeps it (https://host/powerwall/aggregates arriving as such) is served
when the prefix is configured (PW_ROOT_PATH) or sent as X-Forwarded-Prefix: it is removed
from the path before routing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from pypowerwall_server.http.asgi import ASGIApp, Message, Receive, Scope, Send
from pypowerwall_server.http.request_rules import valid_prefix
from pypowerwall_server.web import assets
from pypowerwall_server.web.security import DOCS_POLICY, PLAIN_POLICY, UI_POLICY, html_headers

_UNKNOWN_GATEWAY_PAGE = re.compile(r"^/gw/[^/]{1,128}/$")
GZIP_MIN_BYTES = 512


@dataclass(frozen=True)
class WebOptions:
    style: str = ""  # PW_STYLE: the default look of the pages
    frame_ancestors: tuple[str, ...] = ()  # origins allowed to frame the pages
    root_path: str = ""  # the prefix a reverse proxy serves us under, e.g. /powerwall
    history: bool = False  # the server keeps history: the flow page's charts read it


class Page(NamedTuple):
    asset: assets.Asset
    policy: str


class RouteLabel(NamedTuple):
    path: str  # what /stats counts the request under (api/fastpath.py reads route.path)


class WebLayer:
    def __init__(
        self,
        app: ASGIApp,
        gateway_ids: Iterable[str],
        options: WebOptions,
        websocket: Callable[[str], ASGIApp | None] | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self.websocket = websocket
        self.own = assets.load_own_assets()
        self._flow_template = assets.page_template("index.html")
        self.pages = self._pages(tuple(gateway_ids))

    def _pages(self, gateway_ids: tuple[str, ...]) -> dict[str, Page]:
        style = self.options.style
        history = "on" if self.options.history else ""
        template = {name: assets.page_template(name) for name in assets.PAGES}

        def page(name: str, base: str, policy: str = UI_POLICY, gateway: str = "") -> Page:
            rendered = assets.render_page(template[name], base, style, gateway, history)
            return Page(rendered, policy)

        pages = {
            "/": page("index.html", "./"),
            "/console": page("console.html", "./"),
            "/energy": page("energy.html", "./"),
            "/example.html": page("example.html", "./"),
            "/docs": page("docs.html", "./", DOCS_POLICY),
            "/redoc": page("redoc.html", "./", DOCS_POLICY),
        }
        for gid in gateway_ids:
            pages[f"/gw/{gid}/"] = page("index.html", "../../", gateway=gid)
        return pages

    @functools.cached_property
    def vendor(self) -> dict[str, assets.Asset]:
        return assets.load_vendor_assets()  # 2.8 MB: read only when /docs is first used

    def ui_paths(self) -> list[str]:
        """Every path this layer serves (for tests and documentation)."""
        return [
            *self.pages,
            *(f"/ui/{name}" for name in self.own),
            *(f"/ui/vendor/{name}" for name in assets.VENDOR_FILES),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        redirect = self._strip_prefix(scope)
        if kind == "websocket":
            endpoint = self.websocket(scope["path"]) if self.websocket else None
            await (endpoint or self.app)(scope, receive, send)
            return
        if redirect is not None:
            await self._redirect(scope, send, redirect)
            return
        if scope["method"] in ("GET", "HEAD") and await self._serve_ui(scope, send):
            return
        await self.app(scope, receive, self._secure_html(send))

    def _strip_prefix(self, scope: Scope) -> str | None:
        """Remove a configured or forwarded prefix from the path, in place. Returns a
        relative redirect target when the path is the bare prefix (no trailing slash)."""
        prefix = self.options.root_path or _header(scope, b"x-forwarded-prefix").rstrip("/")
        if not prefix or not valid_prefix(prefix):
            return None
        path: str = scope["path"]
        if path == prefix:
            return prefix.rsplit("/", 1)[-1] + "/"
        if path.startswith(prefix + "/"):
            scope["path"] = path[len(prefix) :]
            raw: bytes = scope.get("raw_path") or b""
            if raw.startswith(prefix.encode()):
                scope["raw_path"] = raw[len(prefix) :]
        return None

    async def _serve_ui(self, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        page = self.pages.get(path)
        if page is not None:
            scope["route"] = RouteLabel("/gw/{id}/" if path.startswith("/gw/") else path)
            headers = [
                *html_headers(page.policy, self.options.frame_ancestors),
                (b"cache-control", b"no-store"),
            ]
            await _send_asset(scope, send, page.asset, headers, etag=False)
            return True
        if path.startswith("/gw/") and path.count("/") == 2 and f"{path}/" in self.pages:
            await self._redirect(scope, send, path.rsplit("/", 1)[-1] + "/")
            return True
        if _UNKNOWN_GATEWAY_PAGE.match(path) and "text/html" in _header(scope, b"accept"):
            # a browser on a mistyped gateway: a page that says so (API clients get the JSON 404)
            scope["route"] = RouteLabel("/gw/{id}/")
            unknown = assets.render_page(
                self._flow_template, "../../", self.options.style, path[4:-1], ""
            )
            headers = [
                *html_headers(UI_POLICY, self.options.frame_ancestors),
                (b"cache-control", b"no-store"),
            ]
            await _send_asset(scope, send, unknown, headers, etag=False, status=404)
            return True
        name = path.removeprefix("/ui/")
        if name == path:
            return False
        asset = self.own.get(name)
        if asset is None and name.startswith("vendor/"):
            asset = self.vendor.get(name.removeprefix("vendor/"))
        if asset is None:
            return False
        scope["route"] = RouteLabel("/ui/*")
        headers = [(b"cache-control", b"no-cache"), (b"x-content-type-options", b"nosniff")]
        await _send_asset(scope, send, asset, headers, etag=True)
        return True

    async def _redirect(self, scope: Scope, send: Send, target: str) -> None:
        query: bytes = scope.get("query_string", b"")
        location = target.encode() + (b"?" + query if query else b"")
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _secure_html(self, send: Send) -> Send:
        ancestors = self.options.frame_ancestors

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {k.lower(): v for k, v in headers}
                if names.get(b"content-type", b"").startswith(b"text/html") and (
                    b"content-security-policy" not in names
                ):
                    secured = headers + html_headers(PLAIN_POLICY, ancestors)
                    message = {**message, "headers": secured}
            await send(message)

        return wrapped


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return ""


def _accepts_gzip(scope: Scope) -> bool:
    for part in _header(scope, b"accept-encoding").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _send_asset(
    scope: Scope,
    send: Send,
    asset: assets.Asset,
    headers: list[tuple[bytes, bytes]],
    etag: bool,
    status: int = 200,
) -> None:
    body = asset.body
    encoded = False
    if asset.compressible and len(body) >= GZIP_MIN_BYTES and _accepts_gzip(scope):
        body, encoded = asset.gzipped(), True
    headers = [(b"content-type", asset.content_type.encode()), *headers]
    if asset.compressible:
        headers.append((b"vary", b"accept-encoding"))
    if encoded:
        headers.append((b"content-encoding", b"gzip"))
    if etag:
        tag = asset.etag[:-1] + '-gzip"' if encoded else asset.etag
        headers.append((b"etag", tag.encode()))
        wanted = [t.strip() for t in _header(scope, b"if-none-match").split(",")]
        if tag in wanted or asset.etag in wanted or "*" in wanted:
            status, body = 304, b""
    if status != 304:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
