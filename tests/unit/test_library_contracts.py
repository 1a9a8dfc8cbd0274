"""Every private part of uvicorn, httpx and requests listed in pypowerwall_server/internals/
is where the server expects it in the installed library: an upgrade that moves one fails
here, by name (pypowerwall's: tests/integration/test_pypowerwall_contract.py)."""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import inspect
import socket
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from pypowerwall_server.http.lean_connection import LeanFlowControl
from pypowerwall_server.internals import httpx_internals as hx
from pypowerwall_server.internals import requests_internals as rq
from pypowerwall_server.internals import uvicorn_internals as uv


def self_attributes(function: Any) -> set[str]:
    """The `self.<name>` attributes a method's source reads or sets."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def assigned_attributes(cls: type | ast.ClassDef) -> set[str]:
    """The `self.<name> = ...` attributes set anywhere in a class's source."""
    tree = cls if isinstance(cls, ast.AST) else ast.parse(textwrap.dedent(inspect.getsource(cls)))
    return {
        target.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }


# --- uvicorn -----------------------------------------------------------------------------


def test_uvicorn_httptools_module_has_the_names_we_import() -> None:
    module = importlib.import_module(uv.HTTPTOOLS_MODULE)
    missing = [name for name in uv.HTTPTOOLS_NAMES if not hasattr(module, name)]
    assert missing == [], f"uvicorn {uvicorn.__version__} moved {missing}"
    assert module.STATUS_LINE[200] == b"HTTP/1.1 200 OK\r\n"


def test_uvicorn_protocol_has_the_methods_we_override_or_call() -> None:
    wanted = (*uv.HOT_PATH_METHODS, *uv.GUARDED_METHODS)
    missing = [name for name in wanted if not callable(getattr(HttpToolsProtocol, name, None))]
    assert missing == [], f"uvicorn {uvicorn.__version__}'s HttpToolsProtocol lacks {missing}"


@pytest.fixture
def connection() -> Iterator[HttpToolsProtocol]:
    """uvicorn's own protocol on a real (socketpair) transport, as a server makes it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError("no request is sent")

    loop = asyncio.new_event_loop()
    ours, theirs = socket.socketpair()
    try:
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        protocol = HttpToolsProtocol(config, ServerState(), {}, _loop=loop)
        transport, _ = loop.run_until_complete(loop.connect_accepted_socket(lambda: protocol, ours))
        yield protocol
        transport.close()
        loop.run_until_complete(asyncio.sleep(0))  # let the transport finish closing
    finally:
        theirs.close()
        loop.close()


def test_uvicorn_connection_has_the_attributes_we_use(connection: HttpToolsProtocol) -> None:
    missing = [name for name in uv.CONNECTION_ATTRIBUTES if not hasattr(connection, name)]
    assert missing == [], f"uvicorn {uvicorn.__version__}'s connections lack {missing}"
    state = connection.server_state
    assert [n for n in uv.SERVER_STATE_ATTRIBUTES if not hasattr(state, n)] == []
    assert isinstance(connection.flow, FlowControl)


def test_uvicorn_message_begin_resets_the_request_state(connection: HttpToolsProtocol) -> None:
    """The guarded protocol defers uvicorn's on_message_begin to build the scope only for
    requests that reach the app, putting back what it reset (http/guarded_protocol.py)."""
    connection.url, connection.headers, connection.expect_100_continue = b"/x", [], True
    connection.on_message_begin()
    assert (connection.url, connection.headers, connection.expect_100_continue) == (
        b"",
        [],
        False,
    )
    assert connection.scope["headers"] is connection.headers
    connection.on_url(b"/api/")
    connection.on_url(b"meters?x=1")  # the parser may hand the target over in pieces
    assert connection.url == b"/api/meters?x=1"  # the hot table's key
    assert set(uv.MESSAGE_BEGIN_RESETS) <= self_attributes(HttpToolsProtocol.on_message_begin)


def test_uvicorn_flow_control_is_what_lean_flow_control_replaces() -> None:
    methods = {
        name
        for name, member in vars(FlowControl).items()
        if callable(member) and not name.startswith("__")
    }
    assert methods == {*uv.FLOW_CONTROL_REPLACED, *uv.FLOW_CONTROL_INHERITED}, methods
    for name in uv.FLOW_CONTROL_INHERITED:  # they must run on LeanFlowControl's attributes
        used = self_attributes(getattr(FlowControl, name))
        assert used <= set(uv.FLOW_CONTROL_ATTRIBUTES), (name, used)
    for name in uv.FLOW_CONTROL_REPLACED:
        assert name in vars(LeanFlowControl), name
    assert set(uv.FLOW_CONTROL_ATTRIBUTES) <= assigned_attributes(LeanFlowControl)


@pytest.mark.parametrize(("module", "name"), sorted(uv.DIRECT_WRITE_WEBSOCKET_PROTOCOLS))
def test_uvicorn_websocket_protocols_we_write_frames_to(module: str, name: str) -> None:
    """Read from the source: wsproto's protocol imports wsproto, an optional dependency."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"uvicorn {uvicorn.__version__} has no {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    assert set(uv.WEBSOCKET_PROTOCOL_ATTRIBUTES) <= assigned_attributes(cls)


def test_pyproject_pins_uvicorn_to_the_minor_range_tested_here() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    (pin,) = [d for d in dependencies if d.startswith("uvicorn")]
    major, minor = (int(part) for part in uvicorn.__version__.split(".")[:2])
    assert pin == f"uvicorn>={major}.{minor},<{major}.{minor + 1}", pin


# --- httpx -------------------------------------------------------------------------------


def imported_after(prelude: str) -> set[str]:
    """Top-level modules loaded by `import httpx` after `prelude`, in a fresh interpreter."""
    code = (
        "import sys\n"
        f"{prelude}\n"
        "before = set(sys.modules)\n"
        "import httpx\n"
        "assert callable(httpx.Client)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_httpx_still_imports_its_cli_only_when_it_can() -> None:
    """httpx imports its command-line tool (rich) unless that import fails; the workaround
    makes it fail. rich is installed here (a dev tool needs it), so both cases show."""
    assert "rich" in imported_after(""), "httpx no longer imports its CLI: drop the workaround"
    skipped = imported_after(f"from {hx.__name__} import skip_httpx_cli; skip_httpx_cli()")
    assert "rich" not in skipped and "pygments" not in skipped, skipped


# --- requests ----------------------------------------------------------------------------


def test_requests_methods_we_wrap_keep_their_signatures() -> None:
    session = inspect.signature(getattr(requests.Session, rq.SESSION_METHODS[0]))
    assert list(session.parameters) == ["self", "url", "proxies", "stream", "verify", "cert"]
    adapter = inspect.signature(getattr(requests.adapters.HTTPAdapter, rq.ADAPTER_METHODS[0]))
    assert list(adapter.parameters) == ["self", "request", "verify", "cert"]


def test_requests_pool_key_attributes_are_a_dict_we_can_add_an_ssl_context_to() -> None:
    """Verified (our wrapper, once installed, leaves that case alone): requests' own answer."""
    request = requests.Request("GET", "https://127.0.0.1:9/").prepare()
    adapter = requests.adapters.HTTPAdapter()
    host_params, pool_kwargs = getattr(adapter, rq.ADAPTER_METHODS[0])(request, True)
    assert host_params["host"] == "127.0.0.1" and isinstance(pool_kwargs, dict)
    assert rq.POOL_KEY_SSL_CONTEXT not in pool_kwargs  # ours to set (gateway/tls.py)
