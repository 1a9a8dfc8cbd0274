"""Client-side v1r pieces for tests: RSA-4096 keys and signed RoutableMessages, built the
way pypowerwall's TEDAPIv1r builds them (and, for one key, by pypowerwall itself)."""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2

from pypowerwall_server.simulator.v1r_auth import tlv_payload


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA-4096 key per name for the whole test run (generation takes a moment)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=4096)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_private_key(key: rsa.RSAPrivateKey, path: Path) -> Path:
    """The PEM file pypowerwall's `rsa_key_path` points at."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


def signed_message(
    inner: bytes,
    din: str,
    key: rsa.RSAPrivateKey | None,
    *,
    expires_at: int | None = None,
    signed_din: str | None = None,
    signed_inner: bytes | None = None,
) -> bytes:
    """A RoutableMessage carrying `inner`; `signed_din`/`signed_inner` sign something else
    than what is sent (a forgery); key None sends it unsigned."""
    message = combined_pb2.RoutableMessage()
    message.to_destination.domain = combined_pb2.DOMAIN_ENERGY_DEVICE
    message.protobuf_message_as_bytes = inner
    message.uuid = b"test-uuid"
    if key is None:
        return bytes(message.SerializeToString())
    expires = expires_at if expires_at is not None else math.ceil(time.time()) + 12
    payload = tlv_payload(signed_din or din, expires, signed_inner or inner)
    signature = key.sign(payload, padding.PKCS1v15(), hashes.SHA512())
    message.signature_data.signer_identity.public_key = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    message.signature_data.rsa_data.expires_at = expires
    message.signature_data.rsa_data.signature = signature
    return bytes(message.SerializeToString())
