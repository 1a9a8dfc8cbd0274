"""Small, hand-built SiteState values for protocol renderer tests (no physical model)."""

from __future__ import annotations

from dataclasses import replace

from pypowerwall_server.simulator.state import (
    MeterState,
    PowerwallKind,
    PowerwallState,
    SiteState,
    SolarInverterState,
    SolarStringState,
)

GATEWAY_DIN = "1232100-00-E--TG123456789ABC"
PART_NUMBERS: dict[PowerwallKind, str] = {
    "powerwall2": "3012170-05-B",
    "powerwall_plus": "2012170-25-E",
    "powerwall3": "1707000-11-J",
    "expansion": "1807000-20-B",
}


def meter(power_w: float, voltage_v: float = 240.0) -> MeterState:
    current = abs(power_w) / voltage_v if voltage_v else 0.0
    return MeterState(
        instant_power_w=power_w,
        instant_reactive_power_var=-50.0,
        instant_apparent_power_va=abs(power_w) + 50.0,
        frequency_hz=60.0 if voltage_v else 0.0,
        energy_exported_wh=1000.0,
        energy_imported_wh=2000.0,
        instant_average_voltage_v=voltage_v,
        instant_average_current_a=current,
        instant_total_current_a=current,
    )


def unit(
    kind: PowerwallKind, index: int, remaining_wh: float, p_out_w: float = 0.0
) -> PowerwallState:
    return PowerwallState(
        kind=kind,
        part_number=PART_NUMBERS[kind],
        serial=f"TG1234567890{index:02d}",
        nominal_full_pack_energy_wh=13500.0,
        nominal_energy_remaining_wh=remaining_wh,
        p_out_w=p_out_w,
        q_out_var=20.0,
        v_out_v=241.2,
        f_out_hz=60.01,
        i_out_a=p_out_w / 241.2,
        vsplit1_v=120.7,
        vsplit2_v=120.5,
        energy_charged_wh=500000.0 + index,
        energy_discharged_wh=400000.0 + index,
        temperature_c=24.5 + index,
        fan_actual_rpm=1200 + index,
        fan_target_rpm=1200,
        pinv_state="PINV_GridFollowing",
        charge_complete=False,
        discharge_complete=False,
        active_heating=False,
        available_charge_power_w=5000.0,
        available_discharge_power_w=5000.0,
        firmware_version="24.44.1 c58c2df3",
    )


def solar_strings(inverter_index: int, total_w: float) -> tuple[SolarStringState, ...]:
    """Strings A-D; B is disconnected; powers are V x I of the rounded readings."""
    shares = {"A": 0.4, "B": 0.0, "C": 0.3, "D": 0.3}
    result = []
    for letter, share in shares.items():
        voltage = 350.0 if share else -1.0
        current = round(total_w * share / voltage, 2) if share else 0.0
        result.append(
            SolarStringState(
                inverter_index=inverter_index,
                letter=letter,
                connected=bool(share),
                voltage_v=voltage,
                current_a=current,
                power_w=voltage * current if share else 0.0,
            )
        )
    return tuple(result)


def make_site(
    kind: PowerwallKind = "powerwall2",
    powerwalls: int = 2,
    expansion_packs: int = 0,
    *,
    solar_w: float = 3500.0,
    battery_w: float = -1000.0,
    site_w: float = 500.0,
    grid_up: bool = True,
    missing: frozenset[str] = frozenset(),
    firmware: str = "24.44.1 c58c2df3",
) -> SiteState:
    """A consistent site: load = solar + battery + site, energies sum over units."""
    units = [unit(kind, i, 6000.0 + 500.0 * i, battery_w / powerwalls) for i in range(powerwalls)]
    units += [unit("expansion", powerwalls + i, 7000.0) for i in range(expansion_packs)]
    strings = solar_strings(0, solar_w)
    solar_actual = sum(s.power_w for s in strings)
    inverter_part = PART_NUMBERS["powerwall3"] if kind == "powerwall3" else "1538100-00-F"
    inverter_serial = units[0].serial if kind == "powerwall3" else "C123456789JKL"
    inverter = SolarInverterState(inverter_part, inverter_serial, solar_actual, 241.0, 60.0)
    load_w = solar_actual + battery_w + site_w
    return SiteState(
        sim_time=1_760_000_000.0,
        gateway_din=GATEWAY_DIN,
        gateway_part_number="1232100-00-E",
        gateway_serial="TG123456789ABC",
        site_name="Test Site",
        timezone="America/Los_Angeles",
        firmware_version=firmware,
        git_hash="c58c2df3a1b2c3d4e5f60718293a4b5c6d7e8f90",
        uptime_seconds=360000.0,
        start_time=1_760_000_000.0 - 360000.0,
        site=meter(site_w, 240.0 if grid_up else 0.0),
        battery=meter(battery_w),
        load=meter(load_w),
        solar=meter(solar_actual),
        powerwalls=tuple(units),
        solar_inverters=(inverter,),
        strings=strings,
        grid_up=grid_up,
        grid_status="SystemGridConnected" if grid_up else "SystemIslandedActive",
        operating_mode="self_consumption",
        backup_reserve_raw_percent=24.0,
        grid_charging=False,
        export_rule="pv_only",
        soe_raw_percent=100.0
        * sum(u.nominal_energy_remaining_wh for u in units)
        / sum(u.nominal_full_pack_energy_wh for u in units),
        nominal_full_pack_energy_wh=sum(u.nominal_full_pack_energy_wh for u in units),
        nominal_energy_remaining_wh=sum(u.nominal_energy_remaining_wh for u in units),
        alerts=("FWUpdateSucceeded", "SystemConnectedToGrid")
        if grid_up
        else ("FWUpdateSucceeded",),
        missing_powerwall_serials=missing,
    )


def without_unit(site: SiteState, index: int) -> SiteState:
    return replace(site, missing_powerwall_serials=frozenset({site.powerwalls[index].serial}))
