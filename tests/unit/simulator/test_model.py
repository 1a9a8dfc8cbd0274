"""The simulated site's physics over accelerated simulated days."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace

import pytest

from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.dispatch import BatteryPack, Settings, decide
from pypowerwall_server.simulator.model import SiteModel
from pypowerwall_server.simulator.state import SiteState

MIDNIGHT_PDT = 1749970800.0  # 2025-06-15 00:00 America/Los_Angeles
HOUR = 3600.0


def model_at(hour: float, **overrides: object) -> SiteModel:
    config = replace(SiteConfig(sim_start=MIDNIGHT_PDT + hour * HOUR), **overrides)  # type: ignore[arg-type]
    return SiteModel(config, real_start=0.0)


def day_samples(model: SiteModel, hours: float = 24.0, every_s: float = 600.0) -> list[SiteState]:
    samples = [model.state()]
    for _ in range(int(hours * HOUR / every_s)):
        model.advance_sim(every_s)
        samples.append(model.state())
    return samples


def assert_balanced(state: SiteState) -> None:
    load = state.load.instant_power_w
    assert (
        load
        == state.solar.instant_power_w + state.battery.instant_power_w + state.site.instant_power_w
    )


def local_hour(state: SiteState) -> float:
    return (state.sim_time - MIDNIGHT_PDT) / HOUR % 24.0


@pytest.fixture(scope="module")
def default_day() -> list[SiteState]:
    return day_samples(model_at(0.0))


def test_solar_rises_around_noon_and_is_dark_at_night(default_day: list[SiteState]) -> None:
    solar = {round(local_hour(s), 2): s.solar.instant_power_w for s in default_day}
    assert solar[0.0] == 0 and solar[3.0] == 0 and solar[23.0] == 0
    producing = [h for h, w in solar.items() if w > 0]
    assert 4.5 < min(producing) < 7.5 and 18.5 < max(producing) < 21.5
    peak_hour = max(solar, key=lambda h: solar[h])
    assert 10.0 <= peak_hour <= 16.0
    assert solar[peak_hour] > 0.5 * SiteConfig().solar_peak_w


def test_power_balances_at_every_sample(default_day: list[SiteState]) -> None:
    for state in default_day:
        assert_balanced(state)


def test_self_consumption_charges_from_surplus_and_keeps_reserve() -> None:
    samples = day_samples(model_at(0.0, initial_soe_raw_percent=40.0, powerwalls=1))
    reserve = SiteConfig().backup_reserve_raw_percent
    assert min(s.soe_raw_percent for s in samples) >= reserve
    at_reserve = [s for s in samples if s.soe_raw_percent < reserve + 0.001]
    assert at_reserve, "the night should drain one Powerwall down to the reserve"
    assert all(s.battery.instant_power_w <= 0 for s in at_reserve)
    surplus = [
        s
        for s in samples
        if s.solar.instant_power_w > s.load.instant_power_w + 200 and s.soe_raw_percent < 90
    ]
    assert surplus and all(s.battery.instant_power_w < 0 for s in surplus)
    assert all(s.site.instant_power_w == 0 for s in surplus)  # surplus all goes to the battery


def test_lifetime_counters_never_decrease(default_day: list[SiteState]) -> None:
    def counters(state: SiteState) -> list[float]:
        meters = (state.site, state.battery, state.load, state.solar)
        values = [m.energy_imported_wh for m in meters] + [m.energy_exported_wh for m in meters]
        for unit in state.powerwalls:
            values += [unit.energy_charged_wh, unit.energy_discharged_wh]
        return values

    pairs = itertools.pairwise(default_day)
    assert all(
        a <= b
        for before, after in pairs
        for a, b in zip(counters(before), counters(after), strict=True)
    )
    assert counters(default_day[-1]) != counters(default_day[0])


def test_grid_outage_battery_carries_house_below_reserve() -> None:
    model = model_at(1.0, initial_soe_raw_percent=30.0, powerwalls=1)
    model.set_grid_up(False)
    samples = day_samples(model, hours=4.0)
    for state in samples:
        assert state.grid_status == "SystemIslandedActive" and not state.grid_up
        assert state.site.instant_power_w == 0
        assert_balanced(state)
        assert all(unit.pinv_state == "PINV_GridForming" for unit in state.powerwalls)
    assert samples[0].battery.instant_power_w == samples[0].load.instant_power_w > 0
    assert samples[-1].soe_raw_percent < SiteConfig().backup_reserve_raw_percent


def test_grid_outage_with_full_battery_curtails_solar() -> None:
    model = model_at(11.0, initial_soe_raw_percent=99.0)
    model.advance_sim(HOUR)  # midday sun fills the last percent
    model.set_grid_up(False)
    state = model.state()
    assert state.soe_raw_percent > 99.99
    assert state.battery.instant_power_w == 0
    assert state.solar.instant_power_w == state.load.instant_power_w
    assert state.site.instant_power_w == 0


def test_grid_restored_reconnects() -> None:
    model = model_at(1.0)
    model.set_grid_up(False)
    model.advance_sim(600)
    model.set_grid_up(True)
    state = model.state()
    assert state.grid_status == "SystemGridConnected" and state.grid_up
    assert "SystemConnectedToGrid" in state.alerts


def test_backup_mode_charges_from_grid_when_allowed() -> None:
    model = model_at(1.0, initial_soe_raw_percent=50.0, operating_mode="backup", grid_charging=True)
    before = model.state()
    model.advance_sim(HOUR)
    after = model.state()
    assert before.battery.instant_power_w < 0 and after.soe_raw_percent > before.soe_raw_percent + 5


def test_backup_mode_without_grid_charging_holds_at_night() -> None:
    model = model_at(1.0, initial_soe_raw_percent=50.0, operating_mode="backup")
    before = model.state()
    model.advance_sim(HOUR)
    after = model.state()
    assert after.battery.instant_power_w == 0
    assert after.site.instant_power_w == after.load.instant_power_w
    assert after.soe_raw_percent == pytest.approx(before.soe_raw_percent)


def test_export_never_stops_export_when_full() -> None:
    exporting = model_at(11.0, initial_soe_raw_percent=99.0)
    model = model_at(11.0, initial_soe_raw_percent=99.0, export_rule="never")
    for site in (exporting, model):
        site.advance_sim(HOUR)
    assert exporting.state().site.instant_power_w < 0
    state = model.state()
    assert state.site.instant_power_w == 0
    assert_balanced(state)


def test_same_seed_same_states_and_other_seed_differs() -> None:
    first, second, other = model_at(5.0), model_at(5.0), model_at(5.0, seed=7)
    for model in (first, second, other):
        model.advance_sim(7 * HOUR)
    assert first.state() == second.state()
    assert first.state().load.instant_power_w != other.state().load.instant_power_w


def test_real_time_advance_follows_acceleration() -> None:
    model = SiteModel(SiteConfig(sim_start=MIDNIGHT_PDT, time_acceleration=60.0), real_start=100.0)
    model.advance(160.0)
    assert model.state().sim_time == pytest.approx(MIDNIGHT_PDT + HOUR)
    model.advance(150.0)  # a clock stepping back never rewinds the site
    assert model.state().sim_time == pytest.approx(MIDNIGHT_PDT + HOUR)


def test_huge_time_jump_is_bounded_and_stays_physical() -> None:
    model = model_at(0.0)
    started = time.perf_counter()
    model.advance_sim(365 * 24 * HOUR)
    assert time.perf_counter() - started < 5.0
    state = model.state()
    assert 0.0 <= state.soe_raw_percent <= 100.0
    assert all(math.isfinite(m.energy_imported_wh) for m in (state.site, state.load))
    assert_balanced(state)


def test_missing_powerwall_is_reported_by_serial() -> None:
    model = model_at(0.0)
    model.missing_index = 1
    assert model.state().missing_powerwall_serials == {model.state().powerwalls[1].serial}


PACK = BatteryPack(remaining_wh=13500.0, full_wh=27000.0, max_power_w=10000.0)
ON_GRID = Settings("self_consumption", 24.0, True, False, "battery_ok")


@pytest.mark.parametrize(
    ("solar", "load", "pack", "settings", "battery", "site"),
    [
        (0, 1000, PACK, ON_GRID, 1000, 0),  # night: battery covers the house
        (5000, 1000, PACK, ON_GRID, -4000, 0),  # surplus charges
        (0, 15000, PACK, ON_GRID, 10000, 5000),  # power-limited: grid supplies the rest
        (0, 1000, replace(PACK, remaining_wh=6480.0), ON_GRID, 0, 1000),  # at reserve
        (5000, 1000, replace(PACK, remaining_wh=27000.0), ON_GRID, 0, -4000),  # full: export
        (0, 1000, PACK, replace(ON_GRID, mode="backup"), 0, 1000),  # backup holds
        (3000, 1000, PACK, replace(ON_GRID, mode="backup"), -3000, 1000),  # backup: solar in
        (0, 1000, PACK, replace(ON_GRID, grid_up=False), 1000, 0),  # islanded
        (0, 1000, replace(PACK, remaining_wh=0.0), replace(ON_GRID, grid_up=False), 0, 0),
        # reserve raised above the charge: refill with all the sun, the grid feeds the house
        (3000, 1000, PACK, replace(ON_GRID, reserve_raw_percent=80.0), -3000, 1000),
        (0, 1000, PACK, replace(ON_GRID, reserve_raw_percent=80.0), 0, 1000),  # night: hold
        (
            0,
            1000,
            PACK,
            replace(ON_GRID, reserve_raw_percent=80.0, grid_charging=True),
            -10000,
            11000,
        ),
        (8000, 1000, PACK, replace(ON_GRID, reserve_raw_percent=80.0), -8000, 1000),
        (0, 1000, PACK, replace(ON_GRID, mode="backup", grid_charging=True), -10000, 11000),
        (
            9000,
            1000,
            replace(PACK, remaining_wh=27000.0),
            replace(ON_GRID, export_rule="never"),
            0,
            0,
        ),
    ],
)
def test_dispatch_table(
    solar: float,
    load: float,
    pack: BatteryPack,
    settings: Settings,
    battery: float,
    site: float,
) -> None:
    flows = decide(solar, load, pack, settings, horizon_s=1.0)
    assert (flows.battery_w, flows.site_w) == (battery, site)
    assert flows.load_w == flows.solar_w + flows.battery_w + flows.site_w


def test_for_index_makes_distinct_gateways() -> None:
    configs = [SiteConfig.for_index(i, seed=3) for i in range(50)]
    for field in ("gateway_id", "gw_pwd", "customer_password", "gateway_serial", "site_name"):
        assert len({getattr(c, field) for c in configs}) == 50, field
    serials = {c.unit_serial(u) for c in configs for u in range(c.unit_count)}
    assert len(serials) == sum(c.unit_count for c in configs)
    assert all(len(c.gw_pwd) == 10 and c.gw_pwd.isalpha() and c.gw_pwd.isupper() for c in configs)
    assert SiteConfig.for_index(7, seed=3) == configs[7]


def test_powerwall3_with_expansion_packs() -> None:
    model = model_at(1.0, powerwalls=1, powerwall_kind="powerwall3", expansion_packs=2)
    state = model.state()
    assert [u.kind for u in state.powerwalls] == ["powerwall3", "expansion", "expansion"]
    assert model.pack().max_power_w == 11500.0
    assert state.nominal_full_pack_energy_wh == pytest.approx(3 * 13500, rel=0.03)
    assert_balanced(state)


def test_reserve_above_the_charge_makes_the_battery_charge_from_the_sun() -> None:
    model = model_at(12.0, initial_soe_raw_percent=40.0)
    model.set_operation(None, 81.0)
    before = model.state()
    assert before.battery.instant_power_w == -before.solar.instant_power_w  # all the sun
    model.advance_sim(HOUR)
    after = model.state()
    assert after.soe_raw_percent > before.soe_raw_percent + 5
    assert_balanced(after)


def test_reserve_above_the_charge_at_night_charges_only_with_grid_charging() -> None:
    model = model_at(1.0, initial_soe_raw_percent=40.0)
    model.set_operation(None, 100.0)
    assert model.state().battery.instant_power_w == 0  # holds, never discharges
    model.set_grid_charging(True)
    state = model.state()
    assert state.battery.instant_power_w == -model.pack().max_power_w
    assert state.site.instant_power_w == state.load.instant_power_w + model.pack().max_power_w
    assert_balanced(state)


def test_lowering_the_reserve_again_lets_the_battery_serve_the_house() -> None:
    model = model_at(1.0, initial_soe_raw_percent=60.0)
    model.set_operation(None, 100.0)
    assert model.state().battery.instant_power_w == 0
    model.set_operation(None, 24.0)
    assert model.state().battery.instant_power_w > 0


def test_manual_backup_holds_like_a_full_reserve_until_it_ends() -> None:
    model = model_at(1.0, initial_soe_raw_percent=60.0, grid_charging=True)
    model.set_manual_backup(600.0)
    assert model.state().battery.instant_power_w < 0
    assert model.state().backup_reserve_raw_percent == 24.0  # the setting is untouched
    model.advance_sim(601.0)
    assert model.state().battery.instant_power_w > 0


def test_off_grid_islands_the_site() -> None:
    model = model_at(12.0)
    model.set_grid_up(False)
    state = model.state()
    assert state.grid_status == "SystemIslandedActive"
    assert state.site.instant_power_w == 0
    assert "SystemConnectedToGrid" not in state.alerts
    assert_balanced(state)
