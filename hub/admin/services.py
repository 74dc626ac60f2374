"""Instance administration use cases. Every one is recorded as an AdminAction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _

from hub.accounts.models import ROLES, Account
from hub.admin.models import REGISTRATION_MODES, AdminAction, InstanceSettings
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db


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
    return settings


def _target(account_id: int) -> Account:
    account = db.session.get(Account, account_id)
    if account is None or account.status == "deleted":
        raise ValidationFailed(_("No such account."))
    return account


def approve(actor: Account, account_id: int) -> Account:
    from hub.accounts.services import send_confirmation
    from hub.mail.services import queue_email

    _require_admin(actor)
    account = _target(account_id)
    if account.status != "pending":
        raise ValidationFailed(_("This account is not waiting for approval."))
    account.status = "active"
    record_action(actor, "account.approve", "account", account.id, handle=account.handle)
    if account.email:
        queue_email(account.email, "approved", account.locale or "fr", account=account,
                    url=current_app.config["HUB_BASE_URL"] + url_for("accounts.login"))
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
    account.status = "suspended"
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
    before, account.role = account.role, role
    record_action(actor, "account.set_role", "account", account.id, handle=account.handle,
                  before=before, after=role)
    return account
