"""Identity providers: where their configuration comes from, and the HTTP spoken with them.

Providers are rows admins edit (``IdentityProvider``) plus those the deployment declares in
``HUB_OIDC_PROVIDERS``. Every request to a provider goes through ``_http`` (time-outs, a
User-Agent, no plain http outside loopback or a test instance). Discovery documents and key
sets are cached per process for a few minutes; a key set is fetched again once when a token
names a key it does not hold (the provider rotated its keys).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from sqlalchemy import select

from hub.accounts.models import IdentityProvider
from hub.accounts.oidc import (
    Endpoints,
    Identity,
    OIDCError,
    PendingLogin,
    ProviderConfig,
    identity_from_claims,
    is_insecure_url,
    validate_id_token,
)
from hub.errors import FetchError
from hub.extensions import db
from hub.federation.client import fetch, make_session
from hub.sealed import unseal

log = logging.getLogger(__name__)

CACHE_SECONDS = 300
_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()
#: Largest discovery document, key set or userinfo answer read from a provider.
MAX_BODY = 512 * 1024


def config_of(row: IdentityProvider) -> ProviderConfig:
    return ProviderConfig(
        slug=row.slug, label=row.label, client_id=row.client_id,
        client_secret=unseal(row.client_secret, current_app.config["SECRET_KEY"]),
        discovery_url=row.discovery_url, issuer=row.issuer, authorize_url=row.authorize_url,
        token_url=row.token_url, userinfo_url=row.userinfo_url, scopes=row.scopes,
        claim_subject=row.claim_subject, claim_handle=row.claim_handle,
        claim_name=row.claim_name, claim_email=row.claim_email,
        allow_signup=row.allow_signup, trust_email=row.trust_email, is_enabled=row.is_enabled)


def list_providers(enabled_only: bool = True) -> list[ProviderConfig]:
    """The deployment's providers first, then the admins' rows (a row cannot shadow them)."""
    declared = list(current_app.config.get("HUB_OIDC_PROVIDER_LIST", ()))
    slugs = {p.slug for p in declared}
    rows = db.session.scalars(select(IdentityProvider).order_by(IdentityProvider.label))
    configs = declared + [config_of(r) for r in rows if r.slug not in slugs]
    return [p for p in configs if p.is_enabled or not enabled_only]


def find_provider(slug: str, enabled_only: bool = True) -> ProviderConfig | None:
    return next((p for p in list_providers(enabled_only) if p.slug == slug), None)


def provider_labels() -> dict[str, str]:
    return {p.slug: p.label for p in list_providers(enabled_only=False)}


def _allow_http() -> bool:
    return current_app.config["HUB_ENV"] in {"testing", "development"}


def _http(method: str, url: str, **kwargs) -> requests.Response:
    if is_insecure_url(url, _allow_http()):
        raise OIDCError("insecure", url)
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    try:
        return fetch(_outbound(), method, url, headers=headers, max_bytes=MAX_BODY,
                     timeout=current_app.config["HUB_OIDC_TIMEOUT"], **kwargs)
    except FetchError as exc:
        log.warning("identity provider unreachable: %s %s (%s)", method, url, exc.message)
        raise OIDCError("unreachable", url) from None


def _outbound(session: requests.Session | None = None) -> requests.Session:
    """Sessions go through the one outbound client and its SSRF guard."""
    return make_session(allow_private=current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"],
                        session=session)


def _json(response: requests.Response) -> dict[str, Any]:
    if response.status_code != 200 or len(response.content) > MAX_BODY:
        raise OIDCError("unreachable", f"{response.url} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise OIDCError("unreachable", f"{response.url} sent no JSON") from None
    if not isinstance(data, dict):
        raise OIDCError("unreachable", f"{response.url} sent no JSON object")
    return data


def _cached(key: str, fetch, fresh: bool = False) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not fresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = fetch()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def endpoints_of(provider: ProviderConfig) -> Endpoints:
    """The provider's endpoints, from its discovery document or its explicit configuration."""
    if not provider.discovery_url:
        # A plain OAuth2 provider has no issuer: its origin names it, unless configured.
        parts = urlsplit(provider.authorize_url)
        issuer = provider.issuer or f"{parts.scheme}://{parts.netloc}"
        return Endpoints(issuer=issuer, authorize_url=provider.authorize_url,
                         token_url=provider.token_url, userinfo_url=provider.userinfo_url)
    meta = _cached("discovery " + provider.discovery_url,
                   lambda: _json(_http("GET", provider.discovery_url)))
    try:
        issuer = meta["issuer"]
        authorize, token = meta["authorization_endpoint"], meta["token_endpoint"]
    except KeyError as exc:
        raise OIDCError("config", f"discovery document lacks {exc}") from None
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return Endpoints(
        issuer=issuer, authorize_url=authorize, token_url=token,
        userinfo_url=provider.userinfo_url or meta.get("userinfo_endpoint", ""),
        jwks_url=meta.get("jwks_uri", ""),
        secret_in_body="client_secret_basic" not in methods and "client_secret_post" in methods,
        sends_iss=meta.get("authorization_response_iss_parameter_supported") is True)


def _jwks(url: str, fresh: bool = False) -> dict[str, Any]:
    return _cached("jwks " + url, lambda: _json(_http("GET", url)), fresh=fresh)


def exchange_code(provider: ProviderConfig, endpoints: Endpoints, pending: PendingLogin,
                  code: str, redirect_uri: str, now: float) -> Identity:
    """Trade the code for tokens (with the PKCE verifier), validate them, read the claims."""
    from oauthlib.oauth2 import OAuth2Error
    from oauthlib.oauth2.rfc6749.errors import InsecureTransportError
    from requests_oauthlib import OAuth2Session

    for url in (endpoints.token_url, endpoints.userinfo_url, endpoints.jwks_url):
        if url and is_insecure_url(url, _allow_http()):
            raise OIDCError("insecure", url)
    session = _outbound(OAuth2Session(provider.client_id, redirect_uri=redirect_uri,
                                      scope=provider.scope_list, state=pending.state))
    timeout = current_app.config["HUB_OIDC_TIMEOUT"]
    try:
        token = session.fetch_token(
            endpoints.token_url, code=code, client_secret=provider.client_secret,
            code_verifier=pending.code_verifier, timeout=timeout,
            include_client_id=True if endpoints.secret_in_body else None)
    except InsecureTransportError:
        raise OIDCError("insecure", endpoints.token_url) from None
    except OAuth2Error as exc:
        # invalid_grant: the code expired, was already used, or was not issued to us.
        log.info("token endpoint of %s refused the code: %s", provider.slug, exc.error)
        raise OIDCError("code", exc.error) from None
    except requests.RequestException as exc:
        log.warning("token endpoint of %s unreachable (%s)", provider.slug, type(exc).__name__)
        raise OIDCError("unreachable", endpoints.token_url) from None
    except ValueError as exc:  # not JSON, or no access token in the answer
        raise OIDCError("code", str(exc)[:100]) from None

    claims: dict[str, Any] = {}
    if provider.is_oidc:
        id_token = token.get("id_token")
        if not isinstance(id_token, str) or not endpoints.jwks_url:
            raise OIDCError("id_token", "missing")
        try:
            claims = validate_id_token(id_token, _jwks(endpoints.jwks_url),
                                       issuer=endpoints.issuer, client_id=provider.client_id,
                                       nonce=pending.nonce, now=now)
        except OIDCError as exc:
            if exc.reason != "id_token" or not exc.detail.startswith("signature"):
                raise
            # Perhaps signed with a key published since we cached the set: ask once more.
            claims = validate_id_token(id_token, _jwks(endpoints.jwks_url, fresh=True),
                                       issuer=endpoints.issuer, client_id=provider.client_id,
                                       nonce=pending.nonce, now=now)
    if endpoints.userinfo_url:
        try:
            response = session.get(endpoints.userinfo_url, timeout=timeout,
                                   headers={"Accept": "application/json"})
        except requests.RequestException:
            raise OIDCError("unreachable", endpoints.userinfo_url) from None
        info = _json(response)
        # OpenID Connect Core §5.3.2: userinfo about someone else must not be used.
        if claims and info.get("sub") != claims.get("sub"):
            raise OIDCError("claims", "userinfo sub")
        claims = {**info, **claims}
    return identity_from_claims(provider, endpoints.issuer, claims)
