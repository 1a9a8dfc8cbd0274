"""Human-readable text of resolved Settings for --check-config. Secrets appear only as ***."""

from __future__ import annotations

from pydantic import SecretStr

from pypowerwall_server.settings_models import GatewayConfig, ServerConfig, Settings


def describe(settings: Settings) -> str:
    lines = ["server:", *_server_lines(settings.server)]
    if settings.demo:
        lines.append("demo: yes (simulated gateways)")
    lines.append(f"gateways: {len(settings.gateways)}")
    for gateway in settings.gateways:
        lines.extend(_gateway_lines(gateway))
    return "\n".join(lines)


def _server_lines(server: ServerConfig) -> list[str]:
    origins = ", ".join(server.cors_origins) or "(same origin only)"
    return [
        f"  bind_address: {server.bind_address}",
        f"  port: {server.port}",
        f"  cors_origins: {origins}",
        f"  debug: {_yes_no(server.debug)}",
        f"  neg_solar: {_yes_no(server.neg_solar)}",
        f"  site_zero_threshold: {server.site_zero_threshold:g} W",
        f"  stale_after_intervals: {server.stale_after_intervals:g}",
        f"  https: {_https(server)}",
        f"  data_dir: {server.data_dir}",
    ]


def _https(server: ServerConfig) -> str:
    if not server.https:
        return "no"
    certificate = server.tls_cert or "self-signed, generated into data_dir"
    return f"yes, port {server.https_port}, certificate {certificate}"


def _gateway_lines(gateway: GatewayConfig) -> list[str]:
    hybrid = " (+ TEDAPI vitals)" if gateway.mode == "local" and gateway.uses_tedapi else ""
    return [
        f"  - id: {gateway.id}",
        f"    name: {gateway.name}",
        f"    mode: {gateway.mode}{hybrid}",
        f"    host: {gateway.host or '(none)'}",
        f"    poll_interval: {gateway.poll_interval:g} s",
        f"    timeout: {gateway.timeout:g} s",
        f"    timezone: {gateway.timezone}",
        f"    gw_pwd: {_secret(gateway.gw_pwd)}",
        f"    password: {_secret(gateway.password)}",
        f"    email: {gateway.email or '(not set)'}",
        f"    authpath: {gateway.authpath or '(current folder)'}",
        f"    siteid: {gateway.siteid if gateway.siteid is not None else '(first site)'}",
    ]


def _secret(value: SecretStr | None) -> str:
    return "(not set)" if value is None else "***"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"
