"""Aggregation tables: capacity weighting, sums, gateways without battery, stale gateways."""

from __future__ import annotations

import pytest

from pypowerwall_server.models import MeterPower, app_scale
from pypowerwall_server.site_totals import GatewayReading, aggregate_power, aggregate_soe

PW = 13500.0


def soe_reading(gid: str, units: int, percent: float, fresh: bool = True) -> GatewayReading:
    full = units * PW
    return GatewayReading(gid, fresh, 1.0, None, full, full * percent / 100)


def power_reading(gid: str, site: float, battery: float, solar: float, fresh: bool = True):
    load = site + battery + solar
    return GatewayReading(gid, fresh, 1.0, MeterPower(site, battery, load, solar), None, None)


def test_two_powerwalls_at_80_and_one_at_20_is_60_percent_not_50():
    result = aggregate_soe([soe_reading("a", 2, 80.0), soe_reading("b", 1, 20.0)])
    assert result is not None
    assert result["percent_raw"] == pytest.approx(60.0)
    assert result["total_capacity_wh"] == 3 * PW
    assert result["energy_remaining_wh"] == pytest.approx(3 * PW * 0.6)
    assert result["percent_app"] == pytest.approx((60.0 - 5) / 0.95)
    assert result["complete"] is True


def test_gateway_without_battery_does_not_dilute_soe():
    no_battery = GatewayReading("solar-only", True, 1.0, None, None, None)
    result = aggregate_soe([soe_reading("a", 1, 50.0), no_battery])
    assert result is not None
    assert result["percent_raw"] == pytest.approx(50.0)
    assert [g["has_battery"] for g in result["gateways"]] == [True, False]
    assert result["complete"] is False  # one gateway has no battery data


def test_stale_gateway_is_listed_but_not_counted():
    result = aggregate_soe([soe_reading("a", 1, 90.0), soe_reading("b", 1, 10.0, fresh=False)])
    assert result is not None
    assert result["percent_raw"] == pytest.approx(90.0)
    assert result["complete"] is False
    assert [(g["id"], g["counted"], g["stale"]) for g in result["gateways"]] == [
        ("a", True, False),
        ("b", False, True),
    ]


def test_no_fresh_gateway_gives_no_total():
    assert aggregate_soe([soe_reading("a", 1, 50.0, fresh=False)]) is None
    assert aggregate_power([power_reading("a", 1, 2, 3, fresh=False)]) is None
    assert aggregate_power([]) is None


def test_power_sums_and_balance():
    result = aggregate_power(
        [power_reading("a", -2100, -3500, 6500), power_reading("b", 500, 1000, 0)]
    )
    assert result is not None
    assert result["site"] == -1600
    assert result["grid"] == result["site"]
    assert result["battery"] == -2500
    assert result["solar"] == 6500
    assert result["load"] == result["site"] + result["battery"] + result["solar"]
    assert result["complete"] is True


def test_stale_gateway_excluded_from_power_sum():
    result = aggregate_power(
        [power_reading("a", 100, 0, 0), power_reading("b", 900, 0, 0, fresh=False)]
    )
    assert result is not None
    assert result["site"] == 100
    assert result["complete"] is False


@pytest.mark.parametrize(
    ("raw", "app"), [(5.0, 0.0), (100.0, 100.0), (0.0, 0.0), (52.5, 50.0), (101.0, 100.0)]
)
def test_app_scale(raw, app):
    assert app_scale(raw) == pytest.approx(app)


def test_mqtt_at_500_gateways_site_totals_compare_no_two_readings(monkeypatch) -> None:
    """Which gateways count was asked as `r in counted`: N x N dataclass comparisons, 1.2 s
    per site total at 500 gateways, recomputed on every MQTT round."""
    from pypowerwall_server import site_totals
    from pypowerwall_server.models import MeterPower

    readings = [
        site_totals.GatewayReading(f"gw{i}", i % 7 != 0, 1.0, MeterPower(1, 2, 3, 0), 10.0, 5.0)
        for i in range(500)
    ]

    def compared(self: object, other: object) -> bool:
        raise AssertionError("readings compared with each other")

    monkeypatch.setattr(site_totals.GatewayReading, "__eq__", compared)
    power = site_totals.aggregate_power(readings)
    soe = site_totals.aggregate_soe(readings)
    assert power is not None and soe is not None
    assert sum(g["counted"] for g in power["gateways"]) == sum(r.fresh for r in readings)
    assert sum(g["counted"] for g in soe["gateways"]) == sum(r.fresh for r in readings)
