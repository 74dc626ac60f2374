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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import requests

# The schemes live in their own modules; this one is the entry point every caller uses.
from hub.federation.signature_parts import (  # noqa: F401 - re-exported
    CAVAGE_ALGORITHMS,
    MAX_AGE,
    MAX_FUTURE,
    REQUIRED_CAVAGE_HEADERS,
    RFC9421_ALGORITHMS,
    CavageSignature,
    Headers,
    KeyResolver,
    KeySource,
    PrivateKey,
    PublicKey,
    VerifiedSignature,
    _Fields,
    _path_with_query,
    content_digest_header,
    digest_header,
    http_date,
    load_private_key,
    load_public_key,
    verify_content_digest_header,
    verify_digest_header,
)
from hub.federation.signatures_cavage import (  # noqa: F401 - re-exported
    cavage_signing_string,
    parse_signature_header,
    sign_cavage,
    verify_cavage,
)
from hub.federation.signatures_rfc9421 import (  # noqa: F401 - re-exported
    require_request_coverage,
    sign_rfc9421,
    signature_base,
    verify_rfc9421,
)

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
