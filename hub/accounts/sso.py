"""Signing in with an identity provider: start, finish, first sign-in, link and unlink.

Services: they take the acting account (when there is one), add and flush, never commit,
and never read the request or the session; the views keep the pending sign-in in the
browser's session and hand it over.
"""

from __future__ import annotations

import logging
import time

from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.accounts.models import Account, LinkedIdentity
from hub.accounts.oidc import (
    Identity,
    OIDCError,
    PendingLogin,
    authorization_url,
    check_callback,
    new_pending_login,
    signup_step,
)
from hub.accounts.providers import endpoints_of, exchange_code, find_provider
from hub.accounts.queries import find_account_by_email, find_link
from hub.errors import Conflict, HubError, NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.urls import external_url

log = logging.getLogger(__name__)

#: How long the person may take at the provider, then to choose a handle (seconds).
MAX_PENDING_AGE = 900


class SignInFailed(HubError):
    """A sign-in with a provider that failed; nothing was created. 502 when the provider
    could not be reached, 400 otherwise."""

    def __init__(self, reason: str) -> None:
        super().__init__(failure_message(reason))
        self.reason = reason
        self.status = 502 if reason == "unreachable" else 400


def failure_message(reason: str) -> str:
    return {
        "denied": _("You did not allow this instance to use your identity at the provider, "
                    "so you are not signed in."),
        "provider_error": _("The identity provider reported an error. Please try again."),
        "state": _("This sign-in is not the one that was started in this browser, or it took "
                   "too long. Please start again from the login page."),
        "issuer": _("The answer came from another identity provider than the one asked. "
                    "Please start again from the login page."),
        "no_code": _("The identity provider sent no authorization code. Please try again."),
        "code": _("The identity provider refused the sign-in code: it has expired or was "
                  "already used. Please start again from the login page."),
        "unreachable": _("The identity provider cannot be reached right now. Please try again "
                         "in a few minutes."),
        "id_token": _("The identity provider's answer could not be verified, so you are not "
                      "signed in."),
        "nonce": _("The identity provider's answer does not belong to this sign-in, so you "
                   "are not signed in."),
        "claims": _("The identity provider did not say who you are, so you are not "
                    "signed in."),
        "insecure": _("This identity provider is configured with an unencrypted (http) "
                      "address; an administrator must fix it."),
        "config": _("This identity provider is misconfigured; an administrator must fix it."),
    }.get(reason, _("The sign-in failed. Please try again."))


def _provider(slug: str):
    provider = find_provider(slug)
    if provider is None:
        raise NotFound(_("No such identity provider."))
    return provider


def redirect_uri() -> str:
    """The one callback address to register at every provider."""
    return external_url("sso.callback")


def begin(slug: str, purpose: str, next_url: str = "") -> tuple[str, PendingLogin]:
    """The provider's login page to send the browser to, and what to keep until it returns."""
    provider = _provider(slug)
    pending = new_pending_login(provider.slug, purpose, next_url, time.time())
    try:
        url = authorization_url(provider, endpoints_of(provider), pending, redirect_uri())
    except OIDCError as exc:
        raise SignInFailed(exc.reason) from None
    except ValueError:  # oauthlib refuses http endpoints (InsecureTransportError)
        raise SignInFailed("insecure") from None
    return url, pending


def finish(pending: PendingLogin | None, params: dict[str, str]) -> Identity:
    """Check the callback and trade its code for a verified identity, or SignInFailed."""
    now = time.time()
    try:
        if pending is None:
            raise OIDCError("state")
        provider = find_provider(pending.provider)
        if provider is None:
            raise OIDCError("state", "provider gone")
        endpoints = endpoints_of(provider)
        code = check_callback(params, pending, endpoints, now, max_age=MAX_PENDING_AGE)
        return exchange_code(provider, endpoints, pending, code, redirect_uri(), now)
    except OIDCError as exc:
        log.info("sign-in with %s failed: %s", pending.provider if pending else "?", exc)
        raise SignInFailed(exc.reason) from None


def sign_in(identity: Identity) -> Account | None:
    """The account linked to this identity (logged in now), or None when the person may
    create one (they choose a handle next); PermissionDenied or Conflict otherwise."""
    from hub.admin.queries import instance_settings

    provider = _provider(identity.provider)
    link = find_link(identity)
    owner = find_account_by_email(identity.email) if identity.email and not link else None
    step = signup_step(linked_account_id=link.account_id if link else None,
                       allow_signup=provider.allow_signup,
                       registrations_closed=instance_settings().registration_mode == "closed",
                       email_owner_id=owner.id if owner else None)
    if step == "refused":
        raise PermissionDenied(_("No account on this instance is linked to your %(provider)s "
                                 "identity, and new accounts cannot be created through it. "
                                 "If you have an account, log in and link %(provider)s from "
                                 "your settings.", provider=provider.label))
    if step == "email_in_use":
        raise Conflict(_("An account of this instance already uses the e-mail address "
                         "%(provider)s gave. If it is yours, log in with it, then link "
                         "%(provider)s from your account settings.", provider=provider.label))
    if step == "choose_handle":
        return None
    assert link is not None
    account = db.session.get(Account, link.account_id)
    if account is None or account.status != "active":
        if account is not None and account.status == "pending":
            raise PermissionDenied(_("Your registration is waiting for an administrator's "
                                     "approval."))
        raise PermissionDenied(_("This account is suspended or closed."))
    link.last_login_at = account.last_login_at = utcnow()
    return account


def create_account(identity: Identity, handle: str, accepted_charter: bool,
                   locale: str) -> Account:
    """A new account for a first sign-in, linked to the identity, logged in by the caller."""
    from hub.accounts.services import claim_handle

    provider = _provider(identity.provider)
    if sign_in(identity) is not None:  # linked meanwhile (another tab): nothing to create
        raise Conflict(_("This identity is already linked to an account: log in again."))
    if not accepted_charter:
        raise ValidationFailed(_("Accept the instance charter to join."), field="charter")
    typed, key = claim_handle(handle, "account")
    if identity.email and find_account_by_email(identity.email) is not None:
        raise Conflict(_("An account already uses this e-mail address."))
    now = utcnow()
    account = Account(
        handle=typed, handle_key=key, email=identity.email or None, password_hash=None,
        security_stamp=_stamp(), locale=locale, role="user", status="active",
        display_name=identity.display_name[:100], last_login_at=now,
        email_confirmed_at=now if identity.email and provider.trust_email and
        identity.email_verified else None)
    # A provider that does not assert verified addresses gets no say: with trust_email off,
    # or email_verified false, the address waits for its confirmation link like any other.
    db.session.add(account)
    db.session.flush()
    from hub.moderation.charter import accept_current

    accept_current(account)  # what the box ticked above says
    db.session.add(LinkedIdentity(account_id=account.id, provider_slug=provider.slug,
                                  issuer=identity.issuer, subject=identity.subject,
                                  last_login_at=now))
    db.session.flush()
    if account.email and account.email_confirmed_at is None:
        from hub.accounts.services import send_confirmation

        send_confirmation(account)
    return account


def _stamp() -> str:
    import secrets

    return secrets.token_hex(16)


def link(account: Account, identity: Identity) -> LinkedIdentity:
    """Link a provider identity to the logged-in account (the only way to link one)."""
    _provider(identity.provider)
    existing = find_link(identity)
    if existing is not None:
        if existing.account_id == account.id:
            raise Conflict(_("This identity is already linked to your account."))
        raise Conflict(_("This identity is already linked to another account."))
    row = LinkedIdentity(account_id=account.id, provider_slug=identity.provider,
                         issuer=identity.issuer, subject=identity.subject)
    db.session.add(row)
    db.session.flush()
    return row


def has_usable_password(account: Account) -> bool:
    from hub.admin.queries import instance_settings

    if not account.password_hash:
        return False
    return account.role == "admin" or not instance_settings().provider_only


def unlink(account: Account, link_id: int) -> LinkedIdentity:
    """Remove a linked identity, unless it is the account's last way to log in."""
    row = db.session.get(LinkedIdentity, link_id)
    if row is None or row.account_id != account.id:
        raise NotFound(_("No such linked identity."))
    others = db.session.scalar(select(func.count()).select_from(LinkedIdentity).where(
        LinkedIdentity.account_id == account.id, LinkedIdentity.id != row.id))
    if not others and not has_usable_password(account):
        raise PermissionDenied(_("This is your only way to log in: link another provider "
                                 "first."))
    db.session.delete(row)
    db.session.flush()
    return row
