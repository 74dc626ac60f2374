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
    settings = ensure_settings()
    changes = {}
    for field in ("name", "description", "contact_email", "default_locale",
                  "registration_mode", "org_creation"):
        value = getattr(draft, field).strip()
        if getattr(settings, field) != value:
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
