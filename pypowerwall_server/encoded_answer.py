"""A finished HTTP answer (status, bytes, headers): made by the read model (answers.py), sent
by every serving layer (http/) and the FastAPI routes alike, so that all give identical
bytes. Below both, so neither imports the other for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from starlette.responses import Response

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    """Built once (per Snapshot for hot answers); the ASGI header list and the HTTP/1.1
    header block are built with it, so a hot GET does no per-request encoding."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    raw_headers: list[tuple[bytes, bytes]] = field(init=False, repr=False, compare=False)
    head: bytes = field(init=False, repr=False, compare=False)  # header lines + blank line

    def __post_init__(self) -> None:
        raw = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.body)).encode("latin-1")),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers),
        ]
        object.__setattr__(self, "raw_headers", raw)
        object.__setattr__(self, "head", b"".join(b"%s: %s\r\n" % kv for kv in raw) + b"\r\n")

    def to_response(self) -> Response:
        from starlette.responses import Response  # only FastAPI routes need it (http/lazy_api.py)

        return Response(
            self.body, self.status, headers=dict(self.headers), media_type=self.content_type
        )


AnswerFn = Callable[[], Answer]  # a hot route: the current answer, computed or memoized


def json_answer(value: Any, status: int = 200) -> Answer:
    return Answer(status, orjson.dumps(value))


def error_answer(
    status: int, message: str, retry_after: float | None = None, plain_text: bool = False
) -> Answer:
    headers = () if retry_after is None else (("retry-after", str(max(1, round(retry_after)))),)
    if plain_text:
        return Answer(status, f"{message}\n".encode(), TEXT, headers)
    return Answer(status, orjson.dumps({"error": message}), JSON, headers)
