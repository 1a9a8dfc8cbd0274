"""The read tools: what the server already answers over HTTP (the read model), as tool
results. Units and signs are those of the HTTP API and are stated in each description."""

from __future__ import annotations

from typing import Any

import orjson

from pypowerwall_server.http.answer import Answer
from pypowerwall_server.services import AppServices

SIGNS = (
    "Power in W; site (grid) positive = importing, negative = exporting; battery positive = "
    "discharging, negative = charging; solar positive = producing; load positive = consuming; "
    "load = solar + battery + site."
)


class ToolFailure(Exception):
    """A tool cannot answer; the message is safe to show (the MCP result is an error)."""


def decoded(answer: Answer) -> dict[str, Any]:
    body = orjson.loads(answer.body) if answer.body else None
    if answer.status != 200:
        message = body.get("error") if isinstance(body, dict) else None
        raise ToolFailure(str(message or f"not available (HTTP {answer.status})"))
    return body if isinstance(body, dict) else {"value": body}


class Reads:
    def __init__(self, services: AppServices) -> None:
        self._services = services

    def power_flow(self, gateway: str | None = None) -> dict[str, Any]:
        answers = self._services.answers
        if gateway is None:
            return {"site": decoded(answers.aggregate_power())}
        data = decoded(answers.gateway_detail(gateway))["data"]
        return {"gateway": gateway, "power_w": data["power_w"], "grid_status": data["grid_status"]}

    def state_of_energy(self, gateway: str | None = None) -> dict[str, Any]:
        answers = self._services.answers
        if gateway is None:
            return {"site": decoded(answers.aggregate_soe())}
        data = decoded(answers.gateway_detail(gateway))["data"]
        return {
            "gateway": gateway,
            "soe": data["soe"],
            "backup_reserve_percent_app": data["backup_reserve_percent_app"],
            "backup_time_remaining_hours": data["time_remaining_hours"],
        }

    def gateway_health(self) -> dict[str, Any]:
        return decoded(self._services.answers.gateways_list())

    def alerts(self, gateway: str | None = None) -> dict[str, Any]:
        ids = [gateway] if gateway is not None else list(self._services.hub.gateway_ids)
        found: dict[str, Any] = {}
        for gateway_id in ids:
            try:
                found[gateway_id] = decoded(
                    self._services.answers.gateway_data(gateway_id, "alerts")
                ).get("value")
            except ToolFailure as exc:
                if gateway is not None:
                    raise
                found[gateway_id] = {"error": str(exc)}
        return {"alerts": found}
