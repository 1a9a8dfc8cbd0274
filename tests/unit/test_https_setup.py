"""The HTTPS listener's settings and certificate: wrong paths and bad pairs exit 2 with one
line naming the key (the real CLI, as a subprocess); the self-signed certificate is made
once and reused; both listeners answer hot GETs inside uvicorn's protocol."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import SecretStr

from pypowerwall_server.app import create_app
from pypowerwall_server.listeners import _config
from pypowerwall_server.server_tls import (
    CertificateFiles,
    certificate_files,
    fingerprint,
    self_signed_pem,
    server_ssl_context,
)
from pypowerwall_server.settings import (
    ConfigError,
    GatewayConfig,
    ServerConfig,
    Settings,
    load_settings,
)
from pypowerwall_server.settings.advice import environment_warnings
from pypowerwall_server.settings.report import describe

from .test_cli_config_errors import GW_SECRET, assert_config_error, run_cli

GATEWAY = {"PW_GW_PWD": GW_SECRET}


def pem_pair(folder: Path, name: str) -> tuple[str, str]:
    cert, key = self_signed_pem(name)
    (folder / f"{name}.crt").write_bytes(cert)
    (folder / f"{name}.key").write_bytes(key)
    return str(folder / f"{name}.crt"), str(folder / f"{name}.key")


def test_wrong_certificate_path_exits_2_naming_the_key(tmp_path: Path) -> None:
    _, key = pem_pair(tmp_path, "a")
    missing = str(tmp_path / "nope.pem")
    run = run_cli(["--https", "--tls-cert", missing, "--tls-key", key], GATEWAY, tmp_path)
    assert_config_error(
        run,
        "error: --tls-cert (command line): must be a readable PEM certificate file, got '/",
    )


def test_wrong_key_path_in_the_environment_exits_2(tmp_path: Path) -> None:
    cert, _ = pem_pair(tmp_path, "a")
    env = {**GATEWAY, "PW_HTTPS": "yes", "PW_TLS_CERT": cert, "PW_TLS_KEY": str(tmp_path)}
    run = run_cli([], env, tmp_path)
    assert_config_error(
        run,
        "error: PW_TLS_KEY (environment): must be a readable PEM private key file, got ",
    )


def test_a_key_that_does_not_match_the_certificate_exits_2(tmp_path: Path) -> None:
    cert, _ = pem_pair(tmp_path, "a")
    _, other_key = pem_pair(tmp_path, "b")
    env = {**GATEWAY, "PW_HTTPS": "yes", "PW_TLS_CERT": cert, "PW_TLS_KEY": other_key}
    run = run_cli([], env, tmp_path)
    assert_config_error(run, f"error: tls_cert (PW_TLS_CERT/--tls-cert): cannot use '{cert}'")


def test_certificate_without_key_and_https_on_the_http_port_are_errors(tmp_path: Path) -> None:
    cert, _ = pem_pair(tmp_path, "a")
    env = {**GATEWAY, "PW_HTTPS": "yes", "PW_TLS_CERT": cert, "PW_HTTPS_PORT": "8675"}
    run = run_cli([], env, tmp_path)
    assert_config_error(
        run,
        "error: PW_TLS_CERT (environment): needs PW_TLS_KEY/--tls-key too",
        "error: PW_HTTPS_PORT (environment): must differ from server.port (default) (8675)",
    )


def test_self_signed_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    server = ServerConfig(https=True, data_dir=str(tmp_path / "data"))
    first = certificate_files(server)
    cert_bytes, key_bytes = first.cert.read_bytes(), first.key.read_bytes()
    assert first.generated and first.cert.parent == tmp_path / "data" / "tls"
    assert stat.S_IMODE(os.stat(first.key).st_mode) == 0o600
    again = certificate_files(server)
    assert again == first
    assert (again.cert.read_bytes(), again.key.read_bytes()) == (cert_bytes, key_bytes)
    server_ssl_context(again)  # a matching pair
    certificate = x509.load_pem_x509_certificate(cert_bytes)
    expected = certificate.fingerprint(hashes.SHA256()).hex().upper()
    assert fingerprint(first.cert).replace(":", "") == expected
    assert len(fingerprint(first.cert).split(":")) == 32


def test_given_certificate_is_used_as_is(tmp_path: Path) -> None:
    cert, key = pem_pair(tmp_path, "mine")
    files = certificate_files(ServerConfig(https=True, tls_cert=cert, tls_key=key))
    assert files == CertificateFiles(Path(cert), Path(key), generated=False)


def test_unwritable_data_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        certificate_files(ServerConfig(https=True, data_dir=str(blocker / "data")))
    (problem,) = caught.value.problems
    assert problem.startswith("data_dir (PW_DATA_DIR/--data-dir): cannot write the certificate")


def test_https_settings_from_file_and_report(tmp_path: Path) -> None:
    config = tmp_path / "server.yaml"
    config.write_text(
        "server: {https: yes, https_port: 9443, data_dir: /srv/pps}\n"
        "gateways: [{id: home, host: 192.168.91.1, gw_pwd: SECRET1234}]\n"
    )
    settings = load_settings(["--config", str(config)], {})
    assert (settings.server.https, settings.server.https_port) == (True, 9443)
    text = describe(settings)
    assert "https: yes" in text
    assert "https_port: 9443" in text
    assert "tls_cert: (self-signed, generated once into the data folder)" in text
    assert "data_dir: /srv/pps" in text
    assert environment_warnings({"PW_HTTPS": "yes", "PW_TLS_CERT": "/c"}) == []


def test_both_listeners_answer_hot_gets_inside_the_protocol() -> None:
    gateway = GatewayConfig(id="home", name="home", gw_pwd=SecretStr("SECRET1234"))
    settings = Settings(server=ServerConfig(https=True), gateways=(gateway,))
    app = create_app(settings)
    plain = _config(app, settings, 8675, lifespan="on")
    secure = _config(app, settings, 8775, lifespan="off")
    for config in (plain, secure):
        assert isinstance(config.http, type) and config.http.__name__ == "HotHttpProtocol"
