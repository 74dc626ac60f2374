"""draft-cavage-http-signatures-12, as Mastodon sends and expects it (see
``hub.federation.signatures``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hub.errors import SignatureError
from hub.federation.signature_parts import (
    _CAVAGE_METHODS,
    CAVAGE_ALGORITHMS,
    MAX_AGE,
    MAX_FUTURE,
    REQUIRED_CAVAGE_HEADERS,
    CavageSignature,
    Headers,
    KeySource,
    PrivateKey,
    VerifiedSignature,
    _authority,
    _aware,
    _b64decode,
    _check_date_header,
    _check_digests,
    _check_window,
    _Fields,
    _from_timestamp,
    _merged,
    _methods,
    _path_with_query,
    _resolve,
    _sign_with,
    _verify_with,
    digest_header,
    http_date,
    load_private_key,
)

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
        end = text.find('"', pos + 1)
        if end > 0 and "\\" not in text[pos + 1:end]:  # no escapes: the usual case
            return text[pos + 1:end], end + 1
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




def _request_targets(path_with_query: str) -> list[str]:
    # Older Mastodon and Fedify sign the path without its query string; Mastodon itself
    # verifies with the query first and then without, and so do we.
    path, _, query = path_with_query.partition("?")
    return [path_with_query, path] if query else [path_with_query]
