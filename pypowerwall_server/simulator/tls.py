"""TLS for the simulated gateways: a self-signed certificate made once per process (SAN
127.0.0.1 and localhost, like a gateway's own self-signed one), or a certificate and key
given by path.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_pem(common_name: str = "teg.simulator.local") -> tuple[bytes, bytes]:
    """A fresh (certificate PEM, private key PEM) pair valid for ten years. EC P-256 keeps
    generation in the milliseconds."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.DNSName(common_name),
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(
    cert_path: str | Path | None = None, key_path: str | Path | None = None
) -> ssl.SSLContext:
    """A server-side SSLContext from the given files, or from a new self-signed pair."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if cert_path is not None and key_path is not None:
        context.load_cert_chain(str(cert_path), str(key_path))
        return context
    if (cert_path is None) != (key_path is None):
        raise ValueError("give both a certificate and a key, or neither")
    cert_pem, key_pem = self_signed_pem()
    # load_cert_chain only reads files; keep them just long enough to load.
    with tempfile.TemporaryDirectory(prefix="pwsim-tls-") as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        context.load_cert_chain(str(cert_file), str(key_file))
    return context
