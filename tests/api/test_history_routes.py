"""The /api/history routes over a history file filled through the server's ingestion: the
shapes the /energy page draws, CSV, 404/400/503 answers, and OpenAPI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from pypowerwall_server.app import create_app
from pypowerwall_server.gateway.protocol import GatewayAdapter
from pypowerwall_server.history.ingest import Ingestor
from pypowerwall_server.history.samples import Sample
from pypowerwall_server.history.store import HistoryStore
from pypowerwall_server.settings import ServerConfig, Settings
from pypowerwall_server.settings.tariff import Tariff
from tests.api.conftest import FakeAdapter, contract_calls, gateway

ZONE = ZoneInfo("America/New_York")
DAY_START = datetime(2026, 6, 1, tzinfo=ZONE).timestamp()
TARIFF = Tariff.model_validate(
    {
        "currency": "USD",
        "import_price": 0.2,
        "export_credit": 0.05,
        "periods": [{"name": "peak", "import_price": 0.5, "from": "16:00", "to": "21:00"}],
    }
)


def fill(folder: Path) -> None:
    """Two gateways, one day of readings each minute: 1 Wh of grid import per minute for
    "a", 2 Wh for "b"; "a" has a one-hour outage."""
    store = HistoryStore(folder, batch_seconds=0.01)
    store.start()
    ingestor = Ingestor(store.write, {"a": ZONE, "b": ZONE})
    for minute in range(24 * 60 + 1):
        t = DAY_START + 60 * minute
        for gid, rate in (("a", 1.0), ("b", 2.0)):
            counters = {"grid_import": 1000 + rate * minute, "home": 5000 + 3 * rate * minute}
            counters["battery_discharge"] = 100.0 + minute
            up = not (gid == "a" and 600 <= minute < 660)
            ingestor.observe(Sample(gid, t, counters, 500.0 * rate, 0.0, 0.0, 0.0, 50.0, up))
    ingestor.record_control(DAY_START + 7200, "b", "backup_reserve", "20", "40", "ok")
    assert store.flush()
    store.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    fill(tmp_path)
    yield from _client(tmp_path, history=True, tariff=TARIFF)


def _client(folder: Path, **server: Any) -> Iterator[TestClient]:
    server_config = ServerConfig(
        bind_address="127.0.0.1",
        data_dir=str(folder),
        history=server.get("history", True),
        history_tariff=server.get("tariff"),
    )
    gateways = (gateway("a", 60, timezone=str(ZONE)), gateway("b", 60, timezone=str(ZONE)))
    adapters = {gid: FakeAdapter(contract_calls("tedapi")) for gid in ("a", "b")}
    settings = Settings(server=server_config, gateways=gateways)
    app = create_app(settings, lambda c: cast(GatewayAdapter, adapters[c.id]))
    with TestClient(app) as test_client:
        yield test_client


def test_day_energy_per_gateway_and_site_total(client: TestClient) -> None:
    one = client.get("/api/history/energy", params={"date": "2026-06-01", "gateway": "a"})
    assert one.status_code == 200
    body = one.json()
    assert body["gateway"] == "a" and body["timezone"] == "America/New_York"
    assert body["period"] == "day" and body["date"] == "2026-06-01"
    assert len(body["buckets"]) == 24
    first = body["buckets"][0]
    assert first["start"] == "2026-06-01T00:00:00-04:00"
    assert first["grid_import_wh"] == pytest.approx(60.0)
    assert first["home_wh"] == pytest.approx(180.0)
    assert first["solar_wh"] is None or first["solar_wh"] == 0
    assert first["self_powered_pct"] == pytest.approx(100 * (1 - 60 / 180), abs=0.1)
    assert first["estimated"] is False and first["complete"] is True
    assert body["totals"]["grid_import_wh"] == pytest.approx(1440.0)
    site = client.get("/api/history/energy", params={"date": "2026-06-01"}).json()
    assert site["gateway"] is None
    assert site["totals"]["grid_import_wh"] == pytest.approx(3 * 1440.0)


def test_cost_follows_the_time_of_use_tariff(client: TestClient) -> None:
    body = client.get("/api/history/energy", params={"date": "2026-06-01", "gateway": "a"}).json()
    buckets = body["buckets"]
    assert buckets[10]["cost"] == pytest.approx(0.06 * 0.2)  # 60 Wh at 0.2 per kWh
    assert buckets[17]["cost"] == pytest.approx(0.06 * 0.5)  # peak
    assert body["totals"]["cost"] == pytest.approx(0.06 * (0.2 * 19 + 0.5 * 5))


def test_week_month_year_periods(client: TestClient) -> None:
    for period, count in (("week", 7), ("month", 30), ("year", 12)):
        body = client.get(
            "/api/history/energy", params={"period": period, "date": "2026-06-01"}
        ).json()
        assert len(body["buckets"]) == count
        assert body["totals"]["grid_import_wh"] == pytest.approx(3 * 1440.0)
    empty = client.get("/api/history/energy", params={"date": "2026-06-05"}).json()
    assert empty["buckets"][0]["grid_import_wh"] is None


def test_power_points_and_csv(client: TestClient) -> None:
    params = {"start": "2026-06-01T10:00", "end": "2026-06-01T11:00", "gateway": "a"}
    body = client.get("/api/history/power", params=params).json()
    assert body["step"] == 60 and len(body["points"]) == 60
    point = body["points"][0]
    assert point["t"] == "2026-06-01T10:00:00-04:00"
    assert point["site_w"] == {"mean": 500.0, "min": 500.0, "max": 500.0}
    assert point["soe_pct"]["mean"] == 50.0 and point["grid_status"] == "down"
    hourly = client.get("/api/history/power", params={**params, "step": 3600}).json()
    assert len(hourly["points"]) == 1
    text = client.get("/api/history/power", params={**params, "format": "csv"})
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert len(rows) == 60 and float(rows[0]["site_w_mean"]) == 500.0


def test_control_writes_are_listed(client: TestClient) -> None:
    params = {"start": "2026-06-01", "end": "2026-06-02"}
    writes = client.get("/api/history/control", params=params).json()["writes"]
    assert writes == [
        {
            "time": "2026-06-01T02:00:00-04:00",
            "gateway": "b",
            "what": "backup_reserve",
            "old": "20",
            "new": "40",
            "result": "ok",
        }
    ]
    assert client.get("/api/history/control", params={**params, "gateway": "a"}).json() == {
        "writes": []
    }


def test_outages_with_the_battery_energy(client: TestClient) -> None:
    params = {"start": "2026-06-01", "end": "2026-06-02"}
    outages = client.get("/api/history/outages", params=params).json()["outages"]
    assert len(outages) == 1
    outage = outages[0]
    assert outage["gateway"] == "a" and outage["duration_s"] == 3600
    assert outage["battery_wh"] == pytest.approx(60.0)
    as_csv = client.get("/api/history/outages", params={**params, "format": "csv"}).text
    assert as_csv.splitlines()[0] == "gateway,start,end,duration_s,battery_wh"


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/history/energy", {"gateway": "nope"}, 404, "unknown gateway"),
        ("/api/history/energy", {"date": "2026-13-01"}, 400, "date"),
        ("/api/history/energy", {"period": "decade"}, 400, "period"),
        ("/api/history/energy", {"format": "xml"}, 400, "format"),
        ("/api/history/power", {"start": "yesterday", "end": "2026-06-01"}, 400, "start"),
        ("/api/history/power", {"start": "2026-06-02", "end": "2026-06-01"}, 400, "after"),
        ("/api/history/power", {"start": "2026-01-01", "end": "2026-06-01"}, 400, "too large"),
        (
            "/api/history/power",
            {"start": "2026-06-01", "end": "2026-06-02", "step": 90},
            400,
            "step",
        ),
        ("/api/history/outages", {"start": "1900-01-01", "end": "2026-06-01"}, 400, "start"),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    client: TestClient, path: str, params: dict[str, str], status: int, words: str
) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status
    assert words in answer.json()["error"]


def test_history_off_answers_503_with_the_reason(tmp_path: Path) -> None:
    for test_client in _client(tmp_path, history=False):
        answer = test_client.get("/api/history/energy")
        assert answer.status_code == 503
        assert "PW_HISTORY=no" in answer.json()["reason"]
        assert test_client.get("/api/history").json()["on"] is False
        assert test_client.get("/health").json()["history"]["on"] is False
    assert not (tmp_path / "history.sqlite").exists()


def test_history_routes_are_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for name in ("energy", "power", "outages", "gaps", "control"):
        operation = paths[f"/api/history/{name}"]["get"]
        assert {"400", "404", "503"} <= set(operation["responses"])
        assert "format" in {p["name"] for p in operation["parameters"]}
