"""OpenID Connect and OAuth2 sign-in, the pure parts: provider configuration, the
authorization request, the callback's checks, ``id_token`` validation, and what the claims
propose.

Pure: no Flask, database or network, and no clock (``now`` is an argument). The shell that
fetches discovery documents, keys and tokens is ``hub.accounts.providers``; the use cases are
in ``hub.accounts.sso``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

#: Signature algorithms accepted on an ``id_token`` ("none" and shared-secret HMAC never).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA")
#: Clock skew tolerated between the provider and this instance, in seconds.
LEEWAY = 120
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LOOPBACK_HOSTS = {"localhost", "::1"}


class OIDCError(Exception):
    """A sign-in that cannot go on. ``reason`` is a key the shell turns into a message.

    Reasons: ``denied`` (the person refused consent), ``provider_error`` (another error in the
    callback), ``state`` (no sign-in in progress, or not this one), ``issuer`` (the callback's
    ``iss`` is another provider's), ``no_code``, ``code`` (the token endpoint refused the
    code: expired or already used), ``unreachable``, ``id_token`` (invalid), ``nonce``,
    ``claims`` (no subject), ``config`` (a misconfigured provider), ``insecure`` (plain http).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProviderConfig:
    """One provider as configured by an admin (a row) or by the deployment (a file)."""

    slug: str
    label: str
    client_id: str
    client_secret: str = ""
    discovery_url: str = ""
    issuer: str = ""
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    scopes: str = "openid profile email"
    claim_subject: str = "sub"
    claim_handle: str = "preferred_username"
    claim_name: str = "name"
    claim_email: str = "email"
    allow_signup: bool = True
    trust_email: bool = False
    is_enabled: bool = True
    #: True for providers declared by the deployment (read-only in the admin area).
    from_environment: bool = False

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.replace(",", " ").split() if s]

    @property
    def is_oidc(self) -> bool:
        """OpenID Connect (an ``id_token`` to validate) or plain OAuth2 (userinfo only)."""
        return bool(self.discovery_url) or "openid" in self.scope_list


@dataclass(frozen=True)
class Endpoints:
    """Where to send the person and where to ask for tokens, keys and claims."""

    issuer: str
    authorize_url: str
    token_url: str
    userinfo_url: str = ""
    jwks_url: str = ""
    #: ``token_endpoint_auth_methods_supported``: send the secret in the body when the
    #: provider does not take HTTP Basic.
    secret_in_body: bool = False
    #: Whether the provider says it sends ``iss`` in the callback (RFC 9207).
    sends_iss: bool = False


@dataclass(frozen=True)
class PendingLogin:
    """What the browser's session keeps between the redirect and the callback."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    purpose: str = "login"  # or "link"
    next_url: str = ""
    started_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "state": self.state, "nonce": self.nonce,
                "code_verifier": self.code_verifier, "purpose": self.purpose,
                "next_url": self.next_url, "started_at": self.started_at}

    @classmethod
    def from_dict(cls, data: Any) -> PendingLogin | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{k: data[k] for k in ("provider", "state", "nonce", "code_verifier",
                                                 "purpose", "next_url", "started_at")})
        except (KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Identity:
    """Who the provider says the person is, reduced to what the hub uses."""

    provider: str
    issuer: str
    subject: str
    handle_hint: str = ""
    display_name: str = ""
    email: str = ""
    email_verified: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "issuer": self.issuer, "subject": self.subject,
                "handle_hint": self.handle_hint, "display_name": self.display_name,
                "email": self.email, "email_verified": self.email_verified}

    @classmethod
    def from_dict(cls, data: Any) -> Identity | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{k: data[k] for k in ("provider", "issuer", "subject", "handle_hint",
                                                 "display_name", "email", "email_verified")})
        except (KeyError, TypeError):
            return None


# -- the request ---------------------------------------------------------------------------


def new_pending_login(provider: str, purpose: str, next_url: str, now: float) -> PendingLogin:
    """Fresh ``state``, ``nonce`` and PKCE verifier (43+ characters, RFC 7636 §4.1)."""
    return PendingLogin(provider=provider, state=secrets.token_urlsafe(32),
                        nonce=secrets.token_urlsafe(32),
                        code_verifier=secrets.token_urlsafe(48), purpose=purpose,
                        next_url=next_url, started_at=now)


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(provider: ProviderConfig, endpoints: Endpoints, pending: PendingLogin,
                      redirect_uri: str) -> str:
    """The URL of the provider's login page, built by requests-oauthlib's OAuth2Session.

    The PKCE verifier is ours (it lives in the browser's session between the two requests),
    so the challenge is passed explicitly rather than through ``OAuth2Session(pkce=…)``,
    which would keep the verifier in the session object that dies with this request.
    """
    from requests_oauthlib import OAuth2Session

    extra = {"code_challenge": pkce_challenge(pending.code_verifier),
             "code_challenge_method": "S256"}
    if provider.is_oidc:
        extra["nonce"] = pending.nonce
    client = OAuth2Session(provider.client_id, redirect_uri=redirect_uri,
                           scope=provider.scope_list, state=pending.state)
    url, _state = client.authorization_url(endpoints.authorize_url, state=pending.state,
                                           **extra)
    return url


# -- the callback --------------------------------------------------------------------------


def check_callback(params: dict[str, str], pending: PendingLogin | None, endpoints: Endpoints,
                   now: float, max_age: float = 900) -> str:
    """The authorization code from the callback's query, after the checks; or OIDCError.

    The ``state`` must be the one this browser was given (and is given once: the caller
    forgets it before calling), an ``iss`` must be the expected issuer (RFC 9207, against
    mix-up attacks), and the person may have refused (``error=access_denied``).
    """
    if pending is None or not params.get("state") or not hmac.compare_digest(
            str(params.get("state")), pending.state):
        raise OIDCError("state")
    if now - pending.started_at > max_age:
        raise OIDCError("state", "expired")
    issuer = params.get("iss")
    if issuer is not None and issuer != endpoints.issuer:
        raise OIDCError("issuer", issuer)
    if issuer is None and endpoints.sends_iss:
        raise OIDCError("issuer", "missing")
    error = params.get("error")
    if error:
        raise OIDCError("denied" if error == "access_denied" else "provider_error", error)
    code = params.get("code")
    if not code:
        raise OIDCError("no_code")
    return code


def validate_id_token(id_token: str, jwks: dict[str, Any], *, issuer: str, client_id: str,
                      nonce: str, now: float) -> dict[str, Any]:
    """The claims of a valid ``id_token`` (OpenID Connect Core §3.1.3.7), or OIDCError.

    Checks the signature with the provider's keys, then ``iss``, ``aud`` (and ``azp`` when
    there are several audiences), ``exp``, ``iat`` and ``nonce``.
    """
    try:
        keys = KeySet.import_key_set(jwks)
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OIDCError("id_token", f"signature: {type(exc).__name__}") from None
    claims = dict(token.claims)
    if claims.get("iss") != issuer:
        raise OIDCError("id_token", "iss")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise OIDCError("id_token", "aud")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OIDCError("id_token", "azp")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + LEEWAY < now:
        raise OIDCError("id_token", "exp")
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool) and iat - LEEWAY > now:
        raise OIDCError("id_token", "iat")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
        raise OIDCError("nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OIDCError("claims", "sub")
    return claims


def identity_from_claims(provider: ProviderConfig, issuer: str,
                         claims: dict[str, Any]) -> Identity:
    """What the hub keeps of the claims: the stable identity, and proposals for the profile."""
    subject = claims.get(provider.claim_subject)
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)  # plain OAuth2 providers often number their users
    if not isinstance(subject, str) or not subject:
        raise OIDCError("claims", provider.claim_subject)

    def text(name: str, limit: int) -> str:
        value = claims.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    email = text(provider.claim_email, 254)
    if "@" not in email.strip("@"):
        email = ""
    return Identity(provider=provider.slug, issuer=issuer, subject=subject[:255],
                    handle_hint=text(provider.claim_handle, 100),
                    display_name=text(provider.claim_name, 100), email=email,
                    email_verified=claims.get("email_verified") is True, claims=claims)


def propose_handle(identity: Identity) -> str:
    """A handle to offer on the first sign-in: the handle claim, else the e-mail's local part,
    reduced to the handle alphabet (a–z, digits, single underscores, 2–30 characters)."""
    for raw in (identity.handle_hint, identity.email.split("@")[0], identity.display_name):
        text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
        text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:30].strip("_")
        if len(text) >= 2:
            return text
    return ""


def signup_step(*, linked_account_id: int | None, allow_signup: bool, registrations_closed: bool,
                email_owner_id: int | None) -> str:
    """What a sign-in with a verified identity leads to.

    ``login`` when the identity (issuer + subject) is linked to an account. Otherwise never
    the account that happens to use the same e-mail: the claims of a provider do not prove
    who owns a local account, and a provider that lets people set any address would hand
    accounts over. That person must log in first and link from their settings
    (``email_in_use``). Else ``choose_handle`` to create an account, or ``refused``.
    """
    if linked_account_id is not None:
        return "login"
    if not allow_signup or registrations_closed:
        return "refused"
    if email_owner_id is not None:
        return "email_in_use"
    return "choose_handle"


# -- configuration -------------------------------------------------------------------------


def is_insecure_url(url: str, allow_http: bool) -> bool:
    """Plain http is refused except on loopback, or when the instance is a test/dev one."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return False
    if parts.scheme != "http":
        return True
    host = parts.hostname or ""
    return not (allow_http or host in LOOPBACK_HOSTS or host.startswith("127."))


def provider_problem(config: ProviderConfig) -> str | None:
    """What makes this configuration unusable (a key the caller translates), or None."""
    if not SLUG_RE.match(config.slug):
        return "slug"
    if not config.label.strip():
        return "label"
    if not config.client_id.strip():
        return "client_id"
    if not config.discovery_url and not (config.authorize_url and config.token_url):
        return "endpoints"
    if not config.discovery_url and not config.is_oidc and not config.userinfo_url:
        return "userinfo"
    for url in (config.discovery_url, config.authorize_url, config.token_url,
                config.userinfo_url):
        if url and urlsplit(url).scheme not in {"http", "https"}:
            return "url"
    return None


PROVIDER_KEYS = {f for f in ProviderConfig.__dataclass_fields__ if f != "from_environment"}


def providers_from_document(data: Any, environ: dict[str, str]) -> list[ProviderConfig]:
    """Providers declared by the deployment: ``[[providers]]`` tables of a TOML/JSON file.

    ``client_secret_env`` names an environment variable holding the secret, so the file can
    be committed without it. Raises ValueError saying what is wrong.
    """
    if not isinstance(data, dict) or not isinstance(data.get("providers", []), list):
        raise ValueError("expected a list named 'providers'")
    found: list[ProviderConfig] = []
    for entry in data.get("providers", []):
        if not isinstance(entry, dict):
            raise ValueError("each provider must be a table")
        entry = dict(entry)
        secret_env = entry.pop("client_secret_env", None)
        if secret_env:
            if secret_env not in environ:
                raise ValueError(f"environment variable {secret_env} is not set")
            entry["client_secret"] = environ[secret_env]
        unknown = set(entry) - PROVIDER_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        try:
            config = ProviderConfig(**entry, from_environment=True)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        problem = provider_problem(config)
        if problem:
            raise ValueError(f"provider {config.slug!r}: bad or missing {problem}")
        if any(p.slug == config.slug for p in found):
            raise ValueError(f"provider {config.slug!r} is declared twice")
        found.append(config)
    return found
