"""The hot protocol: uvicorn's httptools protocol, answering hot GETs in the parser callback
itself (layers: http/__init__.py).

The hot ASGI app (http/hot_asgi.py) already answers hot GETs from pre-encoded bytes, yet
each request still pays for an ASGI scope, a request/response cycle, an asyncio.Event and a
task. Here a plain keep-alive GET whose raw target is in the hot table is answered as soon
as the parser has the whole message (so a framing error is a 400 only, never an answer and
then a 400), after the checks every request passes (http/guarded_protocol.py): one dict
lookup and one transport write. Anything else (other
methods, HTTP/1.0, Connection: close, Expect, pipelining behind a request still in
progress, a client not reading, CORS preflight rules, access logging) takes uvicorn's normal
path to the same ASGI app, so the bytes are the same either way (tests/api/test_hot_protocol.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from pypowerwall_server.encoded_answer import AnswerFn
from pypowerwall_server.http.client_limits import ClientLimits
from pypowerwall_server.http.guarded_protocol import guarded_protocol
from pypowerwall_server.http.hot_asgi import HotApp
from pypowerwall_server.http.request_rules import HostPolicy, default_allowed_hosts
from pypowerwall_server.internals.uvicorn_internals import HOT_PATH_METHODS

log = logging.getLogger(__name__)


def hot_protocol(
    app: HotApp, limits: ClientLimits | None = None, hosts: HostPolicy | None = None
) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` option, bound to this app's hot table; every
    request first passes http/guarded_protocol.py (limits, Host, framing)."""
    server = app.services.settings.server
    hosts = hosts or HostPolicy(default_allowed_hosts(server.bind_address) + server.allowed_hosts)
    guarded = guarded_protocol(limits or ClientLimits(), hosts)
    missing = [name for name in HOT_PATH_METHODS if not hasattr(HttpToolsProtocol, name)]
    if missing:
        log.warning(
            "this uvicorn lacks %s; hot GETs take the hot ASGI app instead", ", ".join(missing)
        )
        return guarded
    # raw request target → (answer function, the path /stats counts it under)
    routes: Mapping[bytes, tuple[AnswerFn, str]] = {
        key.encode("latin-1"): (fn, key.partition("?")[0])
        for key, fn in app.protocol_routes.items()
    }
    stats = app.stats
    origin_matters = app.cors_enabled

    class HotHttpProtocol(guarded):  # type: ignore[valid-type, misc]
        _hot: tuple[AnswerFn, str] | None = None
        _defaults: list[tuple[bytes, bytes]] | None = None
        _defaults_block = b""

        def init_extra(self) -> None:
            self._hot = None

        def on_message_begin(self) -> None:
            self._hot = None
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            route = routes.get(self.url)
            if route is None or not self._may_answer_here():
                super().on_headers_complete()
                return
            self.admit_head()
            self._hot = route  # answered once the parser has seen the whole message

        def on_body(self, body: bytes) -> None:
            if self._hot is None:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._hot is None:
                super().on_message_complete()
                return
            answer_fn, label = self._hot
            self._hot = None
            answer = answer_fn()
            stats.count(label, answer.status)
            self.transport.write(
                b"".join(
                    (STATUS_LINE[answer.status], self._default_headers(), answer.head, answer.body)
                )
            )
            self.server_state.total_requests += 1
            # As uvicorn does after each response: close the connection if it stays idle.
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

        def _may_answer_here(self) -> bool:
            parser: Any = self.parser
            return (
                parser.get_method() == b"GET"
                and parser.get_http_version() == "1.1"
                and parser.should_keep_alive()
                and not parser.should_upgrade()
                and not self.expect_100_continue
                and (self.cycle is None or self.cycle.response_complete)
                and not self.pipeline
                and not self.flow.write_paused
                and not self.access_log
                and not (origin_matters and any(name == b"origin" for name, _ in self.headers))
            )

        def _default_headers(self) -> bytes:
            """uvicorn's date and server headers, re-encoded when they change (each second)."""
            defaults = self.server_state.default_headers
            cls = type(self)
            if defaults is not cls._defaults:
                cls._defaults_block = b"".join(b"%s: %s\r\n" % pair for pair in defaults)
                cls._defaults = defaults
            return cls._defaults_block

    return HotHttpProtocol
