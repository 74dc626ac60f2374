"""HTTP signatures: frozen vectors, RFC 9421 examples, round trips and mutations.

Pure: no app, no database, no network. Keys and vectors live in tests/data/ap/signatures/:
``actor-key.pem`` is our frozen actor key; ``test-key-rsa.pem``, ``test-key-rsa-pss.pub.pem``
and ``test-key-ed25519.pem`` are the example keys of RFC 9421 Appendix B.1, whose
examples (Appendix B.2 and §4.3) are reproduced below; ``vectors.json`` holds the exact
headers our signers produce for fixed requests at a fixed ``now``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from hub.errors import HubError, SignatureError
from hub.federation.client import fetch
from hub.federation.signatures import (
    SignedAuth,
    cavage_signing_string,
    content_digest_header,
    digest_header,
    parse_signature_header,
    sign_cavage,
    sign_rfc9421,
    signature_base,
    verify_cavage,
    verify_content_digest_header,
    verify_digest_header,
    verify_request,
    verify_rfc9421,
)
from hub.federation.structured_fields import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_dictionary,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "ap" / "signatures"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ACTOR_KEY_ID = "http://localhost/@coredem#main-key"
OTHER_KEY_ID = "https://evil.example/users/mallory#main-key"
INBOX = "https://mastodon.example/inbox"
BODY = json.dumps({
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "http://localhost/@coredem#follows/1", "type": "Follow",
    "actor": "http://localhost/@coredem", "object": "https://mastodon.example/users/alice",
}, separators=(",", ":")).encode()


def _private(name: str):
    return serialization.load_pem_private_key((DATA / name).read_bytes(), password=None)


def _public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


ACTOR_KEY = _private("actor-key.pem")
RFC_RSA_KEY = _private("test-key-rsa.pem")
RFC_ED25519_KEY = _private("test-key-ed25519.pem")
RFC_PSS_PUBLIC = (DATA / "test-key-rsa-pss.pub.pem").read_text()
KEYS = {ACTOR_KEY_ID: _public_pem(ACTOR_KEY), OTHER_KEY_ID: _public_pem(RFC_RSA_KEY)}


def resolve(key_id: str) -> str | None:
    return KEYS.get(key_id)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- Digests ----------------------------------------------------------------------------

def test_digest_header_is_sha256_in_base64():
    assert digest_header(b"") == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert content_digest_header(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


def test_digest_verifiers_accept_their_own_headers_and_sha512():
    verify_digest_header(digest_header(BODY), BODY)
    verify_digest_header("sha-256=" + b64(hashlib.sha256(BODY).digest()), BODY)
    verify_content_digest_header(content_digest_header(BODY), BODY)
    # RFC 9421 Appendix B.2: the test-request body with a SHA-512 Content-Digest.
    verify_content_digest_header(
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVL"
        "vRwEmTHWXvJwew==:", b'{"hello": "world"}')


@pytest.mark.parametrize("check, value, reason", [
    (verify_digest_header, "SHA-256=" + b64(hashlib.sha256(b"other").digest()), "digest mismatch"),
    (verify_digest_header, "MD5=" + b64(hashlib.md5(BODY).digest()), "unsupported digest"),
    (verify_digest_header, "SHA-256=not base64!", "malformed Digest"),
    (verify_digest_header, "SHA-256", "malformed Digest"),
    (verify_content_digest_header, content_digest_header(b"other"), "digest mismatch"),
    (verify_content_digest_header, "md5=:" + b64(hashlib.md5(BODY).digest()) + ":",
     "unsupported digest"),
    (verify_content_digest_header, "sha-256=" + b64(hashlib.sha256(BODY).digest()),
     "malformed Content-Digest"),
    (verify_content_digest_header, 'sha-256="text"', "malformed Content-Digest"),
])
def test_digest_verifiers_refuse_mismatch_unknown_and_malformed(check, value, reason):
    with pytest.raises(SignatureError, match=reason):
        check(value, BODY)


def test_signature_error_is_a_hub_error_answered_401():
    assert issubclass(SignatureError, HubError)
    assert SignatureError.status == 401


# --- Structured fields (RFC 8941 subset) ------------------------------------------------

def test_parse_dictionary_of_inner_lists_items_and_parameters():
    parsed = parse_dictionary(
        'sig1=("@method" "@query-param";name="Pet");created=1618884473;keyid="k", '
        'sig2=:AQID:, flag, tok=abc/def;q=0.5, no=?0')
    assert parsed["sig1"] == InnerList(
        (Item("@method"), Item("@query-param", {"name": "Pet"})),
        {"created": 1618884473, "keyid": "k"})
    assert parsed["sig2"] == Item(b"\x01\x02\x03")
    assert parsed["flag"] == Item(True)
    assert parsed["tok"].value == Token("abc/def") and isinstance(parsed["tok"].value, Token)
    assert parsed["no"] == Item(False)


def test_structured_dictionary_serialises_canonically():
    text = 'a=("x" "y");n=1;s="q\\"uote", b=:AQID:, c, d=tok;p'
    assert serialize_dictionary(parse_dictionary(text)) == text
    assert serialize_dictionary(parse_dictionary('a=(  "x"   "y" );n=1 ,b=?1')) == \
        'a=("x" "y");n=1, b'


@pytest.mark.parametrize("text", [
    'a=("x" "y"', "a=1,", "A=1", 'a="\\x"', "a=:abc$:", "a=1234567890123456", "a=(1)x",
    'a="é"', "a=1.2345", "=1", "a=?2",
])
def test_parse_dictionary_refuses_invalid_values(text):
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


# --- draft-cavage: frozen vectors and a Mastodon-shaped request -------------------------

VECTORS = json.loads((DATA / "vectors.json").read_text())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_frozen_vector_signs_exactly_and_verifies(case):
    body = None if case["body"] is None else case["body"].encode()
    now = datetime.fromisoformat(VECTORS["now"])
    sign = sign_cavage if case["scheme"] == "cavage" else sign_rfc9421
    added = sign(case["method"], case["url"], case["headers"], body, case["key_id"],
                 ACTOR_KEY, now)
    assert added == case["expected"]
    verified = verify_request(case["method"], case["url"], {**case["headers"], **added}, body,
                              {case["key_id"]: KEYS[ACTOR_KEY_ID]}.get, now)
    assert (verified.key_id, verified.scheme) == (case["key_id"], case["scheme"])


def test_frozen_cavage_vector_signs_the_mastodon_signing_string():
    """Checked without our verifier: the string Mastodon builds, and a plain RSA check."""
    case = VECTORS["cases"][0]
    signature = parse_signature_header(case["expected"]["Signature"])
    expected_string = "\n".join([
        "(request-target): post /inbox",
        "host: mastodon.example",
        "date: Fri, 01 Mar 2024 12:00:00 GMT",
        "digest: SHA-256=" + b64(hashlib.sha256(case["body"].encode()).digest()),
        "content-type: application/activity+json",
    ])
    ACTOR_KEY.public_key().verify(signature.signature, expected_string.encode(),
                                  padding.PKCS1v15(), hashes.SHA256())


def mastodon_delivery(path: str = "/inbox", headers_list: str | None = None,
                      key=ACTOR_KEY, key_id: str = ACTOR_KEY_ID) -> dict[str, str]:
    """A delivery shaped as Mastodon's Request class sends it, signed by hand."""
    headers = {
        "User-Agent": "http.rb/5.1.1 (Mastodon/4.2.8; +https://mastodon.example/)",
        "Host": "hub.example",
        "Date": "Fri, 01 Mar 2024 11:59:58 GMT",
        "Accept-Encoding": "gzip",
        "Digest": "SHA-256=" + b64(hashlib.sha256(BODY).digest()),
        "Content-Type": "application/activity+json",
    }
    names = (headers_list or "(request-target) host date digest content-type").split()
    lines = [f"(request-target): post {path}" if n == "(request-target)"
             else f"{n}: {headers[n.title()]}" for n in names]
    signature = b64(key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256()))
    headers["Signature"] = (f'keyId="{key_id}",algorithm="rsa-sha256",'
                            f'headers="{" ".join(names)}",signature="{signature}"')
    return headers


def test_verifies_mastodon_shaped_delivery():
    verified = verify_request("POST", "https://hub.example/inbox", mastodon_delivery(), BODY,
                              resolve, NOW)
    assert verified.key_id == ACTOR_KEY_ID
    assert verified.scheme == "cavage"
    assert verified.algorithm == "rsa-sha256"
    assert verified.covered == ("(request-target)", "host", "date", "digest", "content-type")
    assert verified.signed_at == datetime(2024, 3, 1, 11, 59, 58, tzinfo=UTC)


def test_accepts_request_target_signed_without_query_string():
    """Older Mastodon and Fedify sign the path alone; Mastodon verifies both ways."""
    headers = mastodon_delivery(path="/inbox")
    verify_request("POST", "https://hub.example/inbox?x=1", headers, BODY, resolve, NOW)


def test_request_target_with_query_string_is_signed_and_checked():
    added = sign_cavage("GET", "https://hub.example/@org/outbox?page=2", {}, None,
                        ACTOR_KEY_ID, ACTOR_KEY, NOW)
    verify_request("GET", "https://hub.example/@org/outbox?page=2", added, None, resolve, NOW)
    with pytest.raises(SignatureError, match="bad signature"):
        verify_request("GET", "https://hub.example/@org/outbox?page=3", added, None, resolve,
                       NOW)


# --- draft-cavage: parsing ---------------------------------------------------------------

@pytest.mark.parametrize("value", [
    'keyId="k",algorithm="rsa-sha256",headers="(request-target) host date",signature="AQID"',
    'keyId = "k" , algorithm = "rsa-sha256",  headers="(request-target)  host date" ,'
    'signature="AQID",',
    'Signature keyId="k",algorithm=rsa-sha256,headers="(Request-Target) Host Date",'
    'signature="AQID"',
    'signature="AQID",headers="(request-target) host date",algorithm="RSA-SHA256",keyId="k"',
])
def test_parse_signature_header_is_tolerant_of_spacing_quoting_and_order(value):
    parsed = parse_signature_header(value)
    assert parsed.key_id == "k"
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.headers == ("(request-target)", "host", "date")
    assert parsed.signature == b"\x01\x02\x03"


def test_parse_signature_header_reads_created_expires_and_defaults():
    parsed = parse_signature_header(
        'keyId="k",algorithm="hs2019",created=1402170695,expires="1402170699.5",'
        'signature="AQID"')
    assert (parsed.created, parsed.expires) == (1402170695, 1402170699)
    assert parsed.headers == ("(created)",)  # draft-12 §2.1.6


@pytest.mark.parametrize("value, reason", [
    ('algorithm="rsa-sha256",headers="date",signature="AQID"', "no keyId"),
    ('keyId="k",algorithm="rsa-sha256",headers="date"', "no signature"),
    ('keyId="k",keyId="j",signature="AQID"', "duplicate keyid"),
    ('keyId="k",signature="not base64!"', "not base64"),
    ('keyId="k",signature="AQID', "unterminated"),
    ('keyId="k",created=soon,signature="AQID"', "created is not a number"),
    ("just garbage", "expected name=value"),
])
def test_parse_signature_header_is_strict_on_required_fields(value, reason):
    with pytest.raises(SignatureError, match=reason):
        parse_signature_header(value)


# --- draft-cavage: mutations -------------------------------------------------------------

def signed_post(**overrides) -> tuple[str, str, dict[str, str], bytes]:
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_cavage("POST", INBOX, headers, BODY, ACTOR_KEY_ID, ACTOR_KEY, NOW))
    headers.update(overrides)
    return "POST", INBOX, headers, BODY


def replace_in_signature(headers: dict[str, str], old: str, new: str) -> dict[str, str]:
    assert old in headers["Signature"]
    return {**headers, "Signature": headers["Signature"].replace(old, new)}


def flip_signature_byte(header: str) -> str:
    parsed = parse_signature_header(header)
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    return header.replace(b64(parsed.signature), b64(flipped))


def test_cavage_round_trip():
    method, url, headers, body = signed_post()
    verified = verify_request(method, url, headers, body, resolve, NOW)
    assert verified.key_id == ACTOR_KEY_ID


CAVAGE_MUTATIONS = {
    "body byte": (lambda m, u, h, b: (m, u, h, b[:-1] + b"]"), "digest mismatch"),
    "method": (lambda m, u, h, b: ("PUT", u, h, b), "bad signature"),
    "path": (lambda m, u, h, b: (m, "https://mastodon.example/inbox2", h, b), "bad signature"),
    "host": (lambda m, u, h, b: (m, u, {**h, "Host": "evil.example"}, b), "bad signature"),
    "date": (lambda m, u, h, b: (m, u, {**h, "Date": "Fri, 01 Mar 2024 12:00:01 GMT"}, b),
             "bad signature"),
    "signed header": (lambda m, u, h, b: (m, u, {**h, "Content-Type": "text/plain"}, b),
                      "bad signature"),
    "signature": (lambda m, u, h, b: (m, u, {**h, "Signature": flip_signature_byte(
        h["Signature"])}, b), "bad signature"),
    "keyId of another key": (lambda m, u, h, b: (m, u, replace_in_signature(
        h, ACTOR_KEY_ID, OTHER_KEY_ID), b), "bad signature"),
    "keyId unknown": (lambda m, u, h, b: (m, u, replace_in_signature(
        h, ACTOR_KEY_ID, "https://nowhere.example/k"), b), "unknown key"),
    "algorithm": (lambda m, u, h, b: (m, u, replace_in_signature(
        h, "rsa-sha256", "rsa-sha512"), b), "bad signature"),
    "algorithm unsupported": (lambda m, u, h, b: (m, u, replace_in_signature(
        h, "rsa-sha256", "hmac-sha256"), b), "unsupported algorithm"),
    "algorithm for another key type": (lambda m, u, h, b: (m, u, replace_in_signature(
        h, "rsa-sha256", "ed25519"), b), "algorithm does not match key"),
    "Date removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items() if k != "Date"}, b),
                     "missing Date"),
    "Date invalid": (lambda m, u, h, b: (m, u, {**h, "Date": "yesterday"}, b), "invalid Date"),
    "Digest removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items() if k != "Digest"},
                                           b), "missing signed header digest"),
    "Signature removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items()
                                                     if k != "Signature"}, b),
                          "missing Signature header"),
    "signed header removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items()
                                                         if k != "Content-Type"}, b),
                              "missing signed header content-type"),
    "duplicate Date": (lambda m, u, h, b: (m, u, [*h.items(), ("date", "Fri, 01 Mar 2024 "
                                                               "12:00:05 GMT")], b),
                       "duplicate date header"),
}


@pytest.mark.parametrize("mutate, reason", CAVAGE_MUTATIONS.values(), ids=CAVAGE_MUTATIONS)
def test_cavage_refuses_mutated_request(mutate, reason):
    method, url, headers, body = mutate(*signed_post())
    with pytest.raises(SignatureError, match=reason):
        verify_request(method, url, headers, body, resolve, NOW)


@pytest.mark.parametrize("signed, reason", [
    ("(request-target) host date content-type", "header digest not signed"),
    ("(request-target) date digest", "header host not signed"),
    ("host date digest", r"header \(request-target\) not signed"),
    ("(request-target) host digest", "header date not signed"),
])
def test_cavage_refuses_signature_that_omits_a_required_header(signed, reason):
    headers = mastodon_delivery(headers_list=signed)
    with pytest.raises(SignatureError, match=reason):
        verify_request("POST", "https://hub.example/inbox", headers, BODY, resolve, NOW)


@pytest.mark.parametrize("offset, accepted", [
    (timedelta(hours=11, minutes=59), True),
    (timedelta(hours=12, seconds=1), False),
    (timedelta(minutes=-59), True),
    (timedelta(hours=-1, seconds=-1), False),
])
def test_cavage_date_window_is_12_hours_back_and_1_hour_ahead(offset, accepted):
    method, url, headers, body = signed_post()
    if accepted:
        verify_request(method, url, headers, body, resolve, NOW + offset)
    else:
        reason = "too old" if offset > timedelta(0) else "in the future"
        with pytest.raises(SignatureError, match=f"date outside window \\({reason}\\)"):
            verify_request(method, url, headers, body, resolve, NOW + offset)


def test_cavage_window_can_be_narrowed():
    method, url, headers, body = signed_post()
    with pytest.raises(SignatureError, match="too old"):
        verify_cavage(method, "/inbox", headers, body, resolve, NOW + timedelta(minutes=6),
                      max_age=timedelta(minutes=5))


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_cavage_header_names_are_case_insensitive(case):
    method, url, headers, body = signed_post()
    verify_request(method, url, {case(k): v for k, v in headers.items()}, body, resolve, NOW)


def test_cavage_accepts_identical_duplicate_lines_and_authorization_header():
    method, url, headers, body = signed_post()
    verify_request(method, url, [*headers.items(), ("host", headers["Host"])], body, resolve,
                   NOW)
    moved = {k: v for k, v in headers.items() if k != "Signature"}
    moved["Authorization"] = "Signature " + headers["Signature"]
    verify_request(method, url, moved, body, resolve, NOW)


def test_cavage_get_without_body_needs_no_digest():
    added = sign_cavage("GET", "https://hub.example/@coredem", {}, None, ACTOR_KEY_ID,
                        ACTOR_KEY, NOW)
    assert "Digest" not in added
    assert 'headers="(request-target) host date"' in added["Signature"]
    verify_request("GET", "https://hub.example/@coredem", added, None, resolve, NOW)
    verify_request("GET", "https://hub.example/@coredem", added, b"", resolve, NOW)


def test_cavage_accepts_key_object_and_pem():
    method, url, headers, body = signed_post()
    verify_cavage(method, "/inbox", headers, body, ACTOR_KEY.public_key(), NOW)
    verify_cavage(method, "/inbox", headers, body, KEYS[ACTOR_KEY_ID], NOW)
    with pytest.raises(SignatureError, match="bad signature"):
        verify_cavage(method, "/inbox", headers, body, KEYS[OTHER_KEY_ID], NOW)
    with pytest.raises(SignatureError, match="unreadable public key"):
        verify_cavage(method, "/inbox", headers, body, "not a key", NOW)


# --- draft-cavage: hs2019, (created), (expires), Ed25519 --------------------------------

def hs2019_request(created: int, expires: int, *, pss: bool = False) -> dict[str, str]:
    headers = {"Host": "hub.example", "Digest": digest_header(BODY)}
    names = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    text = cavage_signing_string("POST", "/inbox", headers, names, created=created,
                                 expires=expires)
    if pss:
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA512()),
                          salt_length=padding.PSS.DIGEST_LENGTH)
        raw = ACTOR_KEY.sign(text.encode(), pad, hashes.SHA512())
    else:
        raw = ACTOR_KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (f'keyId="{ACTOR_KEY_ID}",algorithm="hs2019",created={created},'
                            f'expires={expires},headers="{" ".join(names)}",'
                            f'signature="{b64(raw)}"')
    return headers


@pytest.mark.parametrize("pss", [False, True], ids=["pkcs1v15-sha256", "pss-sha512"])
def test_hs2019_with_created_and_expires_verifies_without_date(pss):
    created = int(NOW.timestamp()) - 10
    headers = hs2019_request(created, created + 300, pss=pss)
    verified = verify_request("POST", "https://hub.example/inbox", headers, BODY, resolve, NOW)
    assert verified.algorithm == "hs2019"
    assert verified.signed_at == datetime.fromtimestamp(created, UTC)


@pytest.mark.parametrize("created, expires, reason", [
    (-120, -60, "signature expired"),
    (-13 * 3600, 60, r"created outside window \(too old\)"),
    (2 * 3600, 3 * 3600, r"created outside window \(in the future\)"),
])
def test_hs2019_refuses_expired_or_out_of_window_created(created, expires, reason):
    stamp = int(NOW.timestamp())
    headers = hs2019_request(stamp + created, stamp + expires)
    with pytest.raises(SignatureError, match=reason):
        verify_request("POST", "https://hub.example/inbox", headers, BODY, resolve, NOW)


def test_cavage_with_ed25519_key_signs_hs2019():
    added = sign_cavage("POST", INBOX, {}, BODY, "https://hub.example/@a#ed", RFC_ED25519_KEY,
                        NOW)
    assert 'algorithm="hs2019"' in added["Signature"]
    verify_request("POST", INBOX, added, BODY, RFC_ED25519_KEY.public_key(), NOW)
    with pytest.raises(SignatureError, match="algorithm does not match key"):
        verify_request("POST", INBOX, replace_in_signature(added, "hs2019", "rsa-sha256"), BODY,
                       RFC_ED25519_KEY.public_key(), NOW)


# --- RFC 9421: the RFC's own examples -----------------------------------------------------

RFC_BODY = b'{"hello": "world"}'
RFC_DIGEST = ("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy"
              "ealdVLvRwEmTHWXvJwew==:")
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_HEADERS = [("Host", "example.com"), ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
               ("Content-Type", "application/json"), ("Content-Digest", RFC_DIGEST),
               ("Content-Length", "18")]
RFC_NOW = datetime.fromtimestamp(1618884473 + 30, UTC)
RFC_EXAMPLES = {
    "B.2.1 minimal rsa-pss-sha512": (
        'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
        "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7"
        "it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cO"
        "GdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8"
        "jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8s"
        "sinQ98Xw9Q==:",
        RFC_PSS_PUBLIC),
    "B.2.2 selective rsa-pss-sha512": (
        'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
        ';keyid="test-key-rsa-pss";tag="header-example"',
        "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4"
        "CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQ"
        "zRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U"
        "/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4"
        "bXTugEjHSw==:",
        RFC_PSS_PUBLIC),
    "B.2.3 full coverage rsa-pss-sha512": (
        'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" '
        '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
        "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxF"
        "keGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPV"
        "iV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A"
        "9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIzts"
        "DZKEgM4cUA==:",
        RFC_PSS_PUBLIC),
    "B.2.6 ed25519": (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"',
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp"
        "5WPpBKRCw==:",
        RFC_ED25519_KEY.public_key()),
}


def accept_any_coverage(names, body):
    """The RFC examples cover less than our inbound policy demands."""


@pytest.mark.parametrize("signature_input, signature, key", RFC_EXAMPLES.values(),
                         ids=RFC_EXAMPLES)
def test_rfc9421_appendix_b_examples_verify(signature_input, signature, key):
    headers = [*RFC_HEADERS, ("Signature-Input", signature_input), ("Signature", signature)]
    verified = verify_rfc9421("POST", RFC_URL, headers, RFC_BODY, key, RFC_NOW,
                              required=accept_any_coverage)
    assert verified.scheme == "rfc9421"


def test_rfc9421_b22_signature_base_matches_the_rfc():
    covered = parse_dictionary(RFC_EXAMPLES["B.2.2 selective rsa-pss-sha512"][0])["sig-b22"]
    assert signature_base("POST", RFC_URL, RFC_HEADERS, covered) == "\n".join([
        '"@authority": example.com',
        f'"content-digest": {RFC_DIGEST}',
        '"@query-param";name="Pet": dog',
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
    ])


def test_rfc9421_b26_ed25519_signature_is_reproduced_exactly():
    signature_input, signature, _ = RFC_EXAMPLES["B.2.6 ed25519"]
    covered = parse_dictionary(signature_input)["sig-b26"]
    base = signature_base("POST", RFC_URL, RFC_HEADERS, covered)
    assert base == "\n".join([
        '"date": Tue, 20 Apr 2021 02:07:55 GMT', '"@method": POST', '"@path": /foo',
        '"@authority": example.com', '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ])
    expected = parse_dictionary(signature)["sig-b26"].value
    assert RFC_ED25519_KEY.sign(base.encode()) == expected


# RFC 9421 §4.3: a proxy's deterministic rsa-v1_5-sha256 signature beside the client's
# ecdsa one (which we do not support: the request is accepted on the proxy's).
PROXIED_URL = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
PROXIED_HEADERS = [
    ("Host", "origin.host.internal.example"), ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
    ("Content-Type", "application/json"), ("Content-Digest", RFC_DIGEST),
    ("Content-Length", "18"), ("Forwarded", "for=192.0.2.123;host=example.com;proto=https"),
    ("Signature-Input", 'sig1=("@method" "@authority" "@path" "content-digest" "content-type" '
     '"content-length");created=1618884475;keyid="test-key-ecc-p256", proxy_sig=("@method" '
     '"@authority" "@path" "content-digest" "content-type" "content-length" "forwarded")'
     ';created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540'),
    ("Signature", "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jT"
     "DX+sNalzA8ESSaHD3A==:, proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+"
     "JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI"
     "8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwp"
     "Bdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6V"
     "HR6WfgS9ddzirrswsE1w5o0LV/g==:"),
]
PROXY_NOW = datetime.fromtimestamp(1618884500, UTC)


def rfc_keys(key_id: str):
    return {"test-key-rsa": RFC_RSA_KEY.public_key()}.get(key_id)


def test_rfc9421_section_4_3_proxy_signature_verifies_and_is_reproduced():
    verified = verify_rfc9421("POST", PROXIED_URL, PROXIED_HEADERS, RFC_BODY, rfc_keys,
                              PROXY_NOW, required=accept_any_coverage)
    assert (verified.key_id, verified.algorithm) == ("test-key-rsa", "rsa-v1_5-sha256")
    members = parse_dictionary(dict(PROXIED_HEADERS)["Signature-Input"])
    base = signature_base("POST", PROXIED_URL, PROXIED_HEADERS, members["proxy_sig"])
    raw = RFC_RSA_KEY.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert raw == parse_dictionary(dict(PROXIED_HEADERS)["Signature"])["proxy_sig"].value


def test_rfc9421_proxy_signature_expires():
    with pytest.raises(SignatureError, match="proxy_sig: signature expired"):
        verify_rfc9421("POST", PROXIED_URL, PROXIED_HEADERS, RFC_BODY, rfc_keys,
                       datetime.fromtimestamp(1618884541, UTC), required=accept_any_coverage)


# --- RFC 9421: our signer, round trips and mutations ------------------------------------

FEDIFY_INBOX = "https://hub.example/inbox"


def signed_rfc9421(**overrides) -> tuple[str, str, dict[str, str], bytes]:
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_rfc9421("POST", FEDIFY_INBOX, headers, BODY, ACTOR_KEY_ID, ACTOR_KEY,
                                NOW))
    headers.update(overrides)
    return "POST", FEDIFY_INBOX, headers, BODY


def test_rfc9421_signs_as_fedify_does():
    _, _, headers, _ = signed_rfc9421()
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "host" "date" "content-digest")'
        f';created={int(NOW.timestamp())};keyid="{ACTOR_KEY_ID}";alg="rsa-v1_5-sha256"')
    assert headers["Content-Digest"] == content_digest_header(BODY)
    assert headers["Signature"].startswith("sig1=:")


def test_rfc9421_round_trip_rsa_and_ed25519():
    method, url, headers, body = signed_rfc9421()
    verified = verify_request(method, url, headers, body, resolve, NOW)
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        ACTOR_KEY_ID, "rfc9421", "rsa-v1_5-sha256")
    assert verified.signed_at == NOW
    added = sign_rfc9421("GET", "https://hub.example/@a", {}, None, "k", RFC_ED25519_KEY, NOW)
    assert 'alg="ed25519"' in added["Signature-Input"]
    verify_request("GET", "https://hub.example/@a", added, None, RFC_ED25519_KEY.public_key(),
                   NOW)


def with_input(headers: dict[str, str], old: str, new: str) -> dict[str, str]:
    assert old in headers["Signature-Input"]
    return {**headers, "Signature-Input": headers["Signature-Input"].replace(old, new)}


def flip_sf_signature(value: str) -> str:
    label, item = next(iter(parse_dictionary(value).items()))
    return serialize_dictionary({label: Item(bytes([item.value[0] ^ 1]) + item.value[1:])})


def created_at(delta: timedelta) -> str:
    return f"created={int((NOW + delta).timestamp())}"


CREATED = f"created={int(NOW.timestamp())}"
RFC9421_MUTATIONS = {
    "body byte": (lambda m, u, h, b: (m, u, h, b[:-1] + b"]"), "digest mismatch"),
    "method": (lambda m, u, h, b: ("PUT", u, h, b), "bad signature"),
    "path": (lambda m, u, h, b: (m, "https://hub.example/inbox2", h, b), "bad signature"),
    "authority": (lambda m, u, h, b: (m, "https://evil.example/inbox", h, b), "bad signature"),
    "host": (lambda m, u, h, b: (m, u, {**h, "Host": "evil.example"}, b), "bad signature"),
    "date": (lambda m, u, h, b: (m, u, {**h, "Date": "Fri, 01 Mar 2024 12:00:01 GMT"}, b),
             "bad signature"),
    "signature": (lambda m, u, h, b: (m, u, {**h, "Signature": flip_sf_signature(
        h["Signature"])}, b), "bad signature"),
    "keyid of another key": (lambda m, u, h, b: (m, u, with_input(h, ACTOR_KEY_ID,
                                                                  OTHER_KEY_ID), b),
                             "bad signature"),
    "alg": (lambda m, u, h, b: (m, u, with_input(h, "rsa-v1_5-sha256", "rsa-pss-sha512"), b),
            "bad signature"),
    "alg unsupported": (lambda m, u, h, b: (m, u, with_input(h, "rsa-v1_5-sha256",
                                                             "hmac-sha256"), b),
                        "unsupported algorithm"),
    "covered list": (lambda m, u, h, b: (m, u, with_input(h, '"date" ', ""), b),
                     "bad signature"),
    "created": (lambda m, u, h, b: (m, u, with_input(h, CREATED, created_at(
        timedelta(seconds=1))), b), "bad signature"),
    "created too old": (lambda m, u, h, b: (m, u, with_input(h, CREATED, created_at(
        -timedelta(hours=13))), b), r"created outside window \(too old\)"),
    "created in the future": (lambda m, u, h, b: (m, u, with_input(h, CREATED, created_at(
        timedelta(hours=2))), b), r"created outside window \(in the future\)"),
    "created removed": (lambda m, u, h, b: (m, u, with_input(h, CREATED + ";", ""), b),
                        "bad signature"),
    "label": (lambda m, u, h, b: (m, u, {**h, "Signature": h["Signature"].replace(
        "sig1=", "sig2=")}, b), "missing signature for this label"),
    "Signature removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items()
                                                     if k != "Signature"}, b),
                          "missing Signature header"),
    "Signature-Input malformed": (lambda m, u, h, b: (m, u, {**h, "Signature-Input": "sig1=("},
                                                      b), "malformed Signature-Input"),
    "Content-Digest removed": (lambda m, u, h, b: (m, u, {k: v for k, v in h.items()
                                                          if k != "Content-Digest"}, b),
                               "missing signed header content-digest"),
    "duplicate Date": (lambda m, u, h, b: (m, u, [*h.items(), ("date", "Fri, 01 Mar 2024 "
                                                               "12:00:05 GMT")], b),
                       "duplicate date header"),
}


@pytest.mark.parametrize("mutate, reason", RFC9421_MUTATIONS.values(), ids=RFC9421_MUTATIONS)
def test_rfc9421_refuses_mutated_request(mutate, reason):
    method, url, headers, body = mutate(*signed_rfc9421())
    with pytest.raises(SignatureError, match=reason):
        verify_request(method, url, headers, body, resolve, NOW)


@pytest.mark.parametrize("components, reason", [
    (["@method", "@target-uri", "date"], "component content-digest not signed"),
    (["@target-uri", "content-digest"], "component @method not signed"),
    (["@method", "@path", "content-digest"], "component @authority not signed"),
    (["@method", "@authority", "content-digest"], "component @path not signed"),
])
def test_rfc9421_refuses_signature_that_omits_a_required_component(components, reason):
    added = sign_rfc9421("POST", FEDIFY_INBOX, {}, BODY, ACTOR_KEY_ID, ACTOR_KEY, NOW,
                         components=components)
    with pytest.raises(SignatureError, match=reason):
        verify_request("POST", FEDIFY_INBOX, added, BODY, resolve, NOW)


def test_rfc9421_accepts_path_and_authority_instead_of_target_uri():
    added = sign_rfc9421("POST", FEDIFY_INBOX, {}, BODY, ACTOR_KEY_ID, ACTOR_KEY, NOW,
                         components=["@method", "@authority", "@path", "content-digest"])
    verify_request("POST", FEDIFY_INBOX, added, BODY, resolve, NOW)


def test_rfc9421_accepts_when_one_of_several_signatures_verifies():
    _, _, good, _ = signed_rfc9421()
    bad = sign_rfc9421("POST", FEDIFY_INBOX, {}, BODY, OTHER_KEY_ID, ACTOR_KEY, NOW,
                       label="other")
    headers = [*good.items(), ("Signature-Input", bad["Signature-Input"]),
               ("Signature", bad["Signature"])]
    assert verify_request("POST", FEDIFY_INBOX, headers, BODY, resolve, NOW).key_id == \
        ACTOR_KEY_ID
    tampered = [(k, "evil.example" if k == "Host" else v) for k, v in headers]
    with pytest.raises(SignatureError, match="sig1: bad signature; other: bad signature"):
        verify_request("POST", FEDIFY_INBOX, tampered, BODY, resolve, NOW)


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_rfc9421_header_names_are_case_insensitive(case):
    method, url, headers, body = signed_rfc9421()
    verify_request(method, url, {case(k): v for k, v in headers.items()}, body, resolve, NOW)


def test_rfc9421_refuses_unsupported_component_parameters():
    covered = InnerList((Item("date", {"sf": True}),), {"created": 1})
    with pytest.raises(SignatureError, match="unsupported component parameter"):
        signature_base("GET", "https://hub.example/", {"Date": "x"}, covered)
    covered = InnerList((Item("@status"),), {"created": 1})
    with pytest.raises(SignatureError, match="unsupported component @status"):
        signature_base("GET", "https://hub.example/", {}, covered)


# --- Dispatcher -----------------------------------------------------------------------------

def test_verify_request_picks_the_scheme_from_signature_input():
    assert verify_request(*signed_post(), resolve, NOW).scheme == "cavage"
    assert verify_request(*signed_rfc9421(), resolve, NOW).scheme == "rfc9421"


def test_verify_request_refuses_unsigned_request():
    with pytest.raises(SignatureError, match="missing Signature header"):
        verify_request("POST", INBOX, {"Host": "mastodon.example"}, BODY, resolve, NOW)


# --- SignedAuth with requests -------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_signed_auth_signs_a_prepared_post_that_verifies(scheme):
    prepared = requests.Request(
        "POST", "https://remote.example/users/bob/inbox", data=BODY,
        headers={"Content-Type": "application/activity+json"}).prepare()
    SignedAuth(ACTOR_KEY_ID, ACTOR_KEY, scheme=scheme, now=NOW)(prepared)
    assert prepared.headers["Host"] == "remote.example"
    assert prepared.headers["Date"] == "Fri, 01 Mar 2024 12:00:00 GMT"
    verified = verify_request(prepared.method, prepared.url, prepared.headers, prepared.body,
                              resolve, NOW)
    assert (verified.key_id, verified.scheme) == (ACTOR_KEY_ID, scheme)


def test_signed_auth_signs_a_get_with_a_fresh_date_from_its_clock():
    times = iter([NOW, NOW + timedelta(minutes=5)])
    auth = SignedAuth(ACTOR_KEY_ID, _actor_private_pem(), now=lambda: next(times))
    first = requests.Request("GET", "https://remote.example/users/bob?x=1").prepare()
    second = requests.Request("GET", "https://remote.example/users/bob?x=1").prepare()
    auth(first)
    auth(second)
    assert "Digest" not in first.headers
    assert first.headers["Date"] != second.headers["Date"]
    verify_request("GET", first.url, first.headers, first.body, resolve, NOW)


def _actor_private_pem() -> str:
    return (DATA / "actor-key.pem").read_text()


def test_signed_auth_refuses_streamed_body_and_unknown_scheme():
    prepared = requests.Request("POST", "https://remote.example/inbox",
                                data=iter([b"x"])).prepare()
    with pytest.raises(TypeError, match="streamed"):
        SignedAuth(ACTOR_KEY_ID, ACTOR_KEY, now=NOW)(prepared)
    with pytest.raises(ValueError, match="scheme"):
        SignedAuth(ACTOR_KEY_ID, ACTOR_KEY, scheme="jws")


class _CapturingAdapter(requests.adapters.BaseAdapter):
    """Answers 202 to anything and keeps the request as it would have been sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 202
        response.raw = io.BytesIO(b"")
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


def test_signed_auth_works_through_the_outbound_client():
    session = requests.Session()
    adapter = _CapturingAdapter()
    session.mount("https://", adapter)
    response = fetch(session, "POST", "https://remote.example/inbox", timeout=5, data=BODY,
                     headers={"Content-Type": "application/activity+json"},
                     auth=SignedAuth(ACTOR_KEY_ID, ACTOR_KEY, now=NOW))
    assert response.status_code == 202
    sent = adapter.sent[0]
    verified = verify_request(sent.method, sent.url, sent.headers, sent.body, resolve, NOW)
    assert verified.covered == ("(request-target)", "host", "date", "digest", "content-type")
