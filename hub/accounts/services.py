"""Use cases that change accounts. They add and flush; the caller commits once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hub.accounts.handles import canonical_handle, display_handle, handle_problem
from hub.accounts.models import Account, Handle
from hub.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from hub.accounts.queries import (
    find_account_by_email,
    find_account_by_login,
    list_admins,
    list_links,
)
from hub.errors import Conflict, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.images import remove_image, store_image
from hub.mail.services import queue_email
from hub.models_base import utcnow
from hub.sanitize import render_markdown
from hub.tokens import TokenInvalid, make_token, read_token
from hub.urls import external_url


def handle_message(problem: str) -> str:
    return {
        "too_short": _("A handle needs at least 2 characters."),
        "too_long": _("A handle has at most 30 characters."),
        "alphabet": _("Use only letters a–z, digits and _ (no accents, spaces or symbols)."),
        "underscores": _("A handle cannot start or end with _ nor contain __."),
        "reserved": _("This handle is reserved."),
        "taken": _("This handle is already taken."),
    }[problem]


def claim_handle(raw: str, kind: str) -> tuple[str, str]:
    """Reserve a handle in the shared namespace; returns (as typed, canonical key)."""
    problem = handle_problem(raw)
    if problem:
        raise ValidationFailed(handle_message(problem), field="handle")
    key = canonical_handle(raw)
    if db.session.get(Handle, key) is not None:
        raise ValidationFailed(handle_message("taken"), field="handle")
    taken = handle_message("taken")  # translated now: the session is unusable after a failure
    db.session.add(Handle(key=key, kind=kind))
    try:
        # Flushed now, before the row that points to it. A concurrent claim of the same
        # handle becomes a form error; the caller rolls back as for any refusal. (No
        # savepoint: pysqlite commits on RELEASE outside an explicit BEGIN.)
        db.session.flush()
    except IntegrityError:
        raise ValidationFailed(taken, field="handle") from None
    return display_handle(raw), key


def check_password_strength(password: str, *, handle: str = "", email: str = "") -> None:
    problem = password_problem(password, handle=canonical_handle(handle) if handle else "",
                               email=email)
    if problem is None:
        return
    message = {
        "too_short": _("Use at least %(n)d characters.", n=MIN_LENGTH),
        "too_long": _("Use at most %(n)d characters.", n=MAX_LENGTH),
        "common": _("This password is too common or too simple: choose another one."),
        "personal": _("The password must not contain your handle or e-mail."),
    }[problem]
    raise ValidationFailed(message, field="password")


def _ensure_email_free(email: str, current: Account | None = None) -> str:
    email = email.strip()
    other = find_account_by_email(email)
    if other is not None and (current is None or other.id != current.id):
        raise ValidationFailed(_("An account already uses this e-mail address."), field="email")
    return email


def _new_stamp() -> str:
    return secrets.token_hex(16)


def _locale_of(account: Account) -> str:
    from hub.admin.queries import instance_settings

    return account.locale or instance_settings().default_locale




@dataclass(frozen=True)
class Registration:
    handle: str
    email: str
    password: str
    locale: str
    motivation: str = ""
    invitation_token: str = ""
    #: The "I accept the charter" box (needed once a charter is published).
    accepted_charter: bool = False


def register(draft: Registration) -> Account:
    """Create an account according to the registration mode; e-mails go after commit."""
    from hub.admin.queries import instance_settings
    from hub.orgs.services import invitation_for_signup

    if instance_settings().provider_only:
        raise PermissionDenied(_("On this instance, accounts are created by signing in with "
                                 "an identity provider."))
    mode = instance_settings().registration_mode
    invitation = None
    if draft.invitation_token:
        invitation = invitation_for_signup(draft.invitation_token)
    if mode == "closed" and invitation is None:
        raise PermissionDenied(_("Registrations are closed on this instance."))
    if mode == "invitation" and invitation is None:
        raise PermissionDenied(_("Registrations on this instance need an invitation."))
    if mode == "approval" and invitation is None and not draft.motivation.strip():
        raise ValidationFailed(_("Tell the administrators why you want to join."),
                               field="motivation")
    from hub.moderation.charter import accept_current, current_version

    if current_version() is not None and not draft.accepted_charter:
        raise ValidationFailed(_("Accept the charter to join."), field="charter")
    email = _ensure_email_free(draft.email)
    check_password_strength(draft.password, handle=draft.handle, email=email)
    handle, key = claim_handle(draft.handle, "account")
    needs_approval = mode == "approval" and invitation is None
    account = Account(
        handle=handle, handle_key=key, email=email, password_hash=hash_password(draft.password),
        security_stamp=_new_stamp(), locale=draft.locale, role="user",
        status="pending" if needs_approval else "active",
        approval_motivation=draft.motivation.strip()[:2000] if needs_approval else "",
    )
    db.session.add(account)
    db.session.flush()
    accept_current(account)  # the version the box was ticked for, stored with the time
    if invitation is not None and invitation.email and \
            invitation.email.lower() == email.lower():
        # The invitation link came to this address: it is confirmed already.
        account.email_confirmed_at = utcnow()
    else:
        send_confirmation(account)
    if invitation is not None:
        invitation.account_id = account.id
        if invitation.org_id is None:
            # An invitation to the instance is spent by the sign-up itself (an organisation's
            # is accepted afterwards, once logged in).
            invitation.status = "accepted"
            invitation.responded_at = utcnow()
    if needs_approval:
        for admin in list_admins():
            if admin.email:
                queue_email(admin.email, "approval_requested", _locale_of(admin),
                            account=account, url=external_url("admin.accounts", status="pending"))
    return account


def send_confirmation(account: Account) -> None:
    address = account.pending_email or account.email
    assert address is not None
    token = make_token("confirm", {"id": account.id, "email": address})
    queue_email(address, "confirm_email", _locale_of(account), account=account,
                url=external_url("accounts.confirm_email", token=token))


def resend_confirmation(email: str) -> None:
    """Mail a new confirmation link if this address waits for one; say nothing either way."""
    account = find_account_by_email(email.strip())
    if account is not None and account.email_confirmed_at is None and \
            account.status in {"active", "pending"}:
        send_confirmation(account)


def confirm_email(token: str) -> Account:
    try:
        data = read_token("confirm", token)
    except TokenInvalid as exc:
        raise ValidationFailed(_("This confirmation link has expired.") if exc.reason ==
                               "expired" else _("This confirmation link is not valid.")) from None
    account = db.session.get(Account, data.get("id"))
    if account is None or account.status == "deleted":
        raise ValidationFailed(_("This confirmation link is not valid."))
    address = data.get("email")
    if account.pending_email and address == account.pending_email:
        _ensure_email_free(address, account)
        account.email = address
        account.pending_email = None
        account.security_stamp = _new_stamp()
    elif address != account.email:
        raise ValidationFailed(_("This confirmation link is not valid."))
    account.email_confirmed_at = utcnow()
    return account


class LoginRefused(ValidationFailed):
    def __init__(self, message: str, reason: str, account: Account | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.account = account


def authenticate(identifier: str, password: str) -> Account:
    """The account these credentials open, or LoginRefused saying why (never which part)."""
    account = find_account_by_login(identifier)
    # Always check a hash (a dummy one when there is no account), so the time taken does
    # not tell which handles and addresses exist.
    valid = verify_password(account.password_hash if account else None, password)
    if account is None or account.status == "deleted" or not valid:
        raise LoginRefused(_("Wrong handle, e-mail or password."), "credentials")
    if account.status == "suspended":
        raise LoginRefused(_("This account is suspended."), "suspended", account)
    from hub.admin.queries import instance_settings

    if instance_settings().provider_only and account.role != "admin":
        raise LoginRefused(_("Passwords are disabled on this instance: sign in with an "
                             "identity provider."), "provider_only", account)
    if account.status == "pending":
        raise LoginRefused(_("Your registration is waiting for an administrator's approval."),
                           "pending", account)
    if account.email_confirmed_at is None:
        raise LoginRefused(_("Please confirm your e-mail address first: we sent you a link."),
                           "unconfirmed", account)
    if needs_rehash(account.password_hash or ""):
        account.password_hash = hash_password(password)
    account.last_login_at = utcnow()
    return account


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address is known; say nothing either way."""
    account = find_account_by_email(email.strip())
    if account is None or account.status in {"deleted", "suspended"}:
        return
    token = make_token("reset", {"id": account.id, "stamp": account.security_stamp})
    queue_email(account.email or "", "password_reset", _locale_of(account), account=account,
                url=external_url("accounts.reset_password", token=token))


def _account_for_reset(token: str) -> Account:
    try:
        data = read_token("reset", token)
    except TokenInvalid as exc:
        raise ValidationFailed(_("This reset link has expired.") if exc.reason == "expired"
                               else _("This reset link is not valid.")) from None
    account = db.session.get(Account, data.get("id"))
    if account is None or account.security_stamp != data.get("stamp") or \
            account.status in {"deleted", "suspended"}:
        raise ValidationFailed(_("This reset link has already been used or is not valid."))
    return account


def check_reset_token(token: str) -> Account:
    return _account_for_reset(token)


def reset_password(token: str, password: str) -> Account:
    account = _account_for_reset(token)
    check_password_strength(password, handle=account.handle, email=account.email or "")
    account.password_hash = hash_password(password)
    account.security_stamp = _new_stamp()
    # Following the link proves the address works.
    account.email_confirmed_at = account.email_confirmed_at or utcnow()
    return account


def change_password(account: Account, current: str, new: str) -> None:
    if not verify_password(account.password_hash, current):
        raise ValidationFailed(_("The current password is wrong."), field="current_password")
    check_password_strength(new, handle=account.handle, email=account.email or "")
    account.password_hash = hash_password(new)
    account.security_stamp = _new_stamp()


def confirm_identity(account: Account, secret: str) -> None:
    """The password, or — for accounts that only sign in through a provider — the handle."""
    if account.password_hash is None:
        if canonical_handle(secret) != account.handle_key:
            raise ValidationFailed(_("Type your handle to confirm."), field="current_password")
        return
    if not verify_password(account.password_hash, secret):
        raise ValidationFailed(_("The current password is wrong."), field="current_password")


def change_email(account: Account, password: str, new_email: str) -> None:
    """The new address is used once confirmed; the old one is told of the change."""
    confirm_identity(account, password)
    new_email = _ensure_email_free(new_email, account)
    if account.email and new_email.lower() == account.email.lower():
        raise ValidationFailed(_("This is already your address."), field="email")
    account.pending_email = new_email
    send_confirmation(account)
    if account.email:
        queue_email(account.email, "email_change_notice", _locale_of(account), account=account,
                    new_email=new_email)


@dataclass(frozen=True)
class ProfileChange:
    display_name: str
    bio: str
    locale: str | None
    #: IANA time zone ("" keeps the current one): scheduled posts are entered on this clock.
    timezone: str = ""


def update_profile(account: Account, change: ProfileChange, avatar: IO[bytes] | None = None,
                   remove_avatar: bool = False) -> None:
    account.display_name = change.display_name.strip()[:100]
    account.bio_source = change.bio[:5000]
    account.bio_html = render_markdown(account.bio_source)
    account.locale = change.locale or None
    if change.timezone:
        from zoneinfo import available_timezones

        if change.timezone not in available_timezones():
            raise ValidationFailed(_("Unknown time zone."), field="timezone")
        account.timezone = change.timezone
    media = Path(current_app.config["HUB_MEDIA_PATH"])
    if avatar is not None:
        new_path = store_image(avatar, "avatar", media)
        remove_image(account.avatar_path, media)
        account.avatar_path = new_path
    elif remove_avatar:
        remove_image(account.avatar_path, media)
        account.avatar_path = None


def delete_account(account: Account, password: str, keep_content: bool) -> None:
    """Anonymise the account; the handle stays reserved so nobody can impersonate it.

    With ``keep_content`` what the person published stays, shown as from a deleted account;
    otherwise it is removed with them. Sole owners must hand over their organisations first.
    """
    from hub.orgs.models import Membership
    from hub.orgs.services import sole_owned_organisations

    confirm_identity(account, password)
    orgs = sole_owned_organisations(account)
    if orgs:
        names = ", ".join(org.name for org in orgs)
        raise Conflict(_("You are the only owner of %(names)s: transfer ownership first.",
                         names=names))
    media = Path(current_app.config["HUB_MEDIA_PATH"])
    remove_image(account.avatar_path, media)
    db.session.execute(delete(Membership).where(Membership.account_id == account.id))
    from hub.orgs.models import Invitation

    db.session.execute(delete(Invitation).where(Invitation.account_id == account.id,
                                                Invitation.status == "pending"))
    from hub.content.account_cleanup import forget_account

    forget_account(account)
    if not keep_content:
        delete_published_content(account)
    from hub.accounts.models import LinkedIdentity

    # The provider identities no longer open anything; the person may join again with them.
    db.session.execute(delete(LinkedIdentity).where(LinkedIdentity.account_id == account.id))
    account.status = "deleted"
    account.deleted_at = utcnow()
    account.email = None
    account.pending_email = None
    account.password_hash = None
    account.display_name = ""
    account.bio_source = account.bio_html = ""
    account.avatar_path = None
    account.approval_motivation = ""
    account.security_stamp = _new_stamp()


def delete_published_content(account: Account) -> None:
    """Remove what the account authored. Content types register here as they arrive."""
    from hub.orgs.models import Organisation

    # Organisations it founded stay (others own them now); only the link to it goes.
    for org in db.session.scalars(select(Organisation).where(
            Organisation.created_by_id == account.id)):
        org.created_by_id = None
    from hub.content.account_cleanup import remove_authored_content

    remove_authored_content(account)


def export_data(account: Account) -> dict[str, Any]:
    """Everything the hub holds about the person, as one JSON-ready document."""
    from hub.orgs.models import Invitation, Membership

    memberships = db.session.scalars(select(Membership).where(
        Membership.account_id == account.id)).all()
    invitations = db.session.scalars(select(Invitation).where(
        Invitation.account_id == account.id)).all()
    return {
        "format": "maillage-account-export",
        "version": 1,
        "exported_at": utcnow().isoformat(),
        "account": {
            "handle": account.handle,
            "email": account.email,
            "email_confirmed_at": _iso(account.email_confirmed_at),
            "display_name": account.display_name,
            "bio": account.bio_source,
            "locale": account.locale,
            "role": account.role,
            "status": account.status,
            "created_at": _iso(account.created_at),
            "last_login_at": _iso(account.last_login_at),
            "avatar": account.avatar_path and external_url("main.media", name=account.avatar_path),
        },
        "memberships": [
            {"organisation": m.org.handle, "name": m.org.name, "role": m.role,
             "since": _iso(m.created_at)} for m in memberships
        ],
        "invitations": [
            {"organisation": i.org.handle if i.org else None, "role": i.role,
             "status": i.status, "created_at": _iso(i.created_at)} for i in invitations
        ],
        "sign_in_providers": [
            {"provider": link.provider_slug, "issuer": link.issuer, "subject": link.subject,
             "linked_at": _iso(link.created_at), "last_login_at": _iso(link.last_login_at)}
            for link in list_links(account)
        ],
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None
