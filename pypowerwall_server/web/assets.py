"""The UI's files, read once from the package (ours) and from fastapi-offline (Swagger UI
and ReDoc), each with an ETag and a gzip copy made on first use."""

from __future__ import annotations

import gzip
import hashlib
import html
from dataclasses import dataclass, field
from importlib import resources

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
VENDOR_PACKAGE = "fastapi_offline"  # ships Swagger UI and ReDoc (its static/ folder)
VENDOR_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
PAGES = ("index.html", "console.html", "energy.html", "example.html", "docs.html", "redoc.html")


@dataclass
class Asset:
    body: bytes
    content_type: str
    etag: str = field(init=False)
    _gzipped: bytes | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'

    @property
    def compressible(self) -> bool:
        return self.content_type != "image/png"  # PNG is compressed already

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        return self._gzipped


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(name[name.rfind(".") :], "application/octet-stream")


def load_own_assets() -> dict[str, Asset]:
    """ui/<name> → Asset, for our own JavaScript and CSS."""
    folder = resources.files("pypowerwall_server.web") / "static" / "ui"
    return {
        entry.name: Asset(entry.read_bytes(), content_type(entry.name))
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    }


def load_vendor_assets() -> dict[str, Asset]:
    """vendor/<name> → Asset, taken from the installed fastapi-offline package."""
    folder = resources.files(VENDOR_PACKAGE) / "static"
    return {name: Asset((folder / name).read_bytes(), content_type(name)) for name in VENDOR_FILES}


PARTS = ("head", "nav", "switcher")  # shared pieces: <name>.part in place of {{NAME}}


def page_template(name: str) -> str:
    """A page's HTML with the shared pieces in place: the head's common lines (head.part),
    the navigation bar (nav.part) and the site switcher with the theme button."""
    static = resources.files("pypowerwall_server.web") / "static"
    text = (static / name).read_text("utf-8")
    for part in PARTS:
        piece = (static / f"{part}.part").read_text("utf-8").rstrip("\n")
        text = text.replace("{{" + part.upper() + "}}", piece)
    return text


def render_page(
    template: str, base: str, style: str, gateway: str = "", history: str = ""
) -> Asset:
    """A page with its relative base ("./", "../../"), the configured look and gateway, and
    whether the server keeps history ("on" or "")."""
    text = (
        template.replace("{{BASE}}", html.escape(base))
        .replace("{{STYLE}}", html.escape(style))
        .replace("{{GATEWAY}}", html.escape(gateway))
        .replace("{{HISTORY}}", html.escape(history))
    )
    return Asset(text.encode("utf-8"), CONTENT_TYPES[".html"])
