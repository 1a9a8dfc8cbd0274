"""The simulator's slow_apply fault: a settings write is accepted at once and applied
`delay_s` real seconds later (a gateway that has not applied a write yet)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pypowerwall_server.simulator.app_faults import AppSettings
from pypowerwall_server.simulator.config import SiteConfig
from pypowerwall_server.simulator.faults import Fault, FaultError, fault_from_json
from pypowerwall_server.simulator.gateway import SimulatedGateway
from tests.waiting import wait_until


def test_a_write_shows_only_after_the_delay_and_writes_after_the_fault_apply_at_once() -> None:
    gateway = SimulatedGateway(replace(SiteConfig.for_index(0), sim_start=1782070200.0))
    before = gateway.state()
    settings = AppSettings(gateway)
    fault = Fault(kind="slow_apply", delay_s=0.3)
    previous = settings.current(fault)
    settings.apply(fault)
    gateway.set_operation("backup", 80.0)
    gateway.set_export_rule("never")
    state = gateway.state()
    assert (state.operating_mode, state.export_rule) == (before.operating_mode, before.export_rule)
    assert state.backup_reserve_raw_percent == before.backup_reserve_raw_percent
    wait_until(lambda: gateway.state().operating_mode == "backup", timeout=5)
    state = gateway.state()
    assert (state.backup_reserve_raw_percent, state.export_rule) == (80.0, "never")

    settings.restore(fault, previous)
    gateway.set_export_rule("pv_only")
    assert gateway.state().export_rule == "pv_only"  # at once again


def test_slow_apply_needs_a_positive_delay() -> None:
    with pytest.raises(FaultError, match="delay_s"):
        fault_from_json({"kind": "slow_apply"})
    assert fault_from_json({"kind": "slow_apply", "delay_s": 2}).delay_s == 2
    assert Fault(kind="slow_apply", delay_s=2).to_json()["delay_s"] == 2
