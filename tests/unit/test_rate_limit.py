"""The per-client token bucket of PW_RATE_LIMIT, on a clock the test controls."""

from __future__ import annotations

from pypowerwall_server.http.rate_limit import MIN_BURST, ClientRateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    limit = ClientRateLimit(5.0, clock=clock)
    assert limit.burst == MIN_BURST
    assert all(limit.take("a") is None for _ in range(20))
    assert limit.take("a") == 1  # 429 Retry-After: 1
    clock.now += 0.2  # one request's worth at 5/s
    assert limit.take("a") is None
    assert limit.take("a") == 1


def test_clients_are_limited_apart() -> None:
    limit = ClientRateLimit(1.0, clock=Clock())
    for _ in range(20):
        limit.take("a")
    assert limit.take("a") is not None
    assert limit.take("b") is None


def test_a_slow_rate_says_how_long_to_wait() -> None:
    limit = ClientRateLimit(0.1, clock=Clock())
    for _ in range(20):
        limit.take("a")
    assert limit.take("a") == 10


def test_a_fast_rate_bursts_two_seconds_worth() -> None:
    limit = ClientRateLimit(100.0, clock=Clock())
    assert sum(limit.take("a") is None for _ in range(300)) == 200


def test_memory_is_bounded_by_max_clients() -> None:
    limit = ClientRateLimit(1.0, max_clients=3, clock=Clock())
    for n in range(10):
        limit.take(f"10.0.0.{n}")
    assert limit.tracked_clients() == 3
