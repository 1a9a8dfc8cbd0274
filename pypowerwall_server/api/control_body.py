"""A control request's fields: a form (the legacy proxy, curl -d) or a JSON object (evcc,
our JSON API), read with a hard size bound before anything is parsed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

MAX_BODY_BYTES = 4096  # the legacy proxy's bound; a control request is a few fields
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class BodyProblem:
    status: int  # 400, 413 or 415
    message: str


async def request_fields(request: Request) -> Mapping[str, object] | BodyProblem:
    """The body's fields; an empty body (with or without a content type) has none."""
    try:
        body = await _bounded_body(request)
    except ClientDisconnect:  # gone mid-body: nobody to answer, nothing worth a traceback
        return BodyProblem(400, "client disconnected before the body was complete")
    if body is None:
        return BodyProblem(413, f"request body over {MAX_BODY_BYTES} bytes")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body.strip():
        return {}
    if media_type == FORM:
        return _form(body)
    if media_type == JSON or media_type.endswith("+json"):
        return _json_object(body)
    shown = media_type or "none"
    return BodyProblem(415, f"content type {shown} not accepted; send {FORM} or {JSON}")


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None as soon as it exceeds MAX_BODY_BYTES (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _form(body: bytes) -> Mapping[str, object] | BodyProblem:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return BodyProblem(400, "form body is not UTF-8")
    fields: dict[str, object] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # the first of repeated fields, as the proxy read it
    return fields


def _json_object(body: bytes) -> Mapping[str, object] | BodyProblem:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return BodyProblem(400, "body is not valid JSON")
    if not isinstance(value, dict):
        return BodyProblem(400, 'JSON body must be an object, e.g. {"value": 40}')
    return value
