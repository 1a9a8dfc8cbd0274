"""Passwords masked in the library's messages, the library's own words left whole."""

from __future__ import annotations

import pytest

from pypowerwall_server.gateway.adapter import shown_messages

UNABLE = "Unable to connect to Powerwall. Verify host, credentials, and network connectivity."


@pytest.mark.parametrize(
    ("message", "secret", "shown"),
    [
        (UNABLE, "connect", UNABLE),  # the library's sentence, not the password
        ("Invalid Powerwall Login", "Power", "Invalid Powerwall Login"),
        ("login as customer with connect refused", "connect", "login as customer with *** refused"),
        ("connect", "connect", "***"),
        ("https://1.2.3.4/api?pw=S3cr3tPW!", "S3cr3tPW!", "https://1.2.3.4/api?pw=***"),
        ("Unable to connect to Powerwall at x: 401 for Powerwall123", "Powerwall123",
         "Unable to connect to Powerwall at x: 401 for ***"),
    ],
)  # fmt: skip
def test_probe_masks_the_password_inside_words_of_library_messages(message, secret, shown):
    assert shown_messages([message], [secret], 500) == shown
