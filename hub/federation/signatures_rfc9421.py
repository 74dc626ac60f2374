"""RFC 9421 HTTP Message Signatures with ``Content-Digest`` (RFC 9530), as Fedify sends
first (see ``hub.federation.signatures``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hub.errors import SignatureError
from hub.federation.signature_parts import (
    _RFC9421_METHODS,
    MAX_AGE,
    MAX_FUTURE,
    RFC9421_ALGORITHMS,
    Headers,
    KeySource,
    PrivateKey,
    VerifiedSignature,
    _authority,
    _aware,
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
    content_digest_header,
    http_date,
    load_private_key,
)
from hub.federation.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)

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
