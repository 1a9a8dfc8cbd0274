"""The answers /openapi.json documents beyond each route's own (schemathesis checks that every
status code and content type served is documented: tests/api/test_openapi_fuzz.py)."""

from __future__ import annotations

from typing import Any

from pypowerwall_server.api import schemas

Responses = dict[int | str, dict[str, Any]]
_ERROR_SCHEMA = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}


def error(description: str) -> dict[str, Any]:
    return {"model": schemas.ErrorBody, "description": description}


# What the server's protocol (http/guarded_protocol.py) may answer on any route.
EVERY_ROUTE: Responses = {
    400: error("malformed request, or a Host this server does not answer to (PW_ALLOWED_HOSTS)"),
    408: error("request head not complete within the head timeout"),
    414: error("request target too long"),
    431: error("request header fields too large"),
    503: error("too many open connections; or, where the route says so, no data yet"),
}

# An HTML route's JSON error (with `model`, FastAPI would document it as the route's HTML).
JSON_404_ON_HTML: Responses = {
    404: {"description": "unknown gateway id", "content": {"application/json": _ERROR_SCHEMA}}
}

# Legacy routes: JSON, or plain text for the CSV routes (their errors too).
LEGACY: Responses = {
    200: {"content": {"text/plain": {}}, "description": "the proxy's JSON, or its CSV text"},
    404: error("unknown gateway or legacy path"),
    503: {
        "model": schemas.ErrorBody,
        "content": {"text/plain": {}},
        "description": "no data yet, or data too old (CSV routes answer in plain text)",
    },
}

# Control routes (api/routes_control.py): the order of their checks is in its docstring.
CONTROL: Responses = {
    400: error("bad value, unknown control name, a token in the URL, or refused by the gateway"),
    401: {"description": "missing or wrong token", "content": {"application/json": {}}},
    403: error("control is off (PW_CONTROL_SECRET not set), or a browser page of another origin"),
    404: error("unknown gateway id"),
    409: error("this gateway has no write path for this control"),
    413: error("request body too large"),
    415: error("request body not JSON or form data"),
    429: error("too many wrong tokens from this client or in total (the right token still works)"),
    503: error("the gateway failed, or the current value is unknown yet (Retry-After)"),
    504: error("the gateway did not confirm the write in time"),
}
