"""Loading the legacy proxy contract (tests/fixtures/legacy-contract)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pypowerwall_server.legacy import FAST_CALLS, SLOW_CALLS
from pypowerwall_server.models import GatewayAttributes, LegacyOptions
from tests.fixtures import LEGACY_CONTRACT

CONTRACT = LEGACY_CONTRACT
MODES = ("local", "tedapi")
EDGE_SCENARIOS = (
    "allnone_local",
    "allnone_tedapi",
    "blocks_null",
    "edge",
    "edge_env",
    "empty_aggregates",
    "pod_flag_string",
    "site_none",
)
# Routes that are the lead's (stats/health/help, control) or the web branch.
NOT_OURS = ("/stats", "/stats/clear", "/health", "/health/reset", "/help")


@dataclass(frozen=True)
class Scenario:
    name: str
    calls: dict[str, Any]  # every call in library.json
    attributes: GatewayAttributes
    options: LegacyOptions
    responses: dict[str, dict[str, Any]]  # url -> captured response
    volatile: dict[str, list[str]]

    def polled_calls(self) -> dict[str, Any]:
        """Only what our poller fetches: the rest must be derived."""
        wanted = set(FAST_CALLS) | set(SLOW_CALLS)
        return {name: value for name, value in self.calls.items() if name in wanted}


def contract_dir() -> Path:
    if not (CONTRACT / "local" / "responses.json").is_file():
        raise AssertionError(
            f"legacy contract data not found at {CONTRACT.resolve()}: the repository's "
            "tests/fixtures/legacy-contract is missing"
        )
    return CONTRACT


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def attributes_from(raw: dict[str, Any]) -> GatewayAttributes:
    tedapi = raw.get("pw.tedapi") is not None
    return GatewayAttributes(
        mode="tedapi" if tedapi else "local",
        tedapi=tedapi,
        pw3=bool(raw.get("pw.tedapi.pw3", False)),
        cloudmode=bool(raw["pw.cloudmode"]),
        fleetapi=bool(raw["pw.fleetapi"]),
        tedapi_mode=str(raw["pw.tedapi_mode"]),
        tedapi_api_version=raw.get("pw.tedapi_api_version"),
        library_version=str(raw["pypowerwall.version"]),
    )


def _options(meta: dict[str, Any]) -> LegacyOptions:
    env = meta.get("proxy_env_overrides") or {}
    return LegacyOptions(
        neg_solar=env.get("PW_NEG_SOLAR", "yes").lower() == "yes",
        site_zero_threshold=float(env.get("PW_SITE_ZERO_THRESHOLD", "0")),
        personal_data=True,  # the proxy served /api/installer and /api/networks to anyone
    )


@cache
def load(name: str) -> Scenario:
    """`name` is a mode ("local") or an edge scenario ("edge/site_none")."""
    folder = contract_dir() / name
    library = _json(folder / "library.json")
    responses = _json(folder / "responses.json")
    volatile_file = folder / "volatile.json"
    volatile = _json(volatile_file) if volatile_file.is_file() else {}
    return Scenario(
        name=name,
        calls={k: v for k, v in library.items() if not k.startswith("_")},
        attributes=attributes_from(library["_attributes"]),
        options=_options(library["_meta"]),
        responses={k: v for k, v in responses.items() if not k.startswith("_")},
        volatile={k: v for k, v in volatile.items() if not k.startswith("_")},
    )


def is_ours(url: str) -> bool:
    return url not in NOT_OURS and not url.startswith("/control/")


def drop_path(body: Any, path: str) -> Any:
    """Remove one volatile path such as `$.VITALS.timestamp` from a parsed body (a copy)."""
    keys = [part for part in path.removeprefix("$").split(".") if part]
    if not keys:
        return None
    copy = json.loads(json.dumps(body))
    target = copy
    for key in keys[:-1]:
        target = target[key]
    del target[keys[-1]]
    return copy
