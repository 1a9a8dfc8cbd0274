"""X-Forwarded-For is believed only from PW_TRUSTED_PROXIES (default none), on a real
uvicorn with the options run_server gives it: otherwise any local process picks the address
that the lockout counts and the audit records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from pydantic import SecretStr

from . import served

pytestmark = pytest.mark.integration  # starts a server

SECRET = "forwarded-test-secret-0123"


@contextmanager
def serving(trusted: tuple[str, ...]) -> Iterator[httpx.Client]:
    with served.serving(control_secret=SecretStr(SECRET), trusted_proxies=trusted) as client:
        yield client


def _guesses(client: httpx.Client, count: int) -> Counter[int]:
    codes: Counter[int] = Counter()
    for n in range(count):
        answer = client.post(
            "/control/reserve",
            json={"value": 99},
            headers={"X-Forwarded-For": f"10.2.0.{n}", "Authorization": "Bearer guess"},
        )
        codes[answer.status_code] += 1
    return codes


def _audit_clients(client: httpx.Client) -> set[str]:
    answer = client.get(
        "/api/control/audit?limit=200", headers={"Authorization": f"Bearer {SECRET}"}
    )
    return {entry["client"] for entry in answer.json()["entries"]}


def test_x_forwarded_for_trusted_from_any_loopback_peer() -> None:
    """The issue's reproduction: 200 wrong tokens, each from a forwarded address of its own,
    were 200 x 401. Untrusted, the header is ignored: one client, locked after 10."""
    with serving(()) as client:
        assert _guesses(client, 200) == Counter({401: 10, 429: 190})
        assert _audit_clients(client) == {"127.0.0.1"}


def test_a_trusted_proxys_forwarded_addresses_count_apart_and_in_total() -> None:
    with serving(("127.0.0.1",)) as client:
        codes = _guesses(client, 200)
        assert codes == Counter({401: 100, 429: 100})  # the total budget bounds guessing
        assert "10.2.0.199" in _audit_clients(client)
        owner = client.post(
            "/control/reserve",
            json={"value": 20},
            headers={"X-Forwarded-For": "10.2.0.7", "Authorization": f"Bearer {SECRET}"},
        )
        assert owner.status_code == 409  # the right token still reaches the (read-only) write
