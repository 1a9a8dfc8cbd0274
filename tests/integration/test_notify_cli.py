"""--notify-test: one test message per URL through Apprise, reported per URL by number and
scheme; exit 1 when one fails (here: a port nothing listens on)."""

from __future__ import annotations

import pytest

from pypowerwall_server.cli import main
from tests.integration.conftest import closed_port
from tests.integration.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration


def test_notify_test_reports_per_url(capsys: pytest.CaptureFixture[str]) -> None:
    with WebhookReceiver() as receiver, pytest.MonkeyPatch.context() as patch:
        dead = f"json://127.0.0.1:{closed_port()}/s3cret-dead"
        patch.setenv("PW_NOTIFY_URLS", f"{receiver.url('/s3cret-live')} {dead}")
        code = main(["--demo", "--notify-test"])
        deliveries = list(receiver.deliveries)
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines() == ["#1 (json): sent", "#2 (json): FAILED"]
    assert "s3cret" not in out
    (delivery,) = deliveries
    assert delivery.path == "/s3cret-live"
    assert delivery.body["message"].startswith("Test message from pypowerwall-server")
