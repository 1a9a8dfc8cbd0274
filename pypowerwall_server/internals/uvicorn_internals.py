"""uvicorn internals behind our HTTP protocol (http/guarded_protocol.py, http/hot_protocol.py,
http/lean_connection.py) and the direct WebSocket writes (streams/direct.py).

uvicorn has no public API for a custom protocol class beyond its `http=` option, so these
subclasses lean on the httptools protocol's methods and per-connection attributes.
"""

from __future__ import annotations

HTTPTOOLS_MODULE = "uvicorn.protocols.http.httptools_impl"
# Imported from it: the protocol we subclass and its encoded status lines.
HTTPTOOLS_NAMES = ("HttpToolsProtocol", "STATUS_LINE")

# Methods of HttpToolsProtocol that the hot protocol overrides or calls. A missing one makes
# hot_protocol() fall back to the guarded protocol (hot GETs then take the hot ASGI app).
HOT_PATH_METHODS = (
    "on_message_begin",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "_unset_keepalive_if_required",
    "timeout_keep_alive_handler",
)
# Further methods the guarded protocol overrides or calls.
GUARDED_METHODS = (
    "connection_made",
    "connection_lost",
    "data_received",
    "handle_websocket_upgrade",
    "_should_upgrade",
    "_unsupported_upgrade_warning",
    "on_url",
)
# Attributes of a connection (set in __init__ / connection_made) that both read or replace.
CONNECTION_ATTRIBUTES = (
    "loop",
    "parser",
    "server_state",
    "connections",
    "transport",
    "flow",
    "client",
    "pipeline",  # replaced by lean_connection.Pipeline (appendleft, pop, truth)
    "scope",
    "headers",
    "expect_100_continue",
    "cycle",
    "access_log",
    "timeout_keep_alive",
    "timeout_keep_alive_task",
)
# Request state that uvicorn's on_message_begin resets (the guarded protocol builds the
# scope later and puts these back); the raw target, `url`, is what its on_url collects.
MESSAGE_BEGIN_RESETS = ("url", "headers", "expect_100_continue", "scope")
# uvicorn.server.ServerState, shared by a server's connections.
SERVER_STATE_ATTRIBUTES = ("total_requests", "default_headers", "connections")

FLOW_CONTROL_MODULE = "uvicorn.protocols.http.flow_control"
# FlowControl: LeanFlowControl skips its __init__ and replaces the methods that use its
# asyncio.Event; uvicorn's protocols use the rest.
FLOW_CONTROL_ATTRIBUTES = ("_transport", "read_paused", "write_paused")
FLOW_CONTROL_REPLACED = ("drain", "pause_writing", "resume_writing")
FLOW_CONTROL_INHERITED = ("pause_reading", "resume_reading")

# The WebSocket protocols that write whole frames to an asyncio transport themselves, so our
# pre-framed broadcast bytes may go to the same transport between their frames.
DIRECT_WRITE_WEBSOCKET_PROTOCOLS = frozenset(
    {
        ("uvicorn.protocols.websockets.websockets_sansio_impl", "WebSocketsSansIOProtocol"),
        ("uvicorn.protocols.websockets.wsproto_impl", "WSProtocol"),
    }
)
WEBSOCKET_PROTOCOL_ATTRIBUTES = ("transport",)  # set in connection_made
