"""`python -m pypowerwall_server.healthcheck`: the container's health check, with no curl.

Asks this machine's server for GET /health on the port the settings resolve to (PW_PORT or
the config file's server.port, default 8675; command-line options of the server are not
seen: in a container, set the port with PW_PORT) and exits 0 when it answers 200 (`healthy`:
every gateway fresh, or `degraded`: some), 1 otherwise (`unhealthy` 503: no gateway fresh,
no answer, a timeout, invalid settings). Docker reserves exit code 2, so it is never used.
Prints one line saying why, which `docker inspect` shows.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Mapping, Sequence

from pypowerwall_server.settings import ConfigError, ServerConfig, load_settings

HEALTHY, UNHEALTHY = 0, 1
TIMEOUT = 3.0  # seconds; below Docker's default health-check timeout (30 s) and interval
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def target(server: ServerConfig) -> tuple[str, int]:
    """Where the server listens for plain HTTP, as an address this machine can connect to."""
    return WILDCARDS.get(server.bind_address, server.bind_address), server.port


def check(host: str, port: int, timeout: float = TIMEOUT) -> tuple[int, str]:
    """(exit code, one line) for GET /health at host:port."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/health", headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return UNHEALTHY, f"unhealthy: no answer from http://{host}:{port}/health ({exc})"
    finally:
        connection.close()
    return _verdict(response.status, body)


def _verdict(status: int, body: bytes) -> tuple[int, str]:
    try:
        data = json.loads(body)
        state = str(data["status"])
        gateways = data["gateways"]
        fresh = sum(1 for gateway in gateways if gateway.get("fresh"))
        summary = f"{state}: {fresh} of {len(gateways)} gateway(s) fresh"
    except (ValueError, KeyError, TypeError, AttributeError):
        summary = f"unexpected /health answer (HTTP {status})"
    return (HEALTHY if status == 200 else UNHEALTHY), summary


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    # Only the listening address matters here; the server itself checked the gateways, and a
    # container started with `--demo` or command-line gateways has none in its environment.
    args = ["--demo", *(sys.argv[1:] if argv is None else argv)]
    try:
        settings = load_settings(args, os.environ if environ is None else environ)
    except ConfigError as exc:
        print(f"unhealthy: invalid settings: {'; '.join(exc.problems)}")
        return UNHEALTHY
    code, line = check(*target(settings.server))
    print(line)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
