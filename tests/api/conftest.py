"""App tests with hand-written fake adapters at our GatewayAdapter boundary (no network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.errors import GatewayUnreachable
from pypowerwall_server.models import GatewayAttributes
from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from tests.fixtures import LEGACY_CONTRACT

CONTRACT = LEGACY_CONTRACT
SECRET_GW_PWD = "SECRETGWPW"
SECRET_PASSWORD = "s3cret-customer-pw"


def contract_calls(mode: str) -> dict[str, Any]:
    data = json.loads((CONTRACT / mode / "library.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


class FakeAdapter:
    """Answers every call from a dict; can be switched to fail or hang."""

    def __init__(self, calls: dict[str, Any], tedapi: bool = False) -> None:
        self.calls = calls
        self.fail = False
        self.hang = threading.Event()
        self.attributes = GatewayAttributes(
            "tedapi" if tedapi else "local",
            tedapi,
            False,
            False,
            False,
            "full" if tedapi else "off",
            "V2024_06" if tedapi else None,
            "0.22.2",
        )

    def connect(self) -> GatewayAttributes:
        return self.attributes

    def fetch(self, calls: Sequence[str]) -> dict[str, Any]:
        while self.hang.is_set():
            time.sleep(0.01)
        if self.fail:
            raise GatewayUnreachable("simulated outage")
        return {c: self.calls.get(c) for c in calls}

    def close(self) -> None:
        pass


def gateway(gid: str, interval: float = 0.05, **extra: Any) -> GatewayConfig:
    return GatewayConfig(
        id=gid,
        host="127.0.0.1:9",
        gw_pwd=SecretStr(SECRET_GW_PWD),
        poll_interval=interval,
        **extra,
    )


def make_settings(*gateways: GatewayConfig) -> Settings:
    return Settings(server=ServerConfig(bind_address="127.0.0.1"), gateways=tuple(gateways))


@pytest.fixture
def app_with() -> Iterator[Callable[..., tuple[TestClient, dict[str, FakeAdapter]]]]:
    clients: list[TestClient] = []

    def build(
        adapters: dict[str, FakeAdapter], interval: float = 0.05
    ) -> tuple[TestClient, dict[str, FakeAdapter]]:
        settings = make_settings(*(gateway(gid, interval) for gid in adapters))
        app = create_app(settings, adapter_factory=lambda cfg: adapters[cfg.id])
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client, adapters

    yield build
    for client in clients:
        client.__exit__(None, None, None)
