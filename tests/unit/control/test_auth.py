"""Control token: where it may come from, constant-time check, per-client lockout with an
injectable clock, bounded memory."""

from __future__ import annotations

import pytest

from pypowerwall_server.control.auth import (
    Authorized,
    LockedOut,
    Presented,
    TokenGuard,
    TokenInQuery,
    Unauthorized,
    presented_token,
)

SECRET = "s3cret"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock, **options: int | float) -> TokenGuard:
    return TokenGuard(SECRET, clock=clock, max_failures=3, lockout_seconds=60.0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("authorization", "form", "query", "expected"),
    [
        ("Bearer s3cret", {}, {}, Presented("s3cret")),
        ("bearer   s3cret  ", {}, {}, Presented("s3cret")),
        (None, {"token": "s3cret"}, {}, Presented("s3cret")),
        ("Bearer a", {"token": "b"}, {}, Presented("a")),  # the header wins
        ("Basic czNjcmV0", {"token": "b"}, {}, Presented("b")),  # not a bearer header
        ("Bearer", {}, {}, Presented(None)),
        ("Bearer ", {}, {}, Presented(None)),
        (None, {}, {}, Presented(None)),
        (None, {"token": ""}, {}, Presented(None)),
        (None, {"token": 42}, {}, Presented(None)),  # JSON token that is not a string
        (None, {}, {"x": "1"}, Presented(None)),
        ("Bearer s3cret", {}, {"token": "s3cret"}, TokenInQuery()),
        (None, {"token": "s3cret"}, {"Token": "x"}, TokenInQuery()),
        (None, {}, {"access_token": ""}, TokenInQuery()),
    ],
)
def test_where_a_token_may_come_from(
    authorization: str | None,
    form: dict[str, object],
    query: dict[str, object],
    expected: object,
) -> None:
    assert presented_token(authorization, form, query) == expected


def test_query_refusal_says_what_to_do() -> None:
    assert "Authorization: Bearer" in TokenInQuery().message


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("s3cret", Authorized()),
        ("s3cre", Unauthorized(2)),
        ("s3cret ", Unauthorized(2)),
        ("S3CRET", Unauthorized(2)),
        ("", Unauthorized(2)),
        (None, Unauthorized(2)),
        ("sécret✓", Unauthorized(2)),  # non-ASCII compares without raising
    ],
)
def test_token_check(token: str | None, expected: object) -> None:
    assert guard(Clock()).check("10.0.0.1", Presented(token)) == expected


def test_non_ascii_secret_is_accepted() -> None:
    assert TokenGuard("päss✓").check("a", Presented("päss✓")) == Authorized()


def test_over_budget_wrong_tokens_get_retry_after_counting_down() -> None:
    clock = Clock()
    g = guard(clock)
    results = [g.check("10.0.0.1", Presented("bad")) for _ in range(3)]
    assert results == [Unauthorized(2), Unauthorized(1), Unauthorized(0)]
    assert g.check("10.0.0.1", Presented("bad")) == LockedOut(60)
    clock.now += 59.5
    assert g.check("10.0.0.1", Presented("bad")) == LockedOut(1)
    clock.now += 0.5
    assert g.check("10.0.0.1", Presented("bad")) == Unauthorized(2)


def test_lockout_turned_against_the_owner_the_right_token_always_succeeds() -> None:
    """Someone at the owner's address (a NAT, a proxy) spends its budget: the owner's right
    token still succeeds, and its success does not reset the guesser's budget."""
    g = guard(Clock())
    for _ in range(50):
        g.check("10.0.0.1", Presented("guess"))
    assert g.check("10.0.0.1", Presented(SECRET)) == Authorized()
    assert isinstance(g.check("10.0.0.1", Presented("guess")), LockedOut)


def test_lockout_does_not_affect_other_clients_wrong_tokens() -> None:
    g = guard(Clock())
    for _ in range(4):
        g.check("10.0.0.1", Presented("bad"))
    assert isinstance(g.check("10.0.0.1", Presented("bad")), LockedOut)
    assert g.check("10.0.0.2", Presented(SECRET)) == Authorized()
    assert g.check("10.0.0.3", Presented("bad")) == Unauthorized(2)


def test_guessing_from_many_addresses_is_bounded_by_the_total_budget() -> None:
    """One wrong token from each of many addresses (forwarded or real): after the total
    budget every wrong token is 429, the right one still succeeds."""
    clock = Clock()
    g = guard(clock, max_total_failures=20)
    results = [g.check(f"10.2.0.{n}", Presented("guess")) for n in range(200)]
    assert results[:20] == [Unauthorized(2)] * 20
    assert all(isinstance(result, LockedOut) for result in results[20:])
    assert g.check("10.9.9.9", Presented(SECRET)) == Authorized()
    clock.now += 60.0
    assert g.check("10.9.9.9", Presented("bad")) == Unauthorized(2)


def test_locked_out_message_names_the_wait() -> None:
    assert LockedOut(42).message.endswith("retry after 42 seconds")


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    g = guard(clock)
    g.check("a", Presented("bad"))
    g.check("a", Presented("bad"))
    clock.now += 60.0
    assert g.check("a", Presented("bad")) == Unauthorized(2)


def test_memory_is_bounded_by_max_clients() -> None:
    g = guard(Clock(), max_clients=5, max_total_failures=1000)
    for n in range(50):
        g.check(f"10.0.1.{n}", Presented("bad"))
    assert g.tracked_clients() == 5
    # the most recent clients are the ones remembered
    assert g.check("10.0.1.49", Presented("bad")) == Unauthorized(1)
    assert g.check("10.0.1.0", Presented("bad")) == Unauthorized(2)


def test_successful_clients_are_not_tracked() -> None:
    g = guard(Clock())
    for n in range(20):
        g.check(f"10.0.2.{n}", Presented(SECRET))
    assert g.tracked_clients() == 0


@pytest.mark.parametrize(
    ("secret", "options"),
    [
        ("", {}),
        ("x", {"max_failures": 0}),
        ("x", {"max_clients": 0}),
        ("x", {"max_total_failures": 0}),
        ("x", {"lockout_seconds": 0.0}),
    ],
)
def test_bad_guard_settings_are_refused(secret: str, options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TokenGuard(secret, **options)  # type: ignore[arg-type]
