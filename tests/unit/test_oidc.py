"""The pure side of provider sign-in: callback checks, PKCE, id_token validation, claims."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from hub.accounts.oidc import (
    Endpoints,
    Identity,
    OIDCError,
    PendingLogin,
    ProviderConfig,
    authorization_url,
    check_callback,
    identity_from_claims,
    is_insecure_url,
    new_pending_login,
    pkce_challenge,
    propose_handle,
    providers_from_document,
    signup_step,
    validate_id_token,
)

NOW = 1_800_000_000.0
ISSUER = "https://id.example.org/realms/asso"
CLIENT = "hub"
NONCE = "n-0S6_WzA2Mj"
PROVIDER = ProviderConfig(slug="asso", label="Asso", client_id=CLIENT, client_secret="s",
                          discovery_url=ISSUER + "/.well-known/openid-configuration")
ENDPOINTS = Endpoints(issuer=ISSUER, authorize_url=ISSUER + "/auth", token_url=ISSUER + "/token",
                      jwks_url=ISSUER + "/certs")


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})


@pytest.fixture(scope="module")
def other_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})


def jwks_of(key: RSAKey) -> dict:
    return KeySet([key]).as_dict(private=False)


def claims(**overrides) -> dict:
    base = {"iss": ISSUER, "aud": CLIENT, "sub": "alice", "exp": int(NOW) + 600,
            "iat": int(NOW) - 5, "nonce": NONCE}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: RSAKey, payload: dict, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "k1"}, payload, key)


def validate(token: str, key: RSAKey, nonce: str = NONCE) -> dict:
    return validate_id_token(token, jwks_of(key), issuer=ISSUER, client_id=CLIENT, nonce=nonce,
                             now=NOW)


def pending(**overrides) -> PendingLogin:
    values = {"provider": "asso", "state": "the-state", "nonce": NONCE,
              "code_verifier": "v" * 43, "started_at": NOW - 10}
    values.update(overrides)
    return PendingLogin(**values)


# -- the callback --------------------------------------------------------------------------


def test_callback_with_the_expected_state_and_issuer_gives_the_code():
    params = {"code": "abc", "state": "the-state", "iss": ISSUER}
    assert check_callback(params, pending(), ENDPOINTS, NOW) == "abc"


@pytest.mark.parametrize("params", [
    {"code": "abc", "state": "another-state"},
    {"code": "abc"},
    {"code": "abc", "state": ""},
])
def test_callback_refuses_a_state_mismatch(params):
    with pytest.raises(OIDCError) as err:
        check_callback(params, pending(), ENDPOINTS, NOW)
    assert err.value.reason == "state"


def test_callback_without_a_sign_in_in_progress_is_a_state_error():
    # A replayed callback: the pending sign-in was forgotten by the first one.
    with pytest.raises(OIDCError) as err:
        check_callback({"code": "abc", "state": "the-state"}, None, ENDPOINTS, NOW)
    assert err.value.reason == "state"


def test_callback_refuses_a_stale_sign_in():
    with pytest.raises(OIDCError) as err:
        check_callback({"code": "abc", "state": "the-state"}, pending(started_at=NOW - 3600),
                       ENDPOINTS, NOW)
    assert err.value.reason == "state"


def test_callback_refuses_another_issuer():
    params = {"code": "abc", "state": "the-state", "iss": "https://evil.example"}
    with pytest.raises(OIDCError) as err:
        check_callback(params, pending(), ENDPOINTS, NOW)
    assert err.value.reason == "issuer"


def test_callback_requires_iss_when_the_provider_announces_it():
    endpoints = Endpoints(**{**ENDPOINTS.__dict__, "sends_iss": True})
    with pytest.raises(OIDCError) as err:
        check_callback({"code": "abc", "state": "the-state"}, pending(), endpoints, NOW)
    assert err.value.reason == "issuer"


def test_consent_denied_is_its_own_reason():
    params = {"error": "access_denied", "state": "the-state", "iss": ISSUER}
    with pytest.raises(OIDCError) as err:
        check_callback(params, pending(), ENDPOINTS, NOW)
    assert err.value.reason == "denied"


# -- PKCE and the request ------------------------------------------------------------------


def test_pkce_s256_matches_the_rfc_7636_example():
    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    # …and what oauthlib (requests-oauthlib's engine) computes for the same verifier.
    from oauthlib.oauth2 import WebApplicationClient

    assert WebApplicationClient("hub").create_code_challenge(verifier, "S256") == \
        pkce_challenge(verifier)


def test_authorization_url_carries_state_nonce_and_the_s256_challenge():
    login = new_pending_login("asso", "login", "", NOW)
    assert len(login.code_verifier) >= 43 and login.state != login.nonce
    url = authorization_url(PROVIDER, ENDPOINTS, login, "https://hub.example/auth/callback")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(ISSUER + "/auth?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT]
    assert query["redirect_uri"] == ["https://hub.example/auth/callback"]
    assert query["scope"] == ["openid profile email"]
    assert query["state"] == [login.state]
    assert query["nonce"] == [login.nonce]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [pkce_challenge(login.code_verifier)]
    assert login.code_verifier not in url


def test_each_sign_in_gets_fresh_secrets():
    a, b = (new_pending_login("asso", "login", "", NOW) for _ in range(2))
    assert {a.state, a.nonce, a.code_verifier}.isdisjoint({b.state, b.nonce, b.code_verifier})


# -- the id_token --------------------------------------------------------------------------


def test_a_valid_id_token_gives_its_claims(key):
    assert validate(sign(key, claims()), key)["sub"] == "alice"


def test_several_audiences_need_azp(key):
    token = sign(key, claims(aud=[CLIENT, "other"], azp=CLIENT))
    assert validate(token, key)["sub"] == "alice"
    with pytest.raises(OIDCError):
        validate(sign(key, claims(aud=[CLIENT, "other"])), key)


@pytest.mark.parametrize(("payload", "detail"), [
    (claims(aud="another-client"), "aud"),
    (claims(aud=["another-client"]), "aud"),
    (claims(iss="https://evil.example"), "iss"),
    (claims(exp=int(NOW) - 3600), "exp"),
    (claims(exp=None), "exp"),
    (claims(iat=int(NOW) + 3600), "iat"),
])
def test_invalid_id_token_claims_are_refused(key, payload, detail):
    with pytest.raises(OIDCError) as err:
        validate(sign(key, payload), key)
    assert (err.value.reason, err.value.detail) == ("id_token", detail)


def test_id_token_signed_by_another_key_is_refused(key, other_key):
    with pytest.raises(OIDCError) as err:
        validate(sign(other_key, claims()), key)
    assert err.value.reason == "id_token"


def test_tampered_id_token_is_refused(key):
    header, payload, signature = sign(key, claims()).split(".")
    forged = sign(key, claims(sub="mallory")).split(".")[1]
    with pytest.raises(OIDCError) as err:
        validate(".".join([header, forged, signature[::-1]]), key)
    assert err.value.reason == "id_token"


def test_unsigned_or_hmac_id_token_is_refused(key):
    import base64
    import json

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none'})}.{b64(claims())}."
    with pytest.raises(OIDCError):
        validate(unsigned, key)


@pytest.mark.parametrize("nonce", [None, "another-nonce"])
def test_id_token_nonce_must_be_this_sign_ins(key, nonce):
    with pytest.raises(OIDCError) as err:
        validate(sign(key, claims(nonce=nonce)), key)
    assert err.value.reason == "nonce"


def test_garbage_is_not_an_id_token(key):
    with pytest.raises(OIDCError):
        validate("not-a-jwt", key)


# -- claims, handles, linking --------------------------------------------------------------


def test_identity_is_issuer_and_subject_with_proposals():
    identity = identity_from_claims(PROVIDER, ISSUER, {
        "sub": "248289761001", "preferred_username": "Jane.Doe", "name": "Jane Doe",
        "email": "jane@example.org", "email_verified": True})
    assert (identity.issuer, identity.subject) == (ISSUER, "248289761001")
    assert identity.email_verified and identity.display_name == "Jane Doe"
    assert propose_handle(identity) == "jane_doe"


def test_identity_needs_a_subject():
    with pytest.raises(OIDCError) as err:
        identity_from_claims(PROVIDER, ISSUER, {"email": "jane@example.org"})
    assert err.value.reason == "claims"


@pytest.mark.parametrize(("hint", "email", "expected"), [
    ("Éloïse", "", "eloise"),
    ("", "marc.dupont@example.org", "marc_dupont"),
    ("x", "", ""),
    ("a" * 50, "", "a" * 30),
])
def test_handle_proposal(hint, email, expected):
    identity = Identity(provider="asso", issuer=ISSUER, subject="1", handle_hint=hint,
                        email=email)
    assert propose_handle(identity) == expected


def test_an_unknown_identity_is_never_linked_by_its_email():
    # Someone at the provider claims the e-mail of a local account: no takeover.
    step = signup_step(linked_account_id=None, allow_signup=True, registrations_closed=False,
                       email_owner_id=42)
    assert step == "email_in_use"
    assert signup_step(linked_account_id=None, allow_signup=False,
                       registrations_closed=False, email_owner_id=42) == "refused"


def test_signup_steps():
    assert signup_step(linked_account_id=7, allow_signup=False, registrations_closed=True,
                       email_owner_id=None) == "login"
    assert signup_step(linked_account_id=None, allow_signup=True, registrations_closed=False,
                       email_owner_id=None) == "choose_handle"
    assert signup_step(linked_account_id=None, allow_signup=True, registrations_closed=True,
                       email_owner_id=None) == "refused"


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "allow_http", "insecure"), [
    ("https://id.example.org", False, False),
    ("http://id.example.org", False, True),
    ("http://id.example.org", True, False),
    ("http://127.0.0.1:9090", False, False),
    ("http://localhost:9090", False, False),
    ("ftp://id.example.org", True, True),
])
def test_plain_http_only_on_loopback_or_test_instances(url, allow_http, insecure):
    assert is_insecure_url(url, allow_http) is insecure


def test_providers_declared_by_the_deployment():
    data = {"providers": [{"slug": "kc", "label": "Keycloak", "client_id": "hub",
                           "client_secret_env": "KC_SECRET",
                           "discovery_url": ISSUER + "/.well-known/openid-configuration"}]}
    [provider] = providers_from_document(data, {"KC_SECRET": "s3cret"})
    assert provider.client_secret == "s3cret" and provider.from_environment
    with pytest.raises(ValueError, match="KC_SECRET"):
        providers_from_document(data, {})
    with pytest.raises(ValueError, match="endpoints"):
        providers_from_document({"providers": [{"slug": "x", "label": "X",
                                                "client_id": "c"}]}, {})
    with pytest.raises(ValueError, match="unknown"):
        providers_from_document({"providers": [{"slug": "x", "label": "X", "client_id": "c",
                                                "discovery_url": "https://x", "colour": 1}]},
                                {})
