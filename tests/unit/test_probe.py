"""--check-config --probe's judgement (gateway/probe.py) with hand-written transports: a
hung transport is cut off at the deadline and classified by what the library said so far;
an answer that cannot be right for the site is "degraded"; secrets never show."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from pydantic import SecretStr

from pypowerwall_server.errors import AuthFailed, GatewayBusy, GatewayError, GatewayUnreachable
from pypowerwall_server.gateway.probe import (
    outcome_of,
    probe_gateways,
    report_lines,
    working_gateways,
)
from pypowerwall_server.gateway.readings import AGGREGATES_CALL, SYSTEM_STATUS_CALL
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig

GW_PWD = "GwSecret0123"
HEALTHY = {
    AGGREGATES_CALL: {m: {"instant_power": 100.0} for m in ("site", "battery", "load", "solar")},
    SYSTEM_STATUS_CALL: {"nominal_full_pack_energy": 13500.0},
}


class Transport:
    """Answers `answer`, raises `error`, or hangs (after a library warning) until released."""

    release = threading.Event()

    def __init__(self, config: GatewayConfig) -> None:
        self.mode = config.mode
        self.behaviour: dict[str, Any] = BEHAVIOUR[config.id]

    def connect(self) -> GatewayAttributes:
        if self.behaviour.get("hang"):
            logging.getLogger("urllib3.connectionpool").warning(
                "Retrying after connection broken by NewConnectionError: [Errno 111] "
                f"Connection refused (password {GW_PWD})"
            )
            self.release.wait(10)
        return self.attributes()

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        error = self.behaviour.get("error")
        if isinstance(error, GatewayError):
            raise error
        return dict(self.behaviour.get("answer", HEALTHY))

    def run(self, operation: Callable[[Any], Any]) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def attributes(self) -> GatewayAttributes:
        return GatewayAttributes(self.mode, True, False, False, False, "full", None, "0")


solar_only = {**HEALTHY, AGGREGATES_CALL: {"load": {"instant_power": 5.0}}}
BEHAVIOUR: dict[str, dict[str, Any]] = {
    "good": {},
    "hung": {"hang": True},
    "solar": {"answer": solar_only},
    "locked": {"error": AuthFailed(f"password refused ({GW_PWD} was wrong)")},
}


def config(gateway_id: str) -> GatewayConfig:
    return GatewayConfig(id=gateway_id, name=gateway_id, gw_pwd=SecretStr(GW_PWD))


def test_each_gateway_is_judged_and_a_hung_one_by_what_was_said_by_the_deadline() -> None:
    try:
        results = probe_gateways([config(g) for g in BEHAVIOUR], Transport, deadline=0.3)
    finally:
        Transport.release.set()
    outcomes = {r.gateway_id: (r.transport, r.outcome) for r in results}
    assert outcomes == {
        "good": ("tedapi", "ok"),
        "hung": ("tedapi", "refused"),
        "solar": ("tedapi", "degraded"),
        "locked": ("tedapi", "auth failed"),
    }
    by_id = {r.gateway_id: r for r in results}
    assert by_id["hung"].seconds == 0.3
    assert by_id["solar"].detail is not None and "solar only" in by_id["solar"].detail
    assert working_gateways(results) == dict.fromkeys(BEHAVIOUR, False) | {"good": True}
    text = "\n".join(report_lines(results))
    assert GW_PWD not in text and "***" in text  # scrubbed, also from the library's words


@pytest.mark.parametrize(
    ("error", "said", "outcome"),
    [
        (AuthFailed("x"), "Connection refused", "auth failed"),
        (GatewayUnreachable("x"), "[Errno 111] Connection refused", "refused"),
        (GatewayUnreachable("x"), "SSLError(CERTIFICATE_VERIFY_FAILED)", "TLS"),
        (GatewayUnreachable("x"), "[SSL: WRONG_VERSION_NUMBER] wrong version number", "TLS"),
        (GatewayUnreachable("x"), "Read timed out. (read timeout=5.0)", "timeout"),
        (GatewayBusy("x"), "HTTP 503", "busy"),
        (GatewayUnreachable("x"), "no meter data from gateway", "unreachable"),
        (None, "", "timeout"),  # cut off at the deadline without a word
    ],
)
def test_outcome_words(error: GatewayError | None, said: str, outcome: str) -> None:
    assert outcome_of(error, said) == outcome
