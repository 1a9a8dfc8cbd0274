"""TLS for the simulated gateways: a certificate made once per process (SAN 127.0.0.1 and
localhost), or a certificate and key given by path.

The made certificate is signed by a throwaway CA of its own, so a client that does verify
(pypowerwall's FleetAPI client, pointed at the simulated Fleet API) can trust the simulator
by adding that CA to its bundle (REQUESTS_CA_BUNDLE / SSL_CERT_FILE); clients that do not
verify (pypowerwall's local and TEDAPI modes, like with a real gateway) are unaffected.
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
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ca_signed_pem(common_name: str = "teg.simulator.local") -> tuple[bytes, bytes, bytes]:
    """(CA certificate PEM, server certificate PEM, server key PEM): a fresh CA and a server
    certificate it signed (SAN localhost and 127.0.0.1), both valid for ten years."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "pypowerwall-server simulator CA")]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.DNSName(common_name),
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(san, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return ca.public_bytes(pem), cert.public_bytes(pem), _key_pem(key)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def server_context(
    cert_path: str | Path | None = None, key_path: str | Path | None = None
) -> ssl.SSLContext:
    """A server-side SSLContext from the given files, or from a new CA-signed pair."""
    return server_context_and_ca(cert_path, key_path)[0]


def server_context_and_ca(
    cert_path: str | Path | None = None, key_path: str | Path | None = None
) -> tuple[ssl.SSLContext, bytes | None]:
    """The SSLContext and the PEM of the CA that signed its certificate (None when the
    certificate came from files: whoever made it knows its CA)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if cert_path is not None and key_path is not None:
        context.load_cert_chain(str(cert_path), str(key_path))
        return context, None
    if (cert_path is None) != (key_path is None):
        raise ValueError("give both a certificate and a key, or neither")
    ca_pem, cert_pem, key_pem = ca_signed_pem()
    # load_cert_chain only reads files; keep them just long enough to load.
    with tempfile.TemporaryDirectory(prefix="pwsim-tls-") as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        context.load_cert_chain(str(cert_file), str(key_file))
    return context, ca_pem
