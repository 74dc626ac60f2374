"""HTTP signatures between servers: digests, signing, parsing and verifying.

Two schemes are spoken:

- draft-cavage-http-signatures-12, as Mastodon sends and expects it: a ``Signature``
  header over ``(request-target) host date digest [content-type]`` with ``rsa-sha256``
  and a ``Digest: SHA-256=…`` header (RFC 3230). ``hs2019`` and the ``(created)`` /
  ``(expires)`` pseudo-headers are accepted on the way in.
- RFC 9421 HTTP Message Signatures (Fedify tries it first): ``Signature-Input`` and
  ``Signature`` structured-field dictionaries, with ``Content-Digest`` (RFC 9530).

Time window (both schemes): a signature dated up to 12 hours in the past or 1 hour in
the future is accepted — Mastodon's own window (EXPIRATION_WINDOW_LIMIT plus its clock
skew margin), so that we never refuse what the most common peer accepts. Replays inside
the window are harmless because inbound activities are stored idempotently by id.

Every refusal raises ``hub.errors.SignatureError`` (HTTP 401) with a short reason.

Pure: no Flask, no database, no network, and no clock (``now`` is an argument); the
``SignedAuth`` adapter only plugs the signer into ``requests`` at send time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from hub.errors import SignatureError
from hub.federation.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
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


# --- draft-cavage-http-signatures-12 ------------------------------------------------------

def parse_signature_header(value: str) -> CavageSignature:
    """Parse ``keyId="…",algorithm="…",headers="…",signature="…"``.

    Tolerant of spaces around ``,`` and ``=``, of unquoted values and of the
    ``Signature `` prefix an ``Authorization`` header carries; strict on what is needed:
    keyId and a base64 signature, each parameter once.
    """
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]
    params = _signature_params(text)
    key_id, signature = params.get("keyid"), params.get("signature")
    if not key_id:
        raise SignatureError("malformed Signature header: no keyId")
    if not signature:
        raise SignatureError("malformed Signature header: no signature")
    headers = params.get("headers")
    return CavageSignature(
        key_id=key_id,
        algorithm=params["algorithm"].lower() if params.get("algorithm") else None,
        # draft-12 §2.1.6: an absent list means "(created)".
        headers=tuple(headers.lower().split()) if headers is not None else ("(created)",),
        signature=_b64decode("".join(signature.split()), "Signature header"),
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def _signature_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t,":
            pos += 1
        if pos >= len(text):
            break
        equals = text.find("=", pos)
        if equals < 0:
            raise SignatureError("malformed Signature header: expected name=value")
        name = text[pos:equals].strip().lower()
        if not name or not name.replace("-", "").isalnum():
            raise SignatureError("malformed Signature header: bad parameter name")
        value, pos = _param_value(text, equals + 1)
        if name in params:
            raise SignatureError(f"malformed Signature header: duplicate {name}")
        params[name] = value
    return params


def _param_value(text: str, pos: int) -> tuple[str, int]:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos < len(text) and text[pos] == '"':
        chars: list[str] = []
        pos += 1
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                chars.append(text[pos + 1])
                pos += 2
            elif char == '"':
                return "".join(chars), pos + 1
            else:
                chars.append(char)
                pos += 1
        raise SignatureError("malformed Signature header: unterminated quoted value")
    end = pos
    while end < len(text) and text[end] not in ", \t":
        end += 1
    return text[pos:end], end


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(float(params[name]))  # draft-12 allows a decimal "expires"
    except ValueError:
        raise SignatureError(f"malformed Signature header: {name} is not a number") from None


def cavage_signing_string(method: str, path_with_query: str, headers: Headers,
                          signed_headers: Sequence[str], *, created: int | None = None,
                          expires: int | None = None) -> str:
    """The string a draft-cavage signature signs (draft-12 §2.3)."""
    fields = headers if isinstance(headers, _Fields) else _Fields(headers)
    lines = []
    for name in signed_headers:
        if name == "(request-target)":
            value = f"{method.lower()} {path_with_query}"
        elif name in ("(created)", "(expires)"):
            number = created if name == "(created)" else expires
            if number is None:
                raise SignatureError(f"malformed Signature header: {name} without a value")
            value = str(number)
        else:
            found = fields.single(name) if name in ("host", "date") else fields.combined(name)
            if found is None:
                raise SignatureError(f"missing signed header {name}")
            value = found
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def sign_cavage(method: str, url: str, headers: Headers, body: bytes | None, key_id: str,
                private_key: str | bytes | PrivateKey, now: datetime) -> dict[str, str]:
    """The headers to add to sign a request as Mastodon does: Host, Date, Digest, Signature.

    Signs ``(request-target) host date``, plus ``digest`` when there is a body and
    ``content-type`` when the request has one (Mastodon signs both on deliveries).
    ``(request-target)`` includes the query string, as the draft says.
    """
    if '"' in key_id or "\\" in key_id:
        raise ValueError("a key id cannot contain quotes or backslashes")
    key = load_private_key(private_key)
    added = {"Host": _authority(url), "Date": http_date(now)}
    if body is not None:
        added["Digest"] = digest_header(body)
    fields = _Fields(_merged(headers, added))
    signed = ["(request-target)", "host", "date"]
    signed += ["digest"] if body is not None else []
    signed += ["content-type"] if fields.has("content-type") else []
    text = cavage_signing_string(method, _path_with_query(url), fields, signed)
    algorithm = "rsa-sha256" if isinstance(key, RSAPrivateKey) else "hs2019"
    signature = base64.b64encode(_sign_with(key, text.encode("utf-8"))).decode("ascii")
    added["Signature"] = (f'keyId="{key_id}",algorithm="{algorithm}",'
                          f'headers="{" ".join(signed)}",signature="{signature}"')
    return added


def verify_cavage(method: str, path_with_query: str, headers: Headers, body: bytes | None,
                  key: KeySource, now: datetime, *, max_age: timedelta = MAX_AGE,
                  max_future: timedelta = MAX_FUTURE,
                  required_headers: Sequence[str] = REQUIRED_CAVAGE_HEADERS,
                  ) -> VerifiedSignature:
    """Verify a draft-cavage signature; ``key`` is a PEM, a key, or ``key_id -> PEM/key``.

    A request with a body must sign ``digest`` (or ``content-digest``) and the digest
    must match; ``date`` may be replaced by a signed ``(created)``.
    """
    now = _aware(now)
    fields = _Fields(headers)
    raw = fields.single("signature") or _authorization_signature(fields)
    if raw is None:
        raise SignatureError("missing Signature header")
    parsed = parse_signature_header(raw)
    if parsed.algorithm is not None and parsed.algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError("unsupported algorithm")
    _check_cavage_coverage(parsed, required_headers, body)
    signed_at = _check_cavage_time(parsed, fields, now, max_age, max_future)
    _check_digests(parsed.headers, fields, body)
    public_key = _resolve(key, parsed.key_id)
    methods = _methods(parsed.algorithm, public_key, _CAVAGE_METHODS)
    for target in _request_targets(path_with_query):
        text = cavage_signing_string(method, target, fields, parsed.headers,
                                     created=parsed.created, expires=parsed.expires)
        if any(_verify_with(m, public_key, parsed.signature, text.encode("utf-8"))
               for m in methods):
            return VerifiedSignature(parsed.key_id, "cavage", parsed.algorithm or "hs2019",
                                     parsed.headers, signed_at)
    raise SignatureError("bad signature")


def _authorization_signature(fields: _Fields) -> str | None:
    value = fields.single("authorization")
    return value if value and value[:10].lower() == "signature " else None


def _check_cavage_coverage(parsed: CavageSignature, required: Sequence[str],
                           body: bytes | None) -> None:
    signed = set(parsed.headers)
    for name in required:
        if name == "date" and "(created)" in signed:
            continue  # hs2019: the signed creation time stands for the Date header
        if name not in signed:
            raise SignatureError(f"header {name} not signed")
    if body and not signed & {"digest", "content-digest"}:
        raise SignatureError("header digest not signed")


def _check_cavage_time(parsed: CavageSignature, fields: _Fields, now: datetime,
                       max_age: timedelta, max_future: timedelta) -> datetime | None:
    signed_at = None
    if "(created)" in parsed.headers:
        if parsed.created is None:
            raise SignatureError("malformed Signature header: (created) without a value")
        signed_at = _from_timestamp(parsed.created)
        _check_window(signed_at, now, max_age, max_future, "created")
    if "date" in parsed.headers:
        signed_at = _check_date_header(fields, now, max_age, max_future)
    if parsed.expires is not None and _from_timestamp(parsed.expires) < now:
        raise SignatureError("signature expired")
    return signed_at


def _check_digests(covered: Iterable[str], fields: _Fields, body: bytes | None) -> None:
    """Check every signed digest header against the body (absent body: empty)."""
    for name, check in (("digest", verify_digest_header),
                        ("content-digest", verify_content_digest_header)):
        if name in covered:
            value = fields.single(name)
            if value is None:
                raise SignatureError(f"missing signed header {name}")
            check(value, body or b"")


def _request_targets(path_with_query: str) -> list[str]:
    # Older Mastodon and Fedify sign the path without its query string; Mastodon itself
    # verifies with the query first and then without, and so do we.
    path, _, query = path_with_query.partition("?")
    return [path_with_query, path] if query else [path_with_query]


# --- RFC 9421 HTTP Message Signatures ---------------------------------------------------

def signature_base(method: str, url: str, headers: Headers, covered: InnerList) -> str:
    """The signature base of RFC 9421 §2.5 for ``covered`` (components and parameters)."""
    fields = headers if isinstance(headers, _Fields) else _Fields(headers)
    lines: list[str] = []
    seen: set[str] = set()
    for component in covered.items:
        if not isinstance(component.value, str):
            raise SignatureError("malformed Signature-Input: component is not a string")
        identifier = serialize_item(component)
        if identifier in seen:
            raise SignatureError("malformed Signature-Input: duplicate component")
        seen.add(identifier)
        lines += [f"{identifier}: {value}"
                  for value in _component_values(method, url, fields, component)]
    lines.append(f'"@signature-params": {serialize_inner_list(covered)}')
    return "\n".join(lines)


def _component_values(method: str, url: str, fields: _Fields, component: Item) -> list[str]:
    name, params = str(component.value), component.params
    if name.startswith("@"):
        return _derived_values(method, url, name, params)
    if name != name.lower():
        raise SignatureError("malformed Signature-Input: field names must be lower case")
    if set(params) - {"bs"}:
        raise SignatureError(f"unsupported component parameter on {name}")
    values = fields.lines.get(name)
    if values is None:
        raise SignatureError(f"missing signed header {name}")
    if params.get("bs"):
        return [", ".join(":" + base64.b64encode(v.encode()).decode() + ":" for v in values)]
    return [", ".join(values)]


def _derived_values(method: str, url: str, name: str, params: Mapping[str, Any]) -> list[str]:
    parts = urlsplit(url)
    if set(params) - ({"name"} if name == "@query-param" else set()):
        raise SignatureError(f"unsupported component parameter on {name}")
    simple = {
        "@method": lambda: method.upper(),
        "@target-uri": lambda: url,
        "@authority": lambda: _authority(url),
        "@scheme": lambda: parts.scheme.lower(),
        "@request-target": lambda: _path_with_query(url),
        "@path": lambda: parts.path or "/",
        "@query": lambda: "?" + parts.query,
    }
    if name in simple:
        return [simple[name]()]
    if name == "@query-param" and isinstance(params.get("name"), str):
        wanted = params["name"]
        values = [value for key, value in parse_qsl(parts.query, keep_blank_values=True)
                  if key == wanted]
        if not values:
            raise SignatureError(f"missing query parameter {wanted}")
        return [quote(value, safe="") for value in values]
    raise SignatureError(f"unsupported component {name}")


def sign_rfc9421(method: str, url: str, headers: Headers, body: bytes | None, key_id: str,
                 private_key: str | bytes | PrivateKey, now: datetime, *,
                 components: Sequence[str] | None = None, label: str = "sig1",
                 ) -> dict[str, str]:
    """The headers to add to sign a request with RFC 9421, as Fedify does.

    Covers ``@method @target-uri @authority host date`` and ``content-digest`` when
    there is a body; parameters ``created``, ``keyid`` and ``alg``.
    """
    key = load_private_key(private_key)
    added = {"Host": _authority(url), "Date": http_date(now)}
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
    if components is None:
        components = ["@method", "@target-uri", "@authority", "host", "date"]
        components += ["content-digest"] if body is not None else []
    alg = "rsa-v1_5-sha256" if isinstance(key, RSAPrivateKey) else "ed25519"
    covered = InnerList(tuple(Item(c) for c in components),
                        {"created": int(_aware(now).timestamp()), "keyid": key_id, "alg": alg})
    base = signature_base(method, url, _merged(headers, added), covered)
    signature = _sign_with(key, base.encode("utf-8"))
    added["Signature-Input"] = serialize_dictionary({label: covered})
    added["Signature"] = serialize_dictionary({label: Item(signature)})
    return added


def verify_rfc9421(method: str, url: str, headers: Headers, body: bytes | None,
                   key: KeySource, now: datetime, *, max_age: timedelta = MAX_AGE,
                   max_future: timedelta = MAX_FUTURE,
                   required: Callable[[Sequence[str], bytes | None], None] | None = None,
                   ) -> VerifiedSignature:
    """Verify RFC 9421 signatures: accepted when one of the labelled signatures verifies.

    ``url`` is the target URI the sender used (scheme, authority, path and query).
    ``required`` checks the covered component names; by default the method, the target
    and, with a body, ``content-digest`` must be covered (``require_request_coverage``).
    """
    now = _aware(now)
    fields = _Fields(headers)
    inputs = _sf_dictionary(fields, "signature-input", "Signature-Input")
    signatures = _sf_dictionary(fields, "signature", "Signature")
    failures: list[str] = []
    for label, member in inputs.items():
        try:
            return _verify_labelled(method, url, fields, body, key, now, member,
                                    signatures.get(label), max_age, max_future,
                                    required or require_request_coverage)
        except SignatureError as exc:
            failures.append(f"{label}: {exc.message}" if len(inputs) > 1 else exc.message)
    raise SignatureError("; ".join(failures))


def _sf_dictionary(fields: _Fields, name: str, title: str) -> dict:
    value = fields.combined(name)
    if not value:
        raise SignatureError(f"missing {title} header")
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as exc:
        raise SignatureError(f"malformed {title} header: {exc}") from None
    if not members:
        raise SignatureError(f"missing {title} header")
    return members


def require_request_coverage(covered: Sequence[str], body: bytes | None) -> None:
    """Our policy for inbound requests: method, target URI and body digest are signed."""
    names = set(covered)
    if "@method" not in names:
        raise SignatureError("component @method not signed")
    if "@target-uri" not in names:
        if not names & {"@authority", "host"}:
            raise SignatureError("component @authority not signed")
        if not names & {"@path", "@request-target"}:
            raise SignatureError("component @path not signed")
    if body and not names & {"content-digest", "digest"}:
        raise SignatureError("component content-digest not signed")


def _verify_labelled(method: str, url: str, fields: _Fields, body: bytes | None,
                     key: KeySource, now: datetime, member: Any, signature: Any,
                     max_age: timedelta, max_future: timedelta,
                     required: Callable[[Sequence[str], bytes | None], None],
                     ) -> VerifiedSignature:
    if not isinstance(member, InnerList):
        raise SignatureError("malformed Signature-Input: not an inner list")
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise SignatureError("missing signature for this label")
    params = member.params
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("malformed Signature-Input: no keyid")
    if alg is not None and alg not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported algorithm")
    names = tuple(str(item.value) for item in member.items)
    required(names, body)
    signed_at = _check_rfc9421_time(params, names, fields, now, max_age, max_future)
    _check_digests(names, fields, body)
    public_key = _resolve(key, key_id)
    methods = _methods(alg, public_key, _RFC9421_METHODS)
    base = signature_base(method, url, fields, member).encode("utf-8")
    for candidate in methods:
        if _verify_with(candidate, public_key, signature.value, base):
            return VerifiedSignature(key_id, "rfc9421", alg or candidate, names, signed_at)
    raise SignatureError("bad signature")


def _check_rfc9421_time(params: Mapping[str, Any], names: Sequence[str], fields: _Fields,
                        now: datetime, max_age: timedelta, max_future: timedelta,
                        ) -> datetime:
    created, expires = params.get("created"), params.get("expires")
    for value, label in ((created, "created"), (expires, "expires")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise SignatureError(f"malformed Signature-Input: {label} is not an integer")
    if expires is not None and _from_timestamp(expires) < now:
        raise SignatureError("signature expired")
    if created is not None:
        signed_at = _from_timestamp(created)
        _check_window(signed_at, now, max_age, max_future, "created")
        if "date" in names:
            _check_date_header(fields, now, max_age, max_future)
        return signed_at
    if "date" in names:
        return _check_date_header(fields, now, max_age, max_future)
    raise SignatureError("missing created")


# --- Dispatch and requests adapter ------------------------------------------------------

def verify_request(method: str, url: str, headers: Headers, body: bytes | None,
                   resolve_key: KeySource, now: datetime, *, max_age: timedelta = MAX_AGE,
                   max_future: timedelta = MAX_FUTURE) -> VerifiedSignature:
    """Verify an inbound request signed with either scheme.

    RFC 9421 when a ``Signature-Input`` header is present (RFC 9421 Appendix A), the
    draft otherwise. ``resolve_key`` returns the PEM or key for a key id, or None when it
    is unknown; whatever it raises (a failed fetch) is passed through unchanged. The
    caller must then check that ``key_id``'s owner is the activity's actor.
    """
    if _Fields(headers).has("signature-input"):
        return verify_rfc9421(method, url, headers, body, resolve_key, now,
                              max_age=max_age, max_future=max_future)
    return verify_cavage(method, _path_with_query(url), headers, body, resolve_key, now,
                         max_age=max_age, max_future=max_future)


class SignedAuth(requests.auth.AuthBase):
    """Signs a request when ``requests`` prepares it, so each retry gets a fresh Date.

    ``now`` is a fixed datetime or a clock (tests); by default the current UTC time.
    Use as ``fetch(session, "POST", inbox, data=body, auth=SignedAuth(key_id, key))``.
    """

    def __init__(self, key_id: str, private_key: str | bytes | PrivateKey,
                 scheme: Literal["cavage", "rfc9421"] = "cavage",
                 now: datetime | Callable[[], datetime] | None = None) -> None:
        if scheme not in ("cavage", "rfc9421"):
            raise ValueError(f"unknown signature scheme {scheme!r}")
        self.key_id = key_id
        self.private_key = load_private_key(private_key)
        self.scheme = scheme
        self.now = now

    def _now(self) -> datetime:
        if self.now is None:
            return datetime.now(UTC)
        return self.now() if callable(self.now) else self.now

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, bytes):
            raise TypeError("a streamed body cannot be signed")
        sign = sign_cavage if self.scheme == "cavage" else sign_rfc9421
        request.headers.update(sign(request.method or "GET", request.url or "", request.headers,
                                    body, self.key_id, self.private_key, self._now()))
        return request
