"""`--demo`: the built-in simulator with two gateways (different sizes) on free loopback
ports, and the server against them. No hardware needed.

Both gateways are read and written over v1r (the customer password and an RSA key made for
this run and registered with the simulated gateways), and control is on: with
PW_CONTROL_SECRET when set, else with a random token printed once at start."""

from __future__ import annotations

import datetime
import logging
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from pypowerwall_server.settings import GatewayConfig, ServerConfig, Settings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.gateway import SimulatedGateway
from pypowerwall_server.simulator.runner import RunningSimulator, running_simulator

if TYPE_CHECKING:
    from pypowerwall_server.server_tls import HttpsSetup

log = logging.getLogger(__name__)

DEMO_SITES = (
    SiteConfig(
        gateway_id="home",
        seed=1,
        powerwalls=2,
        solar_peak_w=7600.0,
        site_name="Demo Home",
        gw_pwd="DEMOHOMEPW",
        customer_password="DEMOHOMEPW"[-5:],
    ),
    SiteConfig(
        gateway_id="cabin",
        seed=2,
        powerwalls=1,
        powerwall_kind="powerwall3",
        expansion_packs=1,
        solar_peak_w=3800.0,
        base_load_w=450.0,
        site_name="Demo Cabin",
        customer_password="cabin-demo",
        gw_pwd="DEMOCABINP",
        gateway_serial="TG987654321XYZ",
        powerwall_serial_prefix="TG9876543210",
    ),
)


def demo_gateways(
    sim: RunningSimulator, poll_interval: float, key_file: Path
) -> tuple[GatewayConfig, ...]:
    home, cabin = sim.gateways
    return tuple(
        GatewayConfig(
            id=gateway.id,
            name=f"{name} (v1r)",
            host=gateway.host,
            password=SecretStr(gateway.config.customer_password),
            rsa_key_path=str(key_file),
            poll_interval=poll_interval,
        )
        for gateway, name in ((home, "Demo Home"), (cabin, "Demo Cabin"))
    )


def v1r_key(folder: Path) -> tuple[Path, str]:
    """A new RSA-4096 key (the size v1r requires): its PEM file (mode 0600) and public PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    path = folder / "demo_v1r_key.pem"
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.touch(mode=0o600)
    path.write_bytes(private)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public.decode()


def demo_control(server: ServerConfig) -> tuple[ServerConfig, str | None]:
    """Control on for the demo: the configured secret, or a new random token (returned so
    it can be shown once). Left off when the user switched it off."""
    if server.control_enabled is False or server.control_secret is not None:
        return server, None
    token = secrets.token_urlsafe(18)
    return server.model_copy(update={"control_secret": SecretStr(token)}), token


def morning_today(timezone: str, now: float | None = None) -> float:
    """Today's 10:00 at the site, so a demo shows the sun working whenever it is started."""
    zone = ZoneInfo(timezone)
    today = datetime.datetime.fromtimestamp(time.time() if now is None else now, zone)
    return today.replace(hour=10, minute=0, second=0, microsecond=0).timestamp()


@contextmanager
def demo_settings(
    settings: Settings, sites: Sequence[SiteConfig] = DEMO_SITES
) -> Iterator[Settings]:
    """Start the simulator and yield the settings that point the server at it. The demo
    binds 127.0.0.1 unless another address than the default 0.0.0.0 was asked for."""
    sites = [replace(s, sim_start=s.sim_start or morning_today(s.timezone)) for s in sites]
    with (
        tempfile.TemporaryDirectory(prefix="pypowerwall-demo-") as folder,
        running_simulator(sites, admin=False) as sim,
    ):
        key_file, public_key = v1r_key(Path(folder))
        for gateway in sim.gateways:  # as `python -m pypowerwall register` pairs a key
            app = sim.gateway(gateway.id).app
            assert isinstance(app, SimulatedGateway)  # the demo's sites all speak v1r
            app.register_v1r_key(public_key)
        interval = settings.gateways[0].poll_interval if settings.gateways else 5.0
        server = settings.server.model_copy(
            update={"bind_address": demo_bind_address(settings.server)}
        )
        gateways = demo_gateways(sim, interval, key_file)
        yield settings.model_copy(update={"gateways": gateways, "demo": True, "server": server})


def demo_bind_address(server: ServerConfig) -> str:
    return "127.0.0.1" if server.bind_address == "0.0.0.0" else server.bind_address


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on host:port (bound as uvicorn binds: SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def port_taken_message(host: str, port: int) -> str | None:
    """Why the demo cannot start on this port, with a free one to use instead; None if free."""
    if not port_in_use(host, port):
        return None
    free = next(
        (p for p in range(port + 1, min(port + 50, 65536)) if not port_in_use(host, p)), None
    )
    hint = f"; try --port {free}" if free is not None else "; choose another with --port"
    return f"demo: port {port} on {host} is already in use (another server or demo?){hint}"


def run_demo(settings: Settings, https: HttpsSetup | None = None) -> None:
    from pypowerwall_server.app import run_server

    taken = port_taken_message(demo_bind_address(settings.server), settings.server.port)
    if taken is not None:  # before any URL or token is printed
        print(taken, file=sys.stderr, flush=True)
        raise SystemExit(1)
    with demo_settings(settings) as demo:
        server, token = demo_control(demo.server)
        demo = demo.model_copy(update={"server": server})
        host = demo.server.bind_address
        shown = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        url = f"http://{shown}:{demo.server.port}"
        log.warning("demo: simulated gateways 'home' and 'cabin'; open %s/", url)
        if server.control_on:
            print(control_help(url, token), file=sys.stderr, flush=True)
        run_server(demo, https)


def control_help(url: str, token: str | None) -> str:
    """Shown once at start, outside the log (the log hides the token)."""
    shown = token if token is not None else "$PW_CONTROL_SECRET"
    origin = "a token for this run only" if token is not None else "PW_CONTROL_SECRET"
    return (
        f"demo: control is on ({origin}); try a write:\n"
        f"  curl -H 'Authorization: Bearer {shown}' -H 'Content-Type: application/json' "
        f"-d '{{\"value\": 50}}' {url}/control/reserve"
    )
