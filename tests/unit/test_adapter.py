"""The adapter's wiring for each mode (cloud and FleetAPI cannot be reached from here, so
their wiring is checked at this boundary), error classification and secret scrubbing."""

from __future__ import annotations

import logging
from typing import Any

import pypowerwall
import pytest
from pydantic import SecretStr

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayUnreachable
from pypowerwall_server.gateway import library_log
from pypowerwall_server.gateway.adapter import PypowerwallAdapter
from pypowerwall_server.gateway.failures import gateway_failure
from pypowerwall_server.gateway.library_log import HttpResponse
from pypowerwall_server.settings import GatewayConfig


class RecordingPowerwall:
    """Stands in for pypowerwall.Powerwall: records how the adapter constructs it."""

    instances: list[RecordingPowerwall] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.client = object()
        self.tedapi = False
        self.mode = "cloud" if kwargs["cloudmode"] else "local"
        RecordingPowerwall.instances.append(self)

    def level(self) -> float:
        return 50.0


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[RecordingPowerwall]:
    RecordingPowerwall.instances = []
    monkeypatch.setattr(pypowerwall, "Powerwall", RecordingPowerwall)
    return RecordingPowerwall.instances


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            GatewayConfig(id="t", host="127.0.0.1:1", gw_pwd=SecretStr("GWPW")),
            {"gw_pwd": "GWPW", "password": "", "cloudmode": False, "fleetapi": False},
        ),
        (
            GatewayConfig(id="l", host="127.0.0.1:1", password=SecretStr("pw"), email="a@b.c"),
            {"gw_pwd": None, "password": "pw", "cloudmode": False, "email": "a@b.c"},
        ),
        (
            GatewayConfig(id="c", email="a@b.c", cloud_mode=True, authpath="/tmp", siteid=7),
            {"cloudmode": True, "fleetapi": False, "siteid": 7, "authpath": "/tmp"},
        ),
        (
            GatewayConfig(id="f", fleetapi=True, authpath="/tmp"),
            {"cloudmode": True, "fleetapi": True, "authpath": "/tmp"},
        ),
    ],
)
def test_mode_wiring(recorded, config: GatewayConfig, expected: dict[str, Any]) -> None:
    adapter = PypowerwallAdapter(config, cache_expire=4.0)
    attributes = adapter.connect()
    kwargs = recorded[0].kwargs
    assert kwargs["failover"] is False and kwargs["auto_select"] is False
    assert kwargs["retry_modes"] is False and kwargs["pwcacheexpire"] == 4.0
    for key, value in expected.items():
        assert kwargs[key] == value, key
    assert attributes.mode == config.mode
    assert adapter.fetch(["level()"]) == {"level()": 50.0}
    adapter.close()


def test_tedapi_and_v1r_settings_reach_the_library(recorded, tmp_path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    config = GatewayConfig(
        id="v",
        host="10.0.0.9",
        gw_pwd=SecretStr("GWPW"),
        rsa_key_path=str(key),
        wifi_host="192.168.91.1",
        tedapi_api_version="V2026_06",
        tedapi_auth_mode="bearer",
    )
    PypowerwallAdapter(config, cache_expire=4.0).connect()
    kwargs = recorded[0].kwargs
    assert kwargs["rsa_key_path"] == str(key) and kwargs["wifi_host"] == "192.168.91.1"
    assert kwargs["tedapi_api_version"] == "V2026_06" and kwargs["tedapi_auth_mode"] == "bearer"


def test_library_defaults_for_tedapi_settings(recorded) -> None:
    PypowerwallAdapter(GatewayConfig(id="t", gw_pwd=SecretStr("GWPW")), cache_expire=4.0).connect()
    kwargs = recorded[0].kwargs
    assert kwargs["rsa_key_path"] is None and kwargs["wifi_host"] is None
    assert kwargs["tedapi_api_version"] == "V2024_06" and kwargs["tedapi_auth_mode"] == "basic"


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (["Invalid Powerwall Login - check password for h"], AuthFailed),
        (["429 Rate limited by Powerwall API at h"], GatewayBusy),
        (["503 Service Unavailable at h"], GatewayBusy),
        (["Unable to connect to Powerwall at h"], GatewayUnreachable),
        ([], GatewayUnreachable),
        # Numbers inside addresses and versions are not status codes.
        (["404 Powerwall API not found at https://127.0.0.1:42905/api/x"], GatewayUnreachable),
        (["Firmware 244401 detected - Does not support vitals API"], GatewayUnreachable),
        (
            ["Timeout waiting for Powerwall API /api/status - check 10.0.4.29:50301"],
            GatewayUnreachable,
        ),
        (["429 Rate limited by Powerwall API at https://127.0.0.1:40100/api/x"], GatewayBusy),
    ],
)
def test_classification(messages: list[str], error: type) -> None:
    config = GatewayConfig(id="t", host="127.0.0.1:1", gw_pwd=SecretStr("GWPW"))
    assert type(PypowerwallAdapter(config, 4.0)._classify(messages)) is error


@pytest.mark.parametrize(
    ("message", "failed"),
    [
        ("404 Powerwall API not found at https://127.0.0.1:42905/api/solars/brands", False),
        ("404 Powerwall API not found at https://127.0.0.1:45031/api/solars/brands", False),
        ("Unable to connect to Powerwall at https://h: Read timed out. (read timeout=1.0)", True),
        ("503 Service Unavailable at https://127.0.0.1:1/api/x - Activating cooldown", True),
    ],
)
def test_gateway_failure_reads_words_not_digits(message: str, failed: bool) -> None:
    assert gateway_failure([message]) is failed


def test_secrets_are_scrubbed_from_errors() -> None:
    config = GatewayConfig(
        id="t", host="127.0.0.1:1", password=SecretStr("hunter22"), gw_pwd=SecretStr("QWERTYUIOP")
    )
    error = PypowerwallAdapter(config, 4.0)._classify(["login hunter22 failed for QWERTYUIOP"])
    assert "hunter22" not in error.message and "QWERTYUIOP" not in error.message


def test_probe_failure_raises_with_the_library_reason(recorded, monkeypatch) -> None:
    def failing_level(self: RecordingPowerwall) -> None:
        logging.getLogger("pypowerwall.local").error("503 Service Unavailable at h")
        return None

    monkeypatch.setattr(RecordingPowerwall, "level", failing_level)
    adapter = PypowerwallAdapter(GatewayConfig(id="t", host="h", gw_pwd=SecretStr("X")), 4.0)
    with pytest.raises(GatewayBusy, match="503"):
        adapter.fetch(["level()", "level()"])


def test_run_gives_the_operation_the_library_object_and_translates_errors(recorded) -> None:
    config = GatewayConfig(id="t", host="127.0.0.1:1", gw_pwd=SecretStr("GWPW"))
    adapter = PypowerwallAdapter(config, cache_expire=1.0)
    try:
        assert adapter.run(lambda pw: pw.level()) == 50.0
        assert adapter.run(lambda pw: pw) is recorded[0]  # connected on first use

        def refuse(pw: Any) -> None:
            raise Exception("Invalid Powerwall Login GWPW")  # as the library raises

        with pytest.raises(AuthFailed) as refused:
            adapter.run(refuse)
        assert "GWPW" not in refused.value.message  # the secret is scrubbed
    finally:
        adapter.close()


# --- a wrong password is classified by HTTP status, not by wording ------
def _response(method: str, path: str, status: int) -> HttpResponse:
    return HttpResponse(method, path, status)


@pytest.mark.parametrize(
    ("messages", "responses", "error"),
    [
        # pypowerwall 0.22.2's real words for a refused local login and TEDAPI password
        (
            ["Login failed: \"name='AuthCookie', domain=None, path=None\""],
            [
                _response("GET", "/api/meters/aggregates", 401),
                _response("POST", "/api/login/Basic", 401),
            ],
            AuthFailed,
        ),
        (["Error posting to /tedapi/v1: 403"], [_response("POST", "/tedapi/v1", 403)], AuthFailed),
        (["Failed to connect"], [_response("GET", "/tedapi/din", 403)], AuthFailed),
        # a 403 on a local data endpoint after a good login: the endpoint is disabled
        (
            ["403 Unauthorized by Powerwall API at h"],
            [
                _response("POST", "/api/login/Basic", 200),
                _response("GET", "/api/devices/vitals", 403),
            ],
            GatewayUnreachable,
        ),
        # a 401 the library calls a password problem, on a request that is not a login
        (
            ["Unable to establish session with Powerwall at h - check password"],
            [_response("GET", "/api/meters/aggregates", 401)],
            AuthFailed,
        ),
        (["anything"], [_response("GET", "/api/meters/aggregates", 429)], GatewayBusy),
        (["anything"], [_response("GET", "/api/meters/aggregates", 500)], GatewayUnreachable),
    ],
)
def test_wrong_password_is_classified_by_status(messages, responses, error) -> None:
    config = GatewayConfig(id="t", host="127.0.0.1:1", password=SecretStr("pw"), email="a@b.c")
    found = PypowerwallAdapter(config, 4.0)._classify(messages, responses)
    assert type(found) is error
    if error is AuthFailed:
        assert found.code == "auth_failed" and found.hint and "PW_" in found.hint
        assert str(responses[-1].status) in found.message or "password" in found.message


def test_urllib3_response_lines_are_read_on_the_polling_thread() -> None:
    http = logging.getLogger("urllib3.connectionpool")
    fmt = '%s://%s:%s "%s %s %s" %s %s'
    with library_log.collect() as poll_log:
        http.debug(fmt, "https", "h", 443, "POST", "/api/login/Basic?x=1", "HTTP/1.1", 401, 0)
        http.warning("Retrying (Retry(total=1)) after connection broken: /tedapi/v1")
    assert poll_log.responses == [HttpResponse("POST", "/api/login/Basic", 401)]
    assert poll_log.messages == ["Retrying (Retry(total=1)) after connection broken: /tedapi/v1"]


def test_gateway_garbage_in_an_error_is_escaped_and_capped() -> None:
    """Log injection: a garbage body goes into "down (…)" and /health escaped."""
    config = GatewayConfig(id="t", host="127.0.0.1:1", gw_pwd=SecretStr("GWPW"))
    garbage = "Unable to parse payload '\x00\xff\x1b[31mFAKE\r\n2026 INFO forged line" + "x" * 5000
    message = PypowerwallAdapter(config, 4.0)._classify([garbage]).message
    assert message.isprintable() and "\\x1b" in message and "\\r\\n" in message
    assert len(message) < 600
