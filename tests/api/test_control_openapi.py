"""/openapi.json names the control names (an enum) and the combined write's body, while an
unknown name still gets the legacy proxy's 400, not a validation 422."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from pypowerwall_server.control.commands import Control

from .served import serving

pytestmark = pytest.mark.integration  # starts a server

SECRET = "openapi-control-secret-0123"


def test_openapi_does_not_restrict_control_names_or_combined_body() -> None:
    with serving(control_secret=SecretStr(SECRET)) as client:
        spec = client.get("/openapi.json").json()
        paths = spec["paths"]

        def name_enum(path: str, method: str) -> list[str]:
            (name,) = [p for p in paths[path][method]["parameters"] if p["name"] == "name"]
            return list(name["schema"]["enum"])

        writable = [c.value for c in Control]
        assert name_enum("/control/{name}", "post") == writable
        assert name_enum("/api/gateways/{gateway_id}/control/{name}", "post") == writable
        readable = name_enum("/control/{name}", "get")
        assert "reserve" in readable and "off_grid" not in readable
        body = paths["/api/gateways/{gateway_id}/control"]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert set(schema["properties"]) == {"reserve", "mode", "grid_export"}
        assert schema["properties"]["reserve"]["maximum"] == 100
        assert "backup" in schema["properties"]["mode"]["enum"]
        unknown = client.post(
            "/control/bogus", json={"value": 1}, headers={"Authorization": f"Bearer {SECRET}"}
        )
        assert unknown.status_code == 400
        assert unknown.json()["error"] == "Invalid Command Action"
