"""Which connection a gateway's writes go through (gateway/writer.py): a transport of its
chain whatever reads now, the reader itself, or a write-only connection of its own built
from the gateway's settings for that transport alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from pypowerwall_server.gateway.transports import build_chain
from pypowerwall_server.gateway.writer import ChainLinkWriter, build_writer
from pypowerwall_server.settings import GatewayConfig
from tests.unit.test_transports import Link


@pytest.fixture
def authpath(tmp_path: Path) -> str:
    for name in (".pypowerwall.fleetapi", ".pypowerwall.auth"):
        (tmp_path / name).write_text("{}")
    return str(tmp_path)


def _chain(config: GatewayConfig, links: dict[str, Link]) -> object:
    def adapter(own: GatewayConfig) -> Link:
        name = own.read_transports[0]
        links[name] = Link(name)
        return links[name]

    return build_chain(config, adapter)


def _never(config: GatewayConfig) -> Link:
    raise AssertionError("no connection of its own expected")


def test_tedapi_then_fleetapi_writes_on_fleetapi_while_tedapi_reads(authpath: str) -> None:
    config = GatewayConfig(
        id="home", gw_pwd=SecretStr("GwPw1"), authpath=authpath, transports=("tedapi", "fleetapi")
    )
    links: dict[str, Link] = {}
    chain = _chain(config, links)
    writer = build_writer(config, chain, _never)  # type: ignore[arg-type]
    assert isinstance(writer, ChainLinkWriter) and writer.name == "fleetapi"
    assert writer.run(lambda connection: connection) == "fleetapi"  # not the active tedapi
    assert links["fleetapi"].fetches == 0  # a write is not a poll


@pytest.mark.parametrize("writer", ["fleetapi", "cloud"])
def test_a_named_writer_not_reading_gets_its_own_connection(authpath: str, writer: str) -> None:
    config = GatewayConfig(
        id="home",
        host="192.168.91.1",
        gw_pwd=SecretStr("GwPw1"),
        email="me@example.com",
        authpath=authpath,
        siteid=42,
        control_transport=writer,  # type: ignore[arg-type]
    )
    made: list[GatewayConfig] = []

    def own(writer_config: GatewayConfig) -> Link:
        made.append(writer_config)
        return Link(writer)

    built = build_writer(config, _chain(config, {}), own)  # type: ignore[arg-type]
    assert isinstance(built, Link)
    (used,) = made
    assert used.mode == writer and used.siteid == 42 and used.authpath == authpath
    assert used.email == "me@example.com"  # the cloud login's account
    assert used.host is None and used.gw_pwd is None  # the TEDAPI credentials stay with TEDAPI
    assert used.control_transport is None and used.write_transport == writer


def test_a_read_only_gateway_and_a_single_writer_write_through_the_reader() -> None:
    tedapi = GatewayConfig(id="a", gw_pwd=SecretStr("GwPw1"))
    reader = Link("tedapi")
    assert tedapi.write_transport is None
    assert build_writer(tedapi, reader, _never) is reader
    fleet = GatewayConfig(id="b", fleetapi=True)
    assert build_writer(fleet, reader, _never) is reader


@pytest.mark.parametrize(
    ("transports", "expected"),
    [
        (("tedapi", "local"), None),
        (("tedapi", "cloud", "fleetapi"), "cloud"),
        (("local", "fleetapi", "cloud"), "fleetapi"),
        (("cloud", "v1r"), "cloud"),
    ],
)
def test_the_first_write_capable_transport_in_order_writes(
    transports: tuple[str, ...], expected: str | None, tmp_path: Path
) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    config = GatewayConfig(
        id="a",
        host="10.0.0.2",
        gw_pwd=SecretStr("GwPw1"),
        password=SecretStr("pw"),
        email="me@example.com",
        rsa_key_path=str(key),
        transports=transports,  # type: ignore[arg-type]
    )
    assert config.write_transport == expected
