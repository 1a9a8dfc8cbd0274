"""The verify rule: an explicit session.verify=False wins over REQUESTS_CA_BUNDLE, and only
for such sessions (regression: TEDAPI failed after ~60 s with the variable set)."""

from __future__ import annotations

import requests

from pypowerwall_server.gateway.tls import honor_session_verify


def test_session_verify_false_survives_ca_bundle(monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    honor_session_verify()
    session = requests.Session()
    session.verify = False
    settings = session.merge_environment_settings("https://127.0.0.1/", {}, None, None, None)
    assert settings["verify"] is False


def test_other_sessions_still_use_the_bundle(monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    honor_session_verify()
    settings = requests.Session().merge_environment_settings(
        "https://example.invalid/", {}, None, None, None
    )
    assert settings["verify"] == "/etc/ssl/certs/ca-certificates.crt"
