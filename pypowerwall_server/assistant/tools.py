"""The MCP server and its tools. Imported only when the first request reaches /mcp (it loads
the MCP SDK). Descriptions state units and signs: an assistant reads nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from pypowerwall_server.assistant.history import HistoryReader
from pypowerwall_server.assistant.reads import SIGNS, Reads, ToolFailure
from pypowerwall_server.assistant.writes import Writes
from pypowerwall_server.errors import ServerError
from pypowerwall_server.services import AppServices

GATEWAY = "gateway: a configured gateway id; omitted = the whole site (all gateways)."
ONE_GATEWAY = "gateway: a configured gateway id; omitted = the default gateway."
TOKEN = (
    "Needs the server's control token as the HTTP header 'Authorization: Bearer <token>' "
    "of the MCP connection; wrong tokens lock the client out for a while, every attempt is "
    "audited. The answer is the setting read back from the gateway."
)
INSTRUCTIONS = (
    "Reads and (with the control token) steers Tesla Powerwall gateways. " + SIGNS + " "
    "State of energy in percent 0-100: percent_app is the Tesla app's scale."
)


def build_server(services: AppServices, history: HistoryReader | None = None) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("pypowerwall-server", instructions=INSTRUCTIONS)
    _add_reads(server, Reads(services))
    if history is not None:
        _add_history(server, history)
    if services.control.enabled:
        _add_writes(server, Writes(services.control, services.hub.default_id))
    return server


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ToolFailure, ServerError) as exc:
        raise ToolError(getattr(exc, "message", None) or str(exc)) from None


def _add_reads(server: MCPServer[Any], reads: Reads) -> None:
    @server.tool(description=f"Current power flow of the site or one gateway. {SIGNS} {GATEWAY}")
    def power_flow(gateway: str | None = None) -> dict[str, Any]:
        return _guarded(lambda: reads.power_flow(gateway))  # type: ignore[no-any-return]

    @server.tool(
        description="Battery state of energy (percent 0-100, raw and Tesla app scale), "
        "capacity and energy remaining in Wh, backup reserve (percent, app scale) and the "
        f"backup time left in hours. {GATEWAY}"
    )
    def state_of_energy(gateway: str | None = None) -> dict[str, Any]:
        return _guarded(lambda: reads.state_of_energy(gateway))  # type: ignore[no-any-return]

    @server.tool(
        description="Health of every gateway: online, age of its data in seconds, stale, "
        "the transport it is read over, its last error and a hint."
    )
    def gateway_health() -> dict[str, Any]:
        return _guarded(reads.gateway_health)  # type: ignore[no-any-return]

    @server.tool(description=f"Active gateway alerts (names as the gateway gives them). {GATEWAY}")
    def alerts(gateway: str | None = None) -> dict[str, Any]:
        return _guarded(lambda: reads.alerts(gateway))  # type: ignore[no-any-return]


def _add_history(server: MCPServer[Any], history: HistoryReader) -> None:
    @server.tool(
        description="Energy per hour/day/month in Wh: solar produced, home consumed, grid "
        "import and export, battery charge and discharge, self-powered percent. period: day, "
        f"week, month or year; date: YYYY-MM-DD inside it. {GATEWAY}"
    )
    async def energy(period: str, date: str, gateway: str | None = None) -> dict[str, Any]:
        return await _history(lambda: history.energy(period, date, gateway))

    @server.tool(
        description="Grid outages between start and end (ISO 8601 instants): start, end, "
        f"duration in seconds, battery energy used in Wh. {GATEWAY}"
    )
    async def outages(start: str, end: str, gateway: str | None = None) -> dict[str, Any]:
        return await _history(lambda: history.outages(start, end, gateway))


async def _history(call: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return await call()
    except Exception as exc:  # history off, broken, or a bad argument: say so, never crash
        raise ToolError(f"history not available: {exc}") from None


def _add_writes(server: MCPServer[Any], writes: Writes) -> None:
    async def write(
        ctx: Context[Any], name: str, fields: dict[str, object], gateway: str | None
    ) -> dict[str, Any]:
        request = ctx.request_context.request
        headers = getattr(request, "headers", {})
        client = getattr(request, "client", None)
        address = client.host if client is not None else "unknown"
        try:
            return await writes.write(name, fields, gateway, headers.get("authorization"), address)
        except (ToolFailure, ServerError) as exc:
            raise ToolError(getattr(exc, "message", None) or str(exc)) from None

    async def set_backup_reserve(
        percent: int, ctx: Context[Any], gateway: str | None = None
    ) -> dict[str, Any]:
        return await write(ctx, "reserve", {"value": percent}, gateway)

    async def set_operating_mode(
        mode: str, ctx: Context[Any], gateway: str | None = None
    ) -> dict[str, Any]:
        return await write(ctx, "mode", {"value": mode}, gateway)

    async def set_grid_charging(
        enabled: bool, ctx: Context[Any], gateway: str | None = None
    ) -> dict[str, Any]:
        return await write(ctx, "grid_charging", {"value": enabled}, gateway)

    async def set_grid_export(
        rule: str, ctx: Context[Any], gateway: str | None = None
    ) -> dict[str, Any]:
        return await write(ctx, "grid_export", {"value": rule}, gateway)

    async def dispatch_battery(
        power_w: int, duration_s: int, ctx: Context[Any], gateway: str | None = None
    ) -> dict[str, Any]:
        return await write(ctx, "dispatch", {"power_w": power_w, "duration_s": duration_s}, gateway)

    async def resume_battery(ctx: Context[Any], gateway: str | None = None) -> dict[str, Any]:
        return await write(ctx, "resume", {}, gateway)

    described = (
        (set_backup_reserve, "Set the backup reserve, percent 0-100 (app scale)."),
        (
            set_operating_mode,
            "Set the operating mode: self_consumption, backup or autonomous (time-based).",
        ),
        (set_grid_charging, "Allow (true) or forbid (false) charging the battery from the grid."),
        (
            set_grid_export,
            "Set what may be exported to the grid: battery_ok (solar and battery), pv_only "
            "(solar only) or never.",
        ),
        (
            dispatch_battery,
            "Battery dispatch (v1r transport only): run the battery at power_w watts for "
            "duration_s seconds (1-86400), then it resumes its mode by itself. power_w positive "
            "= discharge, negative = charge; within the site's limits. A discharge can drain "
            "the battery below the backup reserve and export to the grid whatever the export "
            "rule: ask the user first. The read-back is the battery power in W.",
        ),
        (resume_battery, "End a battery dispatch early: the battery follows its mode again."),
    )
    for tool, description in described:
        server.add_tool(tool, description=f"{description} {ONE_GATEWAY} {TOKEN}")
