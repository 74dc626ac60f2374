"""What both HTTP signature schemes share: header fields, dates, digests, keys and
algorithms, and the time window. Pure, as ``hub.federation.signatures`` says."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from hub.errors import SignatureError
from hub.federation.structured_fields import (
    Item,
    StructuredFieldError,
    parse_dictionary,
)

PublicKey = RSAPublicKey | Ed25519PublicKey
PrivateKey = RSAPrivateKey | Ed25519PrivateKey
KeyResolver = Callable[[str], "str | bytes | PublicKey | None"]
KeySource = str | bytes | PublicKey | KeyResolver
Headers = Mapping[str, str] | Iterable[tuple[str, str]]

#: Mastodon's window: 12 hours back, 1 hour ahead (see the module docstring).
MAX_AGE = timedelta(hours=12)
MAX_FUTURE = timedelta(hours=1)

#: What an inbound cavage signature must cover; digest is added when a body is sent.
REQUIRED_CAVAGE_HEADERS = ("(request-target)", "host", "date")
CAVAGE_ALGORITHMS = ("rsa-sha256", "rsa-sha512", "hs2019", "ed25519")
RFC9421_ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")


@dataclass(frozen=True)
class CavageSignature:
    """The parameters of a draft-cavage ``Signature`` header."""

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified; the caller checks ``key_id`` belongs to the actor."""

    key_id: str
    scheme: Literal["cavage", "rfc9421"]
    algorithm: str
    covered: tuple[str, ...]
    signed_at: datetime | None = None


# --- Header fields ----------------------------------------------------------------------

class _Fields:
    """Header lines by lower-cased name, in order; names are case-insensitive."""

    def __init__(self, headers: Headers) -> None:
        pairs = headers.items() if hasattr(headers, "items") else headers
        self.lines: dict[str, list[str]] = {}
        for name, value in pairs:
            self.lines.setdefault(name.lower(), []).append(str(value).strip(" \t"))

    def has(self, name: str) -> bool:
        return name in self.lines

    def combined(self, name: str) -> str | None:
        """All lines of one field joined by ", " (RFC 9110 §5.3, RFC 9421 §2.1)."""
        values = self.lines.get(name)
        return None if values is None else ", ".join(values)

    def single(self, name: str) -> str | None:
        """A field that must have one value: two different values are refused."""
        values = self.lines.get(name)
        if not values:
            return None
        if len(set(values)) > 1:
            raise SignatureError(f"duplicate {name} header")
        return values[0]


def _merged(headers: Headers, added: Mapping[str, str]) -> list[tuple[str, str]]:
    replaced = {name.lower() for name in added}
    pairs = headers.items() if hasattr(headers, "items") else headers
    return [(n, v) for n, v in pairs if n.lower() not in replaced] + list(added.items())


def http_date(now: datetime) -> str:
    """``now`` as an IMF-fixdate (RFC 9110 §5.6.7), the form of the ``Date`` header."""
    return format_datetime(_aware(now).astimezone(UTC), usegmt=True)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now


def _authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _path_with_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


# --- Digests ----------------------------------------------------------------------------

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def digest_header(body: bytes) -> str:
    """The value of a ``Digest`` header (RFC 3230) as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The value of a ``Content-Digest`` header (RFC 9530)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def verify_digest_header(value: str, body: bytes) -> None:
    """Check a ``Digest`` header (``SHA-256=<base64>``, several allowed) against ``body``."""
    claims: list[tuple[str, bytes]] = []
    for part in value.split(","):
        algorithm, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed Digest header")
        if algorithm.lower() in _DIGESTS:
            claims.append((algorithm.lower(), _b64decode(encoded.strip(), "Digest header")))
    _compare_digests(claims, body)


def verify_content_digest_header(value: str, body: bytes) -> None:
    """Check a ``Content-Digest`` header (``sha-256=:<base64>:``) against ``body``."""
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as exc:
        raise SignatureError(f"malformed Content-Digest header: {exc}") from None
    claims: list[tuple[str, bytes]] = []
    for algorithm, member in members.items():
        if algorithm in _DIGESTS:
            if not isinstance(member, Item) or not isinstance(member.value, bytes):
                raise SignatureError("malformed Content-Digest header")
            claims.append((algorithm, member.value))
    _compare_digests(claims, body)


def _compare_digests(claims: list[tuple[str, bytes]], body: bytes) -> None:
    if not claims:
        raise SignatureError("unsupported digest algorithm")
    for algorithm, expected in claims:
        if not hmac.compare_digest(_DIGESTS[algorithm](body).digest(), expected):
            raise SignatureError("digest mismatch")


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"malformed {what}: not base64") from None


# --- Keys and algorithms ----------------------------------------------------------------

def load_public_key(key: str | bytes | PublicKey) -> PublicKey:
    """A public key object from a PEM (SPKI or PKCS#1 RSA) or an already loaded key."""
    if isinstance(key, RSAPublicKey | Ed25519PublicKey):
        return key
    if not isinstance(key, str | bytes):
        raise TypeError(f"not a public key: {type(key).__name__}")
    data = key.encode("ascii") if isinstance(key, str) else key
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SignatureError("unreadable public key") from None
    if not isinstance(loaded, RSAPublicKey | Ed25519PublicKey):
        raise SignatureError("unsupported key type")
    return loaded


def load_private_key(key: str | bytes | PrivateKey) -> PrivateKey:
    if isinstance(key, RSAPrivateKey | Ed25519PrivateKey):
        return key
    data = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_private_key(data, password=None)
    if not isinstance(loaded, RSAPrivateKey | Ed25519PrivateKey):
        raise ValueError("only RSA and Ed25519 private keys can sign")
    return loaded


def _resolve(key: KeySource, key_id: str) -> PublicKey:
    if callable(key):
        found = key(key_id)
        if found is None:
            raise SignatureError(f"unknown key {key_id[:200]}")
        return load_public_key(found)
    return load_public_key(key)


# A "method" is one concrete primitive; a wire algorithm name maps to one or more.
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_PSS_SHA512_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA512()),
                                   salt_length=padding.PSS.AUTO)


_RSA_SCHEMES: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
    "rsa-v1_5-sha256": (padding.PKCS1v15(), hashes.SHA256()),
    "rsa-v1_5-sha512": (padding.PKCS1v15(), hashes.SHA512()),
    "rsa-pss-sha512": (_PSS_SHA512, hashes.SHA512()),
    "rsa-pss-sha512-any-salt": (_PSS_SHA512_ANY_SALT, hashes.SHA512()),
}


def _verify_with(method: str, key: PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, Ed25519PublicKey):
            if method != "ed25519":
                return False
            key.verify(signature, data)
        else:
            scheme = _RSA_SCHEMES.get(method)
            if scheme is None:
                return False
            key.verify(signature, data, *scheme)
    except InvalidSignature:
        return False
    return True


def _sign_with(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _methods(algorithm: str | None, key: PublicKey, table: Mapping[str | None, tuple]) -> list[str]:
    """The primitives ``algorithm`` allows with ``key``; refuses a key of the wrong type."""
    rsa_methods, ed_methods = table[algorithm]
    methods = rsa_methods if isinstance(key, RSAPublicKey) else ed_methods
    if not methods:
        raise SignatureError("algorithm does not match key")
    return list(methods)


# hs2019 (or no algorithm) lets the key decide; with RSA, fediverse peers mean
# rsa-sha256, and the draft means RSASSA-PSS with SHA-512: accept both.
_CAVAGE_METHODS: dict[str | None, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rsa-sha256": (("rsa-v1_5-sha256",), ()),
    "rsa-sha512": (("rsa-v1_5-sha512",), ()),
    "ed25519": ((), ("ed25519",)),
    "hs2019": (("rsa-v1_5-sha256", "rsa-pss-sha512-any-salt"), ("ed25519",)),
    None: (("rsa-v1_5-sha256", "rsa-pss-sha512-any-salt"), ("ed25519",)),
}
# Without "alg", RFC 9421 §3.2 lets the key decide; both RSA schemes are safe with it.
_RFC9421_METHODS: dict[str | None, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rsa-v1_5-sha256": (("rsa-v1_5-sha256",), ()),
    "rsa-pss-sha512": (("rsa-pss-sha512",), ()),
    "ed25519": ((), ("ed25519",)),
    None: (("rsa-v1_5-sha256", "rsa-pss-sha512"), ("ed25519",)),
}


def _check_window(moment: datetime, now: datetime, max_age: timedelta,
                  max_future: timedelta, what: str) -> None:
    if moment < now - max_age:
        raise SignatureError(f"{what} outside window (too old)")
    if moment > now + max_future:
        raise SignatureError(f"{what} outside window (in the future)")


def _from_timestamp(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureError("timestamp out of range") from None


def _check_date_header(fields: _Fields, now: datetime, max_age: timedelta,
                       max_future: timedelta) -> datetime:
    value = fields.single("date")
    if value is None:
        raise SignatureError("missing Date")
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError("invalid Date") from None
    sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    _check_window(sent, now, max_age, max_future, "date")
    return sent


def _check_digests(covered: Iterable[str], fields: _Fields, body: bytes | None) -> None:
    """Check every signed digest header against the body (absent body: empty)."""
    for name, check in (("digest", verify_digest_header),
                        ("content-digest", verify_content_digest_header)):
        if name in covered:
            value = fields.single(name)
            if value is None:
                raise SignatureError(f"missing signed header {name}")
            check(value, body or b"")

