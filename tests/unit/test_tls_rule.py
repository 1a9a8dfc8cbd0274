"""The verify rule: an explicit session.verify=False wins over REQUESTS_CA_BUNDLE, and only
for such sessions (regression: TEDAPI failed after ~60 s with the variable set)."""

from __future__ import annotations

import ssl

import requests
import requests.adapters

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


def test_unverified_connections_share_a_context_without_a_ca_store() -> None:
    honor_session_verify()
    request = requests.Request("GET", "https://127.0.0.1:8443/").prepare()
    first = requests.adapters.HTTPAdapter().build_connection_pool_key_attributes(request, False)
    second = requests.adapters.HTTPAdapter().build_connection_pool_key_attributes(request, False)
    context = first[1]["ssl_context"]
    assert context is second[1]["ssl_context"]
    assert context.verify_mode == ssl.CERT_NONE and context.check_hostname is False
    assert context.cert_store_stats()["x509_ca"] == 0  # no CA store loaded
    verified = requests.adapters.HTTPAdapter().build_connection_pool_key_attributes(request, True)
    assert verified[1].get("ssl_context") is not context
