"""A small reverse proxy for tests: serves the server under a path prefix, as nginx's
`location /powerwall/ { proxy_pass http://server/; }` does (strip=True) or as a proxy that
forwards the path unchanged (strip=False). Adds X-Forwarded-Prefix. One request per
connection (it answers with Connection: close), except WebSocket upgrades, which are piped
both ways until either side closes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

HEAD_LIMIT = 65536


class PrefixProxy:
    def __init__(self, target_port: int, prefix: str, strip: bool) -> None:
        self.target_port = target_port
        self.prefix = prefix.encode()
        self.strip = strip
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None

    def __enter__(self) -> PrefixProxy:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        started.result(timeout=5)
        return self

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, sock=self.sock)

    def __exit__(self, *args: object) -> None:
        async def stop() -> None:
            if self.server is not None:
                self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        line, _, rest = head[:-4].partition(b"\r\n")
        method, target, version = line.split(b" ", 2)
        if not (target == self.prefix or target.startswith(self.prefix + b"/")):
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            writer.close()
            return
        if self.strip:
            target = target[len(self.prefix) :] or b"/"
        headers = [h for h in rest.split(b"\r\n") if h]
        upgrade = any(h.lower().startswith(b"upgrade:") for h in headers)
        if not upgrade:
            headers = [h for h in headers if not h.lower().startswith(b"connection:")]
            headers.append(b"Connection: close")
        headers.append(b"X-Forwarded-Prefix: " + self.prefix)
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        upstream_writer.write(b"\r\n".join([method + b" " + target + b" " + version, *headers]))
        upstream_writer.write(b"\r\n\r\n")
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(HEAD_LIMIT):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
