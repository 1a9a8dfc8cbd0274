"""/help: the legacy proxy's human-readable status page (our own HTML), refreshed every 5 s.
Every value is HTML-escaped and written as JSON writes it (true, false, null). The page
has no script: its colours follow the UI's light and dark themes (web/static/ui/app.css)
through the system setting, and its icon is the UI's, inline (no /favicon.ico request)."""

from __future__ import annotations

import html
import urllib.parse
from functools import cache
from importlib import resources
from typing import Any

import orjson

LIGHT = "--bg:#f6f7f9;--fg:#1d2330;--muted:#5d6575;--card:#fff;--line:#d5d9e0;--accent:#2f6fdf"
DARK = "--bg:#12151b;--fg:#e6e9ef;--muted:#9aa3b2;--card:#1b2029;--line:#2e3542;--accent:#6c9cff"
STYLE = (
    f":root{{{LIGHT};color-scheme:light}}"
    f"@media (prefers-color-scheme:dark){{:root{{{DARK};color-scheme:dark}}}}"
    "body{font-family:system-ui,sans-serif;margin:2em;background:var(--bg);color:var(--fg)}"
    "a{color:var(--accent)}p{color:var(--muted)}"
    "table{border-collapse:collapse;background:var(--card)}"
    "td,th{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}"
    "th{font-weight:600}pre{margin:0}"
)


@cache
def _icon() -> str:
    svg = resources.files("pypowerwall_server.web").joinpath("static/ui/icon.svg").read_text()
    return "data:image/svg+xml," + urllib.parse.quote(svg.strip())


def render_help(stats: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{_cell(value)}</td></tr>"
        for key, value in stats.items()
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'><title>pypowerwall-server</title>"
        f"<link rel='icon' href='{html.escape(_icon(), quote=True)}'>"
        f"<style>{STYLE}</style></head><body><h1>pypowerwall-server</h1>"
        "<p>Status of this server (the same data as <a href='/stats'>/stats</a>); "
        "API documentation at <a href='/docs'>/docs</a>.</p>"
        f"<table>{rows}</table></body></html>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        return f"<pre>{html.escape(text)}</pre>"
    if isinstance(value, str):
        return html.escape(value)
    return html.escape(orjson.dumps(value).decode())  # true, false, null, numbers
