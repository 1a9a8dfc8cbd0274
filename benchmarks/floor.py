"""The floor: a minimal raw ASGI app that returns fixed bytes per path, served by the same
stack as our server (uvicorn, uvloop, httptools, same settings as app.run_server).

Run as `python -m benchmarks.floor BODIES.json PORT`; BODIES.json maps a path to
{"status": int, "headers": [[name, value], ...], "body_b64": str}, captured from our server
just before, so both answer with the same bytes.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
NOT_FOUND: Answer = (404, [(b"content-length", b"0")], b"")


def load_answers(path: Path) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for route, entry in json.loads(path.read_text()).items():
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in entry["headers"]]
        answers[route] = (int(entry["status"]), headers, base64.b64decode(entry["body_b64"]))
    return answers


def make_app(answers: dict[str, Answer]) -> ASGIApp:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        status, headers, body = answers.get(scope["path"], NOT_FOUND)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: list[str]) -> None:
    import uvicorn

    answers = load_answers(Path(argv[0]))
    # The same settings as pypowerwall_server.app.run_server (debug off).
    uvicorn.run(
        make_app(answers),
        host="127.0.0.1",
        port=int(argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
