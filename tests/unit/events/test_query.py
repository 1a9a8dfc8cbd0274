"""What GET /api/events and /ws/events accept: since an id or an ISO time, a gateway,
kinds (repeated or comma-separated); anything else is a 400 with the reason."""

from __future__ import annotations

import pytest

from pypowerwall_server.events.query import BadEventQuery, parse_query

IDS = ("home", "cabin")


def test_since_an_id_or_a_time() -> None:
    assert parse_query("12", None, (), IDS).after_id == 12
    query = parse_query("2026-06-21T19:30:00Z", None, (), IDS)
    assert query.after_time == 1782070200.0
    assert parse_query("2026-06-21T19:30:00", None, (), IDS).after_time == 1782070200.0


def test_kinds_repeated_or_comma_separated() -> None:
    query = parse_query(None, "home", ["grid_outage,alert_raised", "soe_low"], IDS)
    assert query.kinds == {"grid_outage", "alert_raised", "soe_low"} and query.gateway == "home"


@pytest.mark.parametrize(
    ("since", "gateway", "kinds", "limit", "reason"),
    [
        ("yesterday", None, (), 10, "since must be an event id or an ISO time"),
        (None, "garage", (), 10, "unknown gateway id 'garage'"),
        (None, None, ("grid_down",), 10, "unknown kind 'grid_down'"),
        (None, None, ("",), 10, "kind must not be empty"),  # ?kind= was answered 200
        (None, None, (), 0, "limit must be from 1 to 500"),
    ],
)
def test_bad_queries_say_why(
    since: str | None, gateway: str | None, kinds: tuple[str, ...], limit: int, reason: str
) -> None:
    with pytest.raises(BadEventQuery, match=reason) as raised:
        parse_query(since, gateway, kinds, IDS, limit)
    assert raised.value.status_code == 400
