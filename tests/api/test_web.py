"""The web UI's server side: every UI path served (and none in the hot tables), the
legacy catch-all kept for API paths, security headers on every HTML answer, caching,
gzip, reverse-proxy prefixes, and the UI's size budget."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.web.layer import WebLayer
from tests.waiting import wait_until

from .conftest import FakeAdapter, contract_calls, gateway

UI_BUDGET_BYTES = 150 * 1024
HTML_PATHS = (
    "/",
    "/console",
    "/energy",
    "/example.html",
    "/docs",
    "/redoc",
    "/gw/home/",
    "/gw/cabin/",
)


def build(**server: Any) -> TestClient:
    settings = Settings(
        server=ServerConfig(bind_address="127.0.0.1", **server),
        gateways=(gateway("home"), gateway("cabin")),
    )
    adapters = {
        "home": FakeAdapter(contract_calls("tedapi"), tedapi=True),
        "cabin": FakeAdapter(contract_calls("local")),
    }
    return TestClient(create_app(settings, adapter_factory=lambda cfg: adapters[cfg.id]))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with build() as test_client:
        wait_until(lambda: test_client.get("/aggregates").status_code == 200)
        yield test_client


def web_layer(client: TestClient) -> WebLayer:
    layer = client.app.app  # type: ignore[attr-defined]
    assert isinstance(layer, WebLayer)
    return layer


def test_every_ui_path_is_served_and_none_is_in_the_hot_tables(client: TestClient) -> None:
    paths = web_layer(client).ui_paths()
    assert set(HTML_PATHS) <= set(paths)
    assert {"/ui/flow-page.js", "/ui/app.css", "/ui/vendor/swagger-ui-bundle.js"} <= set(paths)
    hot_table = client.app.routes  # type: ignore[attr-defined]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.content, path
        assert path not in hot_table and f"{path}?" not in "".join(hot_table), path


def test_unknown_paths_still_reach_the_legacy_catch_all(client: TestClient) -> None:
    for path in ("/nonexistent", "/ui/nope.js", "/ui/vendor/nope.js", "/gw/nope/", "/console/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "error" in response.json(), path
    assert client.get("/aggregates").status_code == 200  # the legacy routes are untouched


def test_a_browser_on_an_unknown_gateway_gets_a_page_that_says_so(client: TestClient) -> None:
    html = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    response = client.get("/gw/n<o>pe/", headers=html)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-gateway="n&lt;o&gt;pe"' in response.text
    assert "content-security-policy" in response.headers
    assert client.get("/gw/nope/api/status", headers=html).status_code == 404  # API paths: JSON
    assert "error" in client.get("/gw/nope/api/status", headers=html).json()


def test_pages_do_not_build_the_full_api() -> None:
    with build() as test_client:
        for path in ("/", "/console", "/ui/flow.js", "/docs"):
            assert test_client.get(path).status_code == 200
        assert not web_layer(test_client).app.built  # type: ignore[attr-defined]


def test_a_gateway_page_without_slash_redirects_relatively(client: TestClient) -> None:
    response = client.get("/gw/home?kiosk=1", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "home/?kiosk=1"


@pytest.mark.parametrize("path", [*HTML_PATHS, "/help"])
def test_every_html_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "'unsafe-inline'" not in directives.get("script-src", "")
    assert "unsafe-eval" not in policy
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_configured_frame_ancestors_may_embed_the_pages() -> None:
    with build(frame_ancestors=("https://grafana.example:3000",)) as test_client:
        response = test_client.get("/?kiosk=1")
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://grafana.example:3000" in policy
        assert "x-frame-options" not in response.headers  # it cannot name another origin


def test_html_is_not_cached_static_files_revalidate_with_etag(client: TestClient) -> None:
    assert client.get("/").headers["cache-control"] == "no-store"
    first = client.get("/ui/flow.js", headers={"accept-encoding": "identity"})
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    again = client.get(
        "/ui/flow.js", headers={"if-none-match": etag, "accept-encoding": "identity"}
    )
    assert again.status_code == 304 and again.content == b""
    assert client.get("/ui/flow.js", headers={"if-none-match": '"other"'}).status_code == 200


def test_static_files_are_gzipped_when_accepted(client: TestClient) -> None:
    plain = client.get("/ui/app.css", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = client.get("/ui/app.css", headers={"accept-encoding": "gzip"}, extensions={})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.content == plain.content  # httpx decodes it; the bytes are the same file
    assert raw.headers["etag"] != plain.headers["etag"]  # two representations, two tags
    assert "accept-encoding" in raw.headers["vary"]
    assert (
        client.get("/ui/app.css", headers={"accept-encoding": "gzip;q=0"}).headers.get(
            "content-encoding"
        )
        is None
    )


def test_docs_assets_are_the_installed_packages_files(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "ui/vendor/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    shipped = resources.files("fastapi_offline") / "static" / "swagger-ui-bundle.js"
    served = client.get("/ui/vendor/swagger-ui-bundle.js")
    assert served.content == shipped.read_bytes()
    assert "ui/vendor/redoc.standalone.js" in client.get("/redoc").text
    assert client.get("/openapi.json").json()["info"]["title"] == "pypowerwall-server"


def own_files() -> dict[str, bytes]:
    static = resources.files("pypowerwall_server.web") / "static"
    files = {e.name: e.read_bytes() for e in static.iterdir() if e.is_file()}
    files |= {f"ui/{e.name}": e.read_bytes() for e in (static / "ui").iterdir() if e.is_file()}
    return files


def test_the_whole_ui_fits_the_size_budget() -> None:
    total = sum(len(body) for body in own_files().values())
    assert total <= UI_BUDGET_BYTES, f"{total} bytes"


def test_pages_have_no_inline_script_and_only_relative_urls() -> None:
    for name, body in own_files().items():
        if not name.endswith((".html", ".part")):
            continue
        text = re.sub(r"<pre>.*?</pre>", "", body.decode(), flags=re.S)  # sample code as text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), name
        assert not re.search(r"\son[a-z]+\s*=", text), name  # no inline event handlers
        assert not re.search(r"\sstyle\s*=", text), name  # no style attributes
        for url in re.findall(r'(?:href|src|spec-url)="([^"]*)"', text):
            assert url.startswith("{{BASE}}"), (name, url)


def test_scripts_insert_text_never_html() -> None:
    for name, body in own_files().items():
        if name.endswith(".js"):
            text = body.decode()
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
                assert sink not in text, (name, sink)
            assert "eval(" not in text and "new Function" not in text, name


def test_a_kept_prefix_is_removed_when_configured() -> None:
    with build(root_path="/powerwall") as test_client:
        wait_until(lambda: test_client.get("/powerwall/aggregates").status_code == 200)
        assert (
            test_client.get("/powerwall/aggregates").content
            == test_client.get("/aggregates").content
        )
        page = test_client.get("/powerwall/")
        assert page.status_code == 200 and 'href="./ui/app.css"' in page.text
        assert test_client.get("/powerwall/ui/flow.js").status_code == 200
        assert test_client.get("/powerwall/api/gateways").status_code == 200
        bare = test_client.get("/powerwall", follow_redirects=False)
        assert bare.status_code == 308 and bare.headers["location"] == "powerwall/"
        with test_client.websocket_connect("/powerwall/ws/aggregate") as ws:
            assert ws.receive_json()["type"] == "snapshot"


def test_a_forwarded_prefix_is_removed(client: TestClient) -> None:
    headers = {"x-forwarded-prefix": "/pw/site"}
    assert client.get("/pw/site/console", headers=headers).status_code == 200
    assert client.get("/pw/site/api/gateways", headers=headers).status_code == 200
    bad = {"x-forwarded-prefix": "/a b"}  # not a plain path: ignored
    assert client.get("/a b/console", headers=bad).status_code == 404


def test_stats_count_websocket_clients(client: TestClient) -> None:
    assert client.get("/stats").json()["server"]["websocket_clients"] == 0
    with client.websocket_connect("/ws/aggregate") as ws:
        ws.receive_json()
        assert client.get("/stats").json()["server"]["websocket_clients"] == 1


def test_gzip_copy_decompresses_to_the_file(client: TestClient) -> None:
    layer = web_layer(client)
    asset = layer.own["flow.js"]
    assert gzip.decompress(asset.gzipped()) == asset.body
