"""Serving machinery: how an HTTP request reaches an answer (docs/architecture.md, decision 1).

One word, "hot": a hot GET is one whose raw target (path and query) is in the hot route
table, and whose answer is bytes encoded once per Snapshot by the read model (answers.py).
Three layers can answer it, outermost first; each passes what it does not handle inward:

    client ──► hot protocol     hot_protocol.py  uvicorn's httptools protocol; a plain keep-alive
                │                                GET in the hot table is answered as soon as its
                │                                headers are parsed (one dict lookup, one write)
                ▼
               hot ASGI app     hot_asgi.py      the ASGI app uvicorn runs: hot GETs by dict
                │                                lookup, WebSocket streams by path, the lifespan
                ▼
               full API         lazy_api.py      FastAPI (api/), built on first use: every route,
                                                 hot ones too (for /docs), same bytes

Before any of them, every request passes the guard in the hot protocol's base class
(guarded_protocol.py: head size, head timeout, connection cap; request_rules.py: Host,
HTTP version, framing), with the limits of client_limits.py; lean_connection.py keeps the
per-connection state uvicorn makes for every connection small until it is used;
server_options.py gives uvicorn these classes and limits.

When PW_READ_TOKEN or PW_RATE_LIMIT is set, the hot ASGI app first asks admission.py
(read_auth.py, login_page.py, rate_limit.py), and the hot protocol answers only the hot GETs
admission could not refuse. tls_accept.py accepts TLS on the HTTPS port, counting handshakes
in progress against the connection cap.

hot_routes.py is the hot table (raw target → answer function), asgi.py the ASGI types; the
finished answer all three layers send (status, bytes, header block) is encoded_answer.py's,
outside http/ since the read model makes it. api/ keeps the FastAPI routers, schemas and
dependencies.
"""
