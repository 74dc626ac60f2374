"""Instance administration use cases. Every one is recorded as an AdminAction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.accounts.models import ROLES, Account
from hub.admin.models import REGISTRATION_MODES, AdminAction, InstanceSettings
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.sealed import seal
from hub.urls import external_url

if TYPE_CHECKING:
    from hub.orgs.models import Invitation

#: Longest values the settings columns hold.
SETTINGS_LIMITS = {"name": 100, "description": 5000, "contact_email": 254}


def record_action(actor: Account | None, action: str, target_type: str = "",
                  target_id: int | None = None, **details: Any) -> AdminAction:
    row = AdminAction(actor_id=actor.id if actor else None, action=action,
                      target_type=target_type, target_id=target_id, details=details)
    db.session.add(row)
    return row


def _require_admin(actor: Account) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only instance administrators may do this."))


@dataclass(frozen=True)
class SettingsDraft:
    name: str
    description: str
    contact_email: str
    default_locale: str
    registration_mode: str
    org_creation: str
    #: Largest resource file in MB; None keeps the current value.
    max_upload_mb: int | None = None
    #: Pre-moderation: the first N contributions of a new account wait (0: none); None keeps.
    new_account_holds: int | None = None
    #: How long a moderation decision may be appealed; None keeps the current value.
    appeal_days: int | None = None


def update_settings(actor: Account, draft: SettingsDraft) -> InstanceSettings:
    _require_admin(actor)
    if draft.registration_mode not in REGISTRATION_MODES:
        raise ValidationFailed(_("Unknown registration mode."), field="registration_mode")
    if draft.default_locale not in {"fr", "en"}:
        raise ValidationFailed(_("Unknown language."), field="default_locale")
    if draft.org_creation not in {"anyone", "admins"}:
        raise ValidationFailed(_("Unknown choice."), field="org_creation")
    if not draft.name.strip():
        raise ValidationFailed(_("The name is required."), field="name")
    for field, limit in SETTINGS_LIMITS.items():
        if len(getattr(draft, field).strip()) > limit:
            raise ValidationFailed(_("Use at most %(n)d characters.", n=limit), field=field)
    email = draft.contact_email.strip()
    if email and ("@" not in email.strip("@") or any(c.isspace() for c in email)):
        raise ValidationFailed(_("This is not an e-mail address."), field="contact_email")
    if draft.max_upload_mb is not None and not 1 <= draft.max_upload_mb <= 1000:
        raise ValidationFailed(_("Give a number of megabytes between 1 and 1000."),
                               field="max_upload_mb")
    if draft.new_account_holds is not None and not 0 <= draft.new_account_holds <= 100:
        raise ValidationFailed(_("Give a number between 0 and 100."), field="new_account_holds")
    if draft.appeal_days is not None and not 1 <= draft.appeal_days <= 365:
        raise ValidationFailed(_("Give a number of days between 1 and 365."),
                               field="appeal_days")
    settings = ensure_settings()
    changes = {}
    for field in ("name", "description", "contact_email", "default_locale",
                  "registration_mode", "org_creation"):
        value = getattr(draft, field).strip()
        if getattr(settings, field) != value:
            changes[field] = value
            setattr(settings, field, value)
    if draft.max_upload_mb is not None and settings.max_upload_mb != draft.max_upload_mb:
        changes["max_upload_mb"] = draft.max_upload_mb
        settings.max_upload_mb = draft.max_upload_mb
    for field in ("new_account_holds", "appeal_days"):
        value = getattr(draft, field)
        if value is not None and getattr(settings, field) != value:
            changes[field] = value
            setattr(settings, field, value)
    record_action(actor, "instance.settings", "instance", 1, changed=sorted(changes))
    return settings


def ensure_settings() -> InstanceSettings:
    settings = db.session.get(InstanceSettings, 1)
    if settings is None:
        settings = InstanceSettings(id=1, default_locale=current_app.config["HUB_DEFAULT_LOCALE"])
        db.session.add(settings)
        db.session.flush()
    # ``instance_settings()`` may have cached an unsaved default for this request or job.
    g._hub_instance_settings = settings
    return settings


def _target(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or account.status == "deleted":
        raise NotFound(_("No such account."))
    return account


def approve(actor: Account, account_id: int) -> Account:
    from hub.accounts.services import send_confirmation
    from hub.admin.queries import instance_settings
    from hub.mail.services import queue_email

    _require_admin(actor)
    account = _target(account_id)
    if account.status != "pending":
        raise ValidationFailed(_("This account is not waiting for approval."))
    account.status = "active"
    record_action(actor, "account.approve", "account", account.id, handle=account.handle)
    if account.email:
        locale = account.locale or instance_settings().default_locale
        queue_email(account.email, "approved", locale, account=account,
                    url=external_url("accounts.login"))
        if account.email_confirmed_at is None:
            send_confirmation(account)
    return account


def reject(actor: Account, account_id: int) -> None:
    """Refuse a pending sign-up: the account goes, its handle is freed."""
    from hub.accounts.models import Handle

    _require_admin(actor)
    account = _target(account_id)
    if account.status != "pending":
        raise ValidationFailed(_("This account is not waiting for approval."))
    record_action(actor, "account.reject", "account", account.id, handle=account.handle)
    handle = db.session.get(Handle, account.handle_key)
    db.session.delete(account)
    db.session.flush()
    if handle is not None:
        db.session.delete(handle)


def suspend(actor: Account, account_id: int, reason: str = "") -> Account:
    _require_admin(actor)
    account = _target(account_id)
    if account.id == actor.id:
        raise ValidationFailed(_("You cannot suspend yourself."))
    if account.status == "suspended":
        raise ValidationFailed(_("This account is already suspended."))
    if account.status != "active":
        # Reinstating would then open a sign-up nobody approved: reject it instead.
        raise ValidationFailed(_("Only active accounts can be suspended."))
    account.status = "suspended"
    # Sessions and one-shot links die now, and stay dead if the account is reinstated.
    account.security_stamp = secrets.token_hex(16)
    record_action(actor, "account.suspend", "account", account.id, handle=account.handle,
                  reason=reason.strip()[:500])
    return account


def reinstate(actor: Account, account_id: int) -> Account:
    _require_admin(actor)
    account = _target(account_id)
    if account.status != "suspended":
        raise ValidationFailed(_("This account is not suspended."))
    account.status = "active"
    record_action(actor, "account.reinstate", "account", account.id, handle=account.handle)
    return account


def set_role(actor: Account, account_id: int, role: str) -> Account:
    _require_admin(actor)
    if role not in ROLES:
        raise ValidationFailed(_("Unknown role."), field="role")
    account = _target(account_id)
    if account.id == actor.id and role != "admin":
        raise ValidationFailed(_("You cannot remove your own administrator role."))
    if account.role == role:
        raise ValidationFailed(_("This account already has this role."), field="role")
    before, account.role = account.role, role
    record_action(actor, "account.set_role", "account", account.id, handle=account.handle,
                  before=before, after=role)
    return account


def invite_to_instance(actor: Account, email: str) -> Invitation:
    """Mail a single-use sign-up link (for "invitation only" mode); only its hash is stored."""
    from hub.accounts.queries import find_account_by_email
    from hub.admin.queries import instance_settings
    from hub.mail.services import queue_email
    from hub.orgs.models import Invitation
    from hub.orgs.services import hash_token

    _require_admin(actor)
    email = email.strip()
    if not email:
        raise ValidationFailed(_("Give an e-mail address."), field="email")
    if len(email) > 254 or "@" not in email.strip("@") or any(c.isspace() for c in email):
        raise ValidationFailed(_("This is not an e-mail address."), field="email")
    if find_account_by_email(email) is not None:
        raise ValidationFailed(_("An account already uses this e-mail address."), field="email")
    waiting = db.session.scalar(select(Invitation).where(
        Invitation.org_id.is_(None), Invitation.status == "pending",
        func.lower(Invitation.email) == email.lower(), Invitation.expires_at > utcnow()))
    if waiting is not None:
        raise ValidationFailed(_("An invitation is already waiting for an answer."),
                               field="email")
    token = secrets.token_urlsafe(32)
    hours = current_app.config["HUB_TOKEN_MAX_AGE_HOURS"]
    invitation = Invitation(org_id=None, inviter_id=actor.id, email=email, role="member",
                            token_hash=hash_token(token),
                            expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(invitation)
    db.session.flush()
    queue_email(email, "instance_invitation", instance_settings().default_locale,
                inviter=actor, hours=hours,
                url=external_url("accounts.register", invitation=token))
    record_action(actor, "instance.invite", "invitation", invitation.id, email=email)
    return invitation


def revoke_instance_invitation(actor: Account, invitation_id: int) -> None:
    from hub.orgs.models import Invitation

    _require_admin(actor)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id is not None or invitation.status != "pending":
        raise NotFound(_("No such invitation."))
    invitation.status = "revoked"
    invitation.responded_at = utcnow()
    record_action(actor, "instance.revoke_invitation", "invitation", invitation.id,
                  email=invitation.email)


# -- identity providers ----------------------------------------------------------------


PROVIDER_FIELDS = ("slug", "label", "discovery_url", "issuer", "authorize_url", "token_url",
                   "userinfo_url", "client_id", "client_secret", "scopes", "claim_subject",
                   "claim_handle", "claim_name", "claim_email", "allow_signup", "trust_email",
                   "is_enabled")


def _provider_message(problem: str) -> tuple[str, str | None]:
    return {
        "slug": (_("Use 1 to 40 lowercase letters, digits, - or _."), "slug"),
        "label": (_("The label is required."), "label"),
        "client_id": (_("The client id is required."), "client_id"),
        "endpoints": (_("Give a discovery URL, or the authorization and token endpoints."),
                      "discovery_url"),
        "userinfo": (_("A plain OAuth2 provider needs a userinfo endpoint."), "userinfo_url"),
        "url": (_("Addresses must start with https:// (or http:// on loopback)."),
                "discovery_url"),
        "insecure": (_("Addresses must start with https:// (or http:// on loopback)."),
                     "discovery_url"),
    }[problem]


def save_provider(actor: Account, provider_id: int | None, values: dict[str, Any]):
    """Create or change a provider row; an empty secret keeps the current one."""
    from hub.accounts.models import IdentityProvider
    from hub.accounts.oidc import ProviderConfig, is_insecure_url, provider_problem
    from hub.accounts.providers import clear_cache

    _require_admin(actor)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()
              if k in PROVIDER_FIELDS}
    row = None
    if provider_id is not None:
        row = db.session.get(IdentityProvider, provider_id)
        if row is None:
            raise NotFound(_("No such identity provider."))
        if not values.get("client_secret"):
            values["client_secret"] = row.client_secret
    problem = provider_problem(ProviderConfig(**values))
    allow_http = current_app.config["HUB_ENV"] in {"testing", "development"}
    if problem is None and any(is_insecure_url(values.get(k) or "https://x", allow_http)
                               for k in ("discovery_url", "authorize_url", "token_url",
                                         "userinfo_url")):
        problem = "insecure"
    if problem:
        message, field = _provider_message(problem)
        raise ValidationFailed(message, field=field)
    declared = {p.slug for p in current_app.config.get("HUB_OIDC_PROVIDER_LIST", ())}
    taken = db.session.scalar(select(IdentityProvider).where(
        IdentityProvider.slug == values["slug"]))
    if values["slug"] in declared or (taken is not None and taken is not row):
        raise ValidationFailed(_("Another provider uses this short name."), field="slug")
    if values.get("client_secret") and (row is None
                                        or values["client_secret"] != row.client_secret):
        values["client_secret"] = seal(values["client_secret"],
                                       current_app.config["SECRET_KEY"])
    if row is None:
        row = IdentityProvider(**values)
        db.session.add(row)
        action = "provider.create"
    else:
        for key, value in values.items():
            setattr(row, key, value)
        action = "provider.update"
    db.session.flush()
    clear_cache()
    record_action(actor, action, "provider", row.id, slug=row.slug)
    return row


def set_provider_only(actor: Account, provider_only: bool) -> InstanceSettings:
    _require_admin(actor)
    settings = ensure_settings()
    if settings.provider_only != provider_only:
        settings.provider_only = provider_only
        record_action(actor, "instance.provider_only", "instance", 1, enabled=provider_only)
    return settings
