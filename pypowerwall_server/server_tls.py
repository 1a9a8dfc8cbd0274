"""The HTTPS listener's certificate: the user's (tls_cert/tls_key), or a self-signed one made
once into data_dir/tls and reused on every later start, so browsers and reverse proxies that
pinned it keep trusting it. Its SHA-256 fingerprint is logged so a user can compare it with
what the browser shows. Problems raise ConfigError (exit 2, one line naming the key).
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pypowerwall_server.settings import ConfigError, ServerConfig

log = logging.getLogger(__name__)
CERT_KEYS = "tls_cert (PW_TLS_CERT/--tls-cert)"


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path
    generated: bool


def certificate_files(server: ServerConfig) -> CertificateFiles:
    """The user's files, or the generated pair in data_dir (made now if missing)."""
    if server.tls_cert is not None and server.tls_key is not None:
        return CertificateFiles(Path(server.tls_cert), Path(server.tls_key), generated=False)
    folder = Path(server.data_dir).expanduser() / "tls"
    files = CertificateFiles(folder / "cert.pem", folder / "key.pem", generated=True)
    if not (files.cert.is_file() and files.key.is_file()):
        _generate(files, folder)
    return files


def self_signed_pem(common_name: str) -> tuple[bytes, bytes]:
    """A fresh (certificate PEM, private key PEM) pair valid for ten years, for the names a
    household uses: the machine's name, localhost and 127.0.0.1. EC P-256: made in ms."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [
        x509.DNSName(common_name),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _generate(files: CertificateFiles, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        cert_pem, key_pem = self_signed_pem(socket.gethostname() or "pypowerwall-server")
        # The key is created private, never briefly world-readable.
        descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key_pem)
        files.cert.write_bytes(cert_pem)
    except OSError as exc:
        raise ConfigError(
            [
                f"data_dir (PW_DATA_DIR/--data-dir): cannot write the certificate to '{folder}': "
                f"{exc.strerror}"
            ]
        ) from None
    log.info("https: generated a self-signed certificate in %s", folder)


def server_ssl_context(files: CertificateFiles) -> ssl.SSLContext:
    """A server SSLContext from the files; ConfigError when they are not a matching pair."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(files.cert), str(files.key))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(
            [f"{CERT_KEYS}: cannot use '{files.cert}' with key '{files.key}': {reason}"]
        ) from None
    return context


def fingerprint(cert_path: Path) -> str:
    """SHA-256 fingerprint as browsers show it: AB:CD:..."""
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


@dataclass(frozen=True)
class HttpsSetup:
    files: CertificateFiles
    context: ssl.SSLContext


def https_setup(server: ServerConfig) -> HttpsSetup:
    """Certificate files → SSLContext, logging which certificate serves HTTPS."""
    files = certificate_files(server)
    context = server_ssl_context(files)
    kind = "self-signed" if files.generated else "certificate"
    log.info(
        "https: port %d, %s %s, SHA-256 fingerprint %s",
        server.https_port,
        kind,
        files.cert,
        fingerprint(files.cert),
    )
    return HttpsSetup(files, context)
