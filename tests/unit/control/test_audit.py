"""Audit trail: one entry per attempt, bounded ring, one log line each, no secret, hostile
strings escaped and capped."""

from __future__ import annotations

import logging

import pytest

from pypowerwall_server.control.audit import MAX_FIELD_CHARS, AuditTrail

SECRET = "s3cret-token"


def trail(capacity: int = 3) -> AuditTrail:
    return AuditTrail(capacity, secrets=(SECRET, ""), clock=lambda: 1_767_225_600.0)


def record(t: AuditTrail, **changes: object) -> None:
    fields: dict[str, object] = {
        "client": "10.0.0.7",
        "gateway_id": "home",
        "what": "reserve",
        "old": 20,
        "new": 80,
        "result": "applied",
    }
    fields.update(changes)
    t.record(**fields)  # type: ignore[arg-type]


def test_entry_shape_for_the_read_route() -> None:
    t = trail()
    record(t)
    assert [e.as_dict() for e in t.recent()] == [
        {
            "time": "2026-01-01T00:00:00+00:00",
            "client": "10.0.0.7",
            "gateway": "home",
            "what": "reserve",
            "old": "20",
            "new": "80",
            "result": "applied",
        }
    ]


def test_ring_keeps_the_last_n_newest_first() -> None:
    t = trail(capacity=3)
    for n in range(5):
        record(t, new=n)
    assert [e.new for e in t.recent()] == ["4", "3", "2"]
    assert [e.new for e in t.recent(limit=2)] == ["4", "3"]
    assert t.recent(limit=0) == []
    assert t.recent(limit=-5) == []


def test_each_attempt_is_logged_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    t = trail()
    with caplog.at_level(logging.INFO, logger="pypowerwall_server.control.audit"):
        record(t, old=None, new=True, result="failed: gateway timed out")
    assert [r.getMessage() for r in caplog.records] == [
        "control write: client=10.0.0.7 gateway=home what=reserve old=- new=true "
        'result="failed: gateway timed out"'
    ]


@pytest.mark.parametrize(
    ("value", "logged"),
    [
        ("20", "new=20"),
        (20.5, "new=20.5"),
        (False, "new=false"),
        ("battery_ok", "new=battery_ok"),
        ("-", 'new="-"'),  # not mistaken for "no value"
        ("", 'new=""'),
        ("a b", 'new="a b"'),
        ("x\nresult=applied", 'new="x\\nresult=applied"'),  # no forged line or field
        ('x" result="applied', 'new="x\\" result=\\"applied"'),
        ("\x1b[31mred", 'new="\\u001b[31mred"'),
        ("é", 'new="\\u00e9"'),
    ],
)
def test_hostile_values_are_escaped_in_the_log_line(value: object, logged: str) -> None:
    t = trail()
    record(t, new=value)
    line = t.recent()[0].log_line()
    assert f" {logged} result=applied" in line
    assert "\n" not in line


def test_long_values_are_capped() -> None:
    t = trail()
    record(t, new="x" * 10_000, client="c" * 500)
    entry = t.recent()[0]
    assert entry.new is not None and len(entry.new) == MAX_FIELD_CHARS
    assert entry.new.endswith("...")
    assert len(entry.client) == MAX_FIELD_CHARS


def test_a_secret_sent_as_a_value_never_reaches_the_trail_or_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = trail()
    with caplog.at_level(logging.INFO, logger="pypowerwall_server.control.audit"):
        record(t, new=SECRET, old=f"prefix-{SECRET}", result=f"refused: {SECRET}")
    entry = t.recent()[0]
    assert SECRET not in str(entry.as_dict())
    assert SECRET not in entry.log_line()
    assert SECRET not in caplog.text
    assert entry.new == "***"
    assert entry.old == "prefix-***"


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AuditTrail(0)


def test_refusals_have_their_own_ring_and_a_summarised_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    t = AuditTrail(3, refusal_capacity=2, summary_seconds=10.0, clock=lambda: now[0])
    record(t, new=1)
    with caplog.at_level(logging.INFO, logger="pypowerwall_server.control.audit"):
        for second in range(1, 13):  # a line at 1, the next at 11 with a count
            now[0] = float(second)
            t.refused(client="10.0.0.9", gateway_id="home", what="reserve", result="refused: x")
    assert [e.new for e in t.writes()] == ["1"]
    assert [e.at for e in t.recent()] == [12.0, 11.0, 0.0]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[1].endswith('result="refused: x" (9 more like this in the last 10 s)')
