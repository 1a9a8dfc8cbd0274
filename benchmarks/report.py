"""Print results as tables (Markdown, so they paste into BENCHMARKS.md) and write JSON."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import stats
from benchmarks.targets import Row


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def targets_table(rows: Sequence[Row]) -> str:
    header = ("Target", "Measured (ours)", "Reference", "Goal", "Result")
    return markdown_table(
        header, [(r.target, r.measured, r.reference, r.goal, r.result) for r in rows]
    )


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def http_table(http: dict[str, Any]) -> str:
    """One row per target and cell: medians over rounds, and ours as a ratio to the others."""
    targets = http.get("targets", {})
    ours = targets.get("ours", {})
    rows = []
    for name, cells in targets.items():
        for key, cell in cells.items():
            m = cell["median"]
            base = ours.get(key, {}).get("median", {})
            vs = stats.ratio(base.get("requests_per_s"), m["requests_per_s"])
            rows.append(
                (
                    name,
                    key,
                    _num(m["requests_per_s"]),
                    _num(m["p50_ms"], 2),
                    _num(m["p99_ms"], 2),
                    _num(m["cpu_percent"]),
                    "-" if name == "ours" or vs is None else f"{vs:.2f}x",
                    str(cell["errors"]),
                )
            )
    header = (
        "Server",
        "Path, connections",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU %",
        "ours / this",
        "errors",
    )
    return markdown_table(header, rows)


def scale_table(scale: dict[str, Any]) -> str:
    rows = [
        (
            str(r["gateways"]),
            _num(r.get("first_polls_s"), 1),
            _num(r["interval_median_s"], 2),
            _num(r["interval_p99_s"], 2),
            str(r["gateways_without_poll"]),
            _num(r["cpu_percent"]),
            _num(r["rss_mib"], 1),
            str(r["threads"]),
            _num(r.get("simulator_cpu_percent")),
            "yes" if r["on_schedule"] else "no",
        )
        for r in scale["runs"]
    ]
    header = (
        "K",
        "all polled after s",
        "interval median s",
        "interval p99 s",
        "never polled",
        "CPU %",
        "RSS MiB",
        "threads",
        "simulator CPU %",
        "on schedule",
    )
    return markdown_table(header, rows)


def ws_table(ws: dict[str, Any]) -> str:
    header = (
        "clients",
        "connected",
        "updates/client (median)",
        "p99 Snapshot→client ms",
        "B/client/s",
        "server CPU %",
    )
    rows = [
        (
            str(r["clients"]),
            str(r.get("connected", 0)),
            _num(r.get("updates_per_client_median"), 1),
            _num(r.get("delay_ms_data_p99")),
            _num(r.get("bytes_per_client_per_s")),
            _num(r.get("server_cpu_percent")),
        )
        for r in ws["runs"]
    ]
    return markdown_table(header, rows)


def gateway_load_table(results: dict[str, Any]) -> str:
    rows = []
    idle = results.get("gateway_load", {}).get("idle", {})
    loaded = results.get("gateway_load", {}).get("client_load", {})
    for name in sorted(set(idle) | set(loaded)):
        for phase, data in (("idle", idle.get(name)), ("client load", loaded.get(name))):
            if data is None:
                continue
            for path, rpm in sorted(data["per_minute"].items()):
                rows.append((name, phase, path, _num(rpm, 1)))
    return markdown_table(("Server", "Phase", "Gateway path", "requests/min"), rows)


def machine() -> dict[str, Any]:
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": os.getloadavg(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def full_report(results: dict[str, Any], rows: Sequence[Row]) -> str:
    meta = results["meta"]
    parts = [
        f"Date: {meta['machine']['date_utc']}; machine: {meta['machine']['cpus']} cores, "
        f"{meta['machine']['cpu_model']}; command: `{meta['command']}`; mode: {meta['mode']}",
        "",
        targets_table(rows),
    ]
    if "http" in results:
        parts += ["", "HTTP (medians over rounds):", "", http_table(results["http"])]
    if "gateway_load" in results or "http" in results:
        parts += ["", "Gateway load:", "", gateway_load_table(results)]
    if "scale" in results:
        parts += ["", "Scale:", "", scale_table(results["scale"])]
    if results.get("ws", {}).get("implemented"):
        seconds = results["ws"]["seconds"]
        parts += ["", f"WebSocket ({seconds:g} s per step):", "", ws_table(results["ws"])]
    if "mqtt" in results:
        parts += ["", "MQTT on vs off (requests/s, medians):", "", mqtt_table(results["mqtt"])]
    if "failover" in results:
        parts += ["", "Failover (API latency, sequential GETs):", "", failover_table(results)]
    return "\n".join(parts)


def failover_table(results: dict[str, Any]) -> str:
    run = results["failover"]
    rows = [
        [phase, str(run[key]["n"]), _num(run[key]["p50_ms"], 2), _num(run[key]["p99_ms"], 2)]
        for phase, key in (
            ("quiet", "api_before"),
            ("during faults", "api_during"),
            ("after", "api_after"),
        )
    ]
    table = markdown_table(["phase", "requests", "p50 ms", "p99 ms"], rows)
    threads = run["threads"]
    return (
        f"{table}\n\n{run['gateways']} gateways [tedapi, fleetapi], {run['fault_seconds']:g} s "
        f"of faults ({run['faults_set']} set), {run['failovers']} failovers, "
        f"{run['on_fallback_when_faults_stopped']} on a fallback when they stopped; threads "
        f"{threads['before']} before, {threads['max_during']} at most during, "
        f"{threads['after']} after (bound {threads['bound']})"
    )


def mqtt_table(mqtt: dict[str, Any]) -> str:
    targets = mqtt["http"]["targets"]
    control = mqtt.get("ratio_control_on_off", {})  # runs before controls over MQTT: none
    rows = []
    for key, ratio in mqtt["ratio_on_off"].items():
        row = [
            key,
            _num(targets["mqtt-off"][key]["median"]["requests_per_s"]),
            _num(targets["mqtt-on"][key]["median"]["requests_per_s"]),
            f"{ratio:.3f}",
        ]
        if control:
            row += [
                _num(targets["mqtt-control"][key]["median"]["requests_per_s"]),
                f"{control[key]:.3f}" if key in control else "-",
            ]
        rows.append(row)
    headers = ["cell", "MQTT off", "MQTT on", "on / off"]
    if control:
        headers += ["MQTT + control", "control on / off"]
    table = markdown_table(headers, rows)
    published = mqtt["published_during_http"]
    lines = [table, "", f"MQTT messages published during the HTTP cells: {published:.0f}"]
    scale = mqtt.get("scale")
    if scale:
        lines += [
            "",
            f"{scale['gateways']} gateways to mosquitto, {scale['seconds']:g} s: "
            f"{scale['states']} Snapshots ({scale.get('repeated_states', 0)} states repeated "
            "for an unchanged Snapshot, not counted), Snapshot to subscriber p50 "
            f"{_num(scale['latency_p50_ms'], 1)} ms, p99 {_num(scale['latency_p99_ms'], 1)} ms, "
            f"max {_num(scale['latency_max_ms'], 1)} ms; server CPU "
            f"{_num(scale['cpu_percent'])} %, RSS {_num(scale['rss_mib'])} MiB",
        ]
    return "\n".join(lines)


def write_json(out_dir: Path, results: dict[str, Any], rows: Sequence[Row]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    data = {**results, "targets": [r.to_json() for r in rows]}
    path = out_dir / f"bench-{stamp}.json"
    text = json.dumps(data, indent=2, default=str)
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path
