"""/help: the legacy proxy's human-readable status page (our own HTML), refreshed every 5 s.
Every value is HTML-escaped."""

from __future__ import annotations

import html
from typing import Any

import orjson

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}"
)


def render_help(stats: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td>{_cell(value)}</td></tr>"
        for key, value in stats.items()
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'><title>pypowerwall-server</title>"
        f"<style>{STYLE}</style></head><body><h1>pypowerwall-server</h1>"
        "<p>Status of this server (the same data as <a href='/stats'>/stats</a>); "
        "API documentation at <a href='/docs'>/docs</a>.</p>"
        f"<table>{rows}</table></body></html>"
    )


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        return f"<pre>{html.escape(text)}</pre>"
    return html.escape(str(value))
