"""PW_RATE_LIMIT on a real uvicorn with the hot protocol: hot GETs are limited too, 429
with Retry-After and a JSON message, /health never."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .served import serving

pytestmark = pytest.mark.integration  # starts a server


def test_hot_gets_beyond_the_burst_are_answered_429_with_retry_after() -> None:
    with serving(rate_limit=1.0) as client:
        codes = [client.get("/aggregates").status_code for _ in range(20)]
        assert codes == [200] * 20  # the burst: 20 at least
        refused = client.get("/aggregates")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json() == {"detail": "too many requests from this address"}
        assert client.get("/api/gateways").status_code == 429
        assert client.post("/control/reserve", json={"value": 1}).status_code == 429
        assert client.get("/health").status_code == 200  # health checks never limited
        url = f"ws://127.0.0.1:{client.base_url.port}/ws/aggregate"
        with pytest.raises(InvalidStatus):
            connect(url, open_timeout=10)


def test_without_a_rate_limit_nothing_is_refused() -> None:
    with serving() as client:
        assert all(client.get("/aggregates").status_code == 200 for _ in range(60))
