"""v1r authentication as a Powerwall 3 gateway does it on the wired LAN: every request to
`/tedapi/v1r` is a RoutableMessage carrying its own RSA signature, made with a key the
owner registered with this gateway beforehand.

What the client signs (pypowerwall's TEDAPIv1r): a TLV list (signature type RSA, domain
ENERGY_DEVICE, personalization = the gateway DIN, expiry as a big-endian uint32), an end
byte 0xFF, then the inner message bytes; RSA PKCS#1 v1.5 over SHA-512. The signer's public
key (DER, PKCS#1) travels in the message, so the gateway recognises the key by its bytes.

A rejection is answered as the gateway answers it: HTTP 200 with a RoutableMessage whose
`signed_message_status.message_fault` names the fault (pypowerwall logs
UNKNOWN_KEY_ID as "key not recognised" and returns None); a registered but not yet verified
key gets the plain-text "authorization not verified" payload.
"""

from __future__ import annotations

import enum
import hashlib
import struct
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from google.protobuf.message import DecodeError
from pypowerwall.tedapi.protobuf.V2024_06 import tedapi_combined_pb2 as combined_pb2

SIGNATURE_TYPE_RSA = 7
DOMAIN_ENERGY_DEVICE = 7
TLV_END = b"\xff"
MAX_TTL_S = 60  # a signature valid for longer than this is refused (pypowerwall uses 12 s)
RSA_KEY_BITS = 4096


class Fault(enum.IntEnum):
    """The MessageFault_E values this gateway answers with."""

    NONE = combined_pb2.MESSAGEFAULT_ERROR_NONE
    UNKNOWN_KEY_ID = combined_pb2.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID
    INVALID_SIGNATURE = combined_pb2.MESSAGEFAULT_ERROR_INVALID_SIGNATURE
    INVALID_DOMAINS = combined_pb2.MESSAGEFAULT_ERROR_INVALID_DOMAINS
    DECODING = combined_pb2.MESSAGEFAULT_ERROR_DECODING
    TIME_EXPIRED = combined_pb2.MESSAGEFAULT_ERROR_TIME_EXPIRED
    TIME_TO_LIVE_TOO_LONG = combined_pb2.MESSAGEFAULT_ERROR_TIME_TO_LIVE_TOO_LONG


class KeyState(enum.Enum):
    VERIFIED = "verified"  # paired: signed requests are served
    PENDING = "pending"  # registered, waiting for the on/off-switch toggle


class BadKey(ValueError):
    """The text given is not an RSA-4096 public key in PEM."""


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    fingerprint: str  # SHA-256 of the DER (PKCS#1) public key, as pypowerwall prints it
    state: KeyState

    def to_json(self) -> dict[str, str]:
        return {"fingerprint": self.fingerprint, "state": self.state.value}


def public_key_der(pem: bytes | str) -> bytes:
    """DER (PKCS#1) of an RSA-4096 public key given as PEM (public key, or a private key
    whose public half is meant). Raises BadKey."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            key: object = private.public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not a PEM key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != RSA_KEY_BITS:
        raise BadKey("v1r keys are RSA-4096")
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


class KeyRing:
    """The public keys registered with one gateway. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[bytes, KeyState] = {}

    def register(self, pem: bytes | str, state: KeyState = KeyState.VERIFIED) -> RegisteredKey:
        der = public_key_der(pem)
        with self._lock:
            self._keys[der] = state
        return RegisteredKey(fingerprint(der), state)

    def remove(self, key_fingerprint: str) -> bool:
        with self._lock:
            for der in list(self._keys):
                if fingerprint(der) == key_fingerprint:
                    del self._keys[der]
                    return True
        return False

    def registered(self) -> list[RegisteredKey]:
        with self._lock:
            return [RegisteredKey(fingerprint(d), s) for d, s in self._keys.items()]

    def state(self, der: bytes) -> KeyState | None:
        with self._lock:
            return self._keys.get(der)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the signature check decided: the inner bytes to serve, or a fault."""

    fault: Fault
    inner: bytes = b""
    request_uuid: bytes = b""
    pending: bool = False  # a known key not yet verified: answer "not verified"


def tlv_payload(din: str, expires_at: int, inner: bytes) -> bytes:
    """The bytes a v1r signature covers."""

    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    return b"".join(
        [
            tlv(0, bytes([SIGNATURE_TYPE_RSA])),
            tlv(1, bytes([DOMAIN_ENERGY_DEVICE])),
            tlv(2, din.encode()),
            tlv(4, struct.pack(">I", expires_at)),
            TLV_END,
            inner,
        ]
    )


def verify(body: bytes, din: str, keys: KeyRing, now: float) -> Verdict:
    """Check one /tedapi/v1r request body against this gateway's DIN and keys."""
    message = combined_pb2.RoutableMessage()
    try:
        message.ParseFromString(body)
    except DecodeError:
        return Verdict(Fault.DECODING)
    request_uuid = bytes(message.uuid)
    if message.to_destination.domain != combined_pb2.DOMAIN_ENERGY_DEVICE:
        return Verdict(Fault.INVALID_DOMAINS, request_uuid=request_uuid)
    signature = message.signature_data
    der = bytes(signature.signer_identity.public_key)
    state = keys.state(der) if der else None
    if state is None:  # unsigned, or signed with a key this gateway never paired
        return Verdict(Fault.UNKNOWN_KEY_ID, request_uuid=request_uuid)
    expires_at = signature.rsa_data.expires_at
    if expires_at < now:
        return Verdict(Fault.TIME_EXPIRED, request_uuid=request_uuid)
    if expires_at > now + MAX_TTL_S:
        return Verdict(Fault.TIME_TO_LIVE_TOO_LONG, request_uuid=request_uuid)
    inner = bytes(message.protobuf_message_as_bytes)
    public = serialization.load_der_public_key(der)  # PKCS#1 DER, as registered
    assert isinstance(public, rsa.RSAPublicKey)  # only RSA keys get registered
    try:
        public.verify(
            bytes(signature.rsa_data.signature),
            tlv_payload(din, expires_at, inner),
            padding.PKCS1v15(),
            hashes.SHA512(),
        )
    except InvalidSignature:
        return Verdict(Fault.INVALID_SIGNATURE, request_uuid=request_uuid)
    return Verdict(Fault.NONE, inner, request_uuid, pending=state is KeyState.PENDING)


def fault_response(verdict: Verdict) -> bytes:
    """The RoutableMessage a gateway answers a refused request with."""
    response = combined_pb2.RoutableMessage()
    response.from_destination.domain = combined_pb2.DOMAIN_ENERGY_DEVICE
    response.signed_message_status.message_fault = int(verdict.fault)
    response.request_uuid = verdict.request_uuid
    return bytes(response.SerializeToString())


NOT_VERIFIED_TEXT = b"v1r: client authorization not verified"


def not_verified_response(verdict: Verdict) -> bytes:
    """A pending key: no fault code, a plain-text refusal where the payload would be."""
    response = combined_pb2.RoutableMessage()
    response.from_destination.domain = combined_pb2.DOMAIN_ENERGY_DEVICE
    response.protobuf_message_as_bytes = NOT_VERIFIED_TEXT
    response.request_uuid = verdict.request_uuid
    return bytes(response.SerializeToString())


def wrap_response(verdict: Verdict, inner: bytes) -> bytes:
    response = combined_pb2.RoutableMessage()
    response.from_destination.domain = combined_pb2.DOMAIN_ENERGY_DEVICE
    response.protobuf_message_as_bytes = inner
    response.request_uuid = verdict.request_uuid
    return bytes(response.SerializeToString())
