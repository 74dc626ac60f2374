"""Use cases for organisations and memberships. They add and flush; the caller commits.

Every refusal is a PermissionDenied (403) raised before anything changes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.accounts.handles import canonical_handle
from hub.accounts.models import Account
from hub.accounts.queries import find_account_by_email, find_account_by_handle
from hub.admin.services import record_action
from hub.content.models import Tag
from hub.content.search import index as search_index
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.images import remove_image, store_image
from hub.mail.services import queue_email
from hub.models_base import utcnow
from hub.orgs.models import ORG_ROLES, Invitation, Membership, Organisation
from hub.orgs.permissions import can, can_grant
from hub.orgs.queries import count_owners, find_membership, role_of
from hub.sanitize import render_markdown
from hub.urls import external_url


def _require(action: str, actor: Account, org: Organisation) -> str | None:
    role = role_of(org, actor)
    if not can(action, role, instance_admin=actor.is_admin):
        raise PermissionDenied(_("You are not allowed to do this in this organisation."))
    return role


def may_found(actor: Account) -> bool:
    from hub.admin.queries import instance_settings

    if actor.status != "active":
        return False
    return instance_settings().org_creation == "anyone" or actor.is_admin


@dataclass(frozen=True)
class OrgDraft:
    name: str
    summary: str = ""
    description: str = ""
    website: str = ""
    contact_email: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    themes: str = ""


def found_organisation(actor: Account, handle: str, draft: OrgDraft) -> Organisation:
    """Create an organisation with the founder as its first owner."""
    from hub.accounts.services import claim_handle

    if not may_found(actor):
        raise PermissionDenied(_("Only administrators may found organisations here."))
    typed, key = claim_handle(handle, "organisation")
    org = Organisation(handle=typed, handle_key=key, created_by_id=actor.id)
    _apply_draft(org, draft)
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(org_id=org.id, account_id=actor.id, role="owner"))
    record_action(actor, "org.found", "organisation", org.id, handle=org.handle)
    search_index.sync("organisation", org)
    return org


def update_organisation(actor: Account, org: Organisation, draft: OrgDraft,
                        logo: IO[bytes] | None = None, banner: IO[bytes] | None = None,
                        remove_logo: bool = False, remove_banner: bool = False) -> None:
    _require("edit", actor, org)
    _apply_draft(org, draft)
    media = Path(current_app.config["HUB_MEDIA_PATH"])
    # Store every upload before deleting anything: a bad banner after a good logo must
    # leave the old files in place (the transaction is rolled back and still points to them).
    stored: dict[str, str] = {}
    try:
        for kind, upload in (("logo", logo), ("banner", banner)):
            if upload is not None:
                stored[kind] = store_image(upload, kind, media)
    except ValidationFailed:
        for path in stored.values():
            remove_image(path, media)
        raise
    for kind, remove in (("logo", remove_logo), ("banner", remove_banner)):
        attr = f"{kind}_path"
        if kind in stored or remove:
            remove_image(getattr(org, attr), media)
            setattr(org, attr, stored.get(kind))
    record_action(actor, "org.edit", "organisation", org.id)
    search_index.sync("organisation", org)


WEBSITE_RE = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _apply_draft(org: Organisation, draft: OrgDraft) -> None:
    name = draft.name.strip()
    if not name:
        raise ValidationFailed(_("The name is required."), field="name")
    if (draft.latitude is None) != (draft.longitude is None):
        raise ValidationFailed(_("Give both latitude and longitude, or neither."),
                               field="latitude")
    if draft.latitude is not None and not -90 <= draft.latitude <= 90:
        raise ValidationFailed(_("Latitude must be between -90 and 90."), field="latitude")
    if draft.longitude is not None and not -180 <= draft.longitude <= 180:
        raise ValidationFailed(_("Longitude must be between -180 and 180."), field="longitude")
    org.name = name[:120]
    org.name_key = name.lower()[:120]
    org.summary = draft.summary.strip()[:300]
    org.description_source = draft.description[:20000]
    org.description_html = render_markdown(org.description_source)
    website = draft.website.strip()
    if website and not WEBSITE_RE.match(website):
        # Anything else (javascript:, data:…) would be a live link on the page.
        raise ValidationFailed(_("Give a web address starting with https:// or http://."),
                               field="website")
    contact_email = draft.contact_email.strip()
    if contact_email and not EMAIL_RE.match(contact_email):
        raise ValidationFailed(_("This e-mail address is not valid."), field="contact_email")
    org.website = website[:300]
    org.contact_email = contact_email[:254]
    org.address = draft.address.strip()[:300]
    org.latitude, org.longitude = draft.latitude, draft.longitude
    org.themes = themes_from_text(draft.themes)


def themes_from_text(text: str) -> list[Tag]:
    """Comma-separated labels (a leading # allowed) to Tag rows, created when new."""
    from hub.content.themes import resolve_themes, split_labels

    return resolve_themes(split_labels(text), limit=10)


# -- invitations --------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """What an invitation row stores of its secret: the SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite(actor: Account, org: Organisation, who: str, role: str = "member") -> Invitation:
    """Invite by handle or e-mail; mails a single-use link that expires."""
    _require("invite", actor, org)
    if role not in ORG_ROLES:
        raise ValidationFailed(_("Unknown role."), field="role")
    if not can_grant(role_of(org, actor), role, instance_admin=actor.is_admin):
        raise PermissionDenied(_("Only owners may invite owners."))
    who = who.strip()
    if not who:
        raise ValidationFailed(_("Give a handle or an e-mail address."), field="who")
    invitee: Account | None
    if "@" in who.lstrip("@"):
        if not EMAIL_RE.match(who):
            raise ValidationFailed(_("This e-mail address is not valid."), field="who")
        invitee = find_account_by_email(who)
        email = who
    else:
        invitee = find_account_by_handle(who)
        if invitee is None or invitee.status == "deleted":
            raise ValidationFailed(_("Nobody has the handle @%(handle)s here.",
                                     handle=canonical_handle(who)), field="who")
        email = invitee.email
    if invitee is not None and find_membership(org, invitee) is not None:
        raise Conflict(_("@%(handle)s is already a member.", handle=invitee.handle))
    if invitee is not None and invitee.status == "suspended":
        raise ValidationFailed(_("This account is suspended."), field="who")
    existing = db.session.scalar(select(Invitation).where(
        Invitation.org_id == org.id, Invitation.status == "pending",
        (Invitation.account_id == invitee.id) if invitee is not None
        else (func.lower(Invitation.email) == email.lower())))
    if existing is not None and existing.expires_at > utcnow():
        raise Conflict(_("An invitation is already waiting for an answer."))
    token = secrets.token_urlsafe(32)
    hours = current_app.config["HUB_TOKEN_MAX_AGE_HOURS"]
    invitation = Invitation(
        org_id=org.id, inviter_id=actor.id, account_id=invitee.id if invitee else None,
        email=email, role=role, token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(invitation)
    db.session.flush()
    if email:
        from hub.admin.queries import instance_settings

        locale = (invitee.locale if invitee else None) or instance_settings().default_locale
        queue_email(email, "invitation", locale, org=org, inviter=actor, role=role,
                    url=external_url("orgs.invitation", token=token), hours=hours)
    if invitee is not None:  # an existing account also sees it in its notifications
        from urllib.parse import urlsplit

        from hub.notifications.services import notify

        # The token is never stored: the notification opens the dashboard, which lists
        # the invitations waiting; the e-mail above already carries the link to answer.
        notify(invitee, "invitation", actor=actor, target_type="invitation",
               target_id=invitation.id, excerpt=org.name, send_email=False,
               url=urlsplit(external_url("accounts.dashboard")).path + "#inv-title")
    record_action(actor, "org.invite", "organisation", org.id, role=role,
                  invitee=invitee.handle if invitee else "e-mail")
    invitation.token = token  # type: ignore[attr-defined]  # for the caller, never stored
    return invitation


def get_invitation(token: str) -> Invitation:
    """A pending invitation from its link, or a clear refusal if used, declined or expired."""
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    if invitation.status != "pending":
        raise ValidationFailed(_("This invitation has already been used."))
    if invitation.expires_at <= utcnow():
        raise ValidationFailed(_("This invitation has expired. Ask for a new one."))
    return invitation


def invitation_for_signup(token: str) -> Invitation:
    invitation = get_invitation(token)
    if invitation.account_id is not None:
        # Already tied to an account (the invitee had one, or signed up with this link):
        # one invitation opens at most one account.
        raise ValidationFailed(_("This invitation has already been used."))
    return invitation


def _check_invitee(invitation: Invitation, actor: Account) -> None:
    if invitation.account_id is not None and invitation.account_id != actor.id:
        raise PermissionDenied(_("This invitation is for another account."))


def open_invitation(actor: Account, token: str) -> Invitation:
    """The pending invitation behind a link, for the logged-in person it is meant for."""
    invitation = get_invitation(token)
    _check_invitee(invitation, actor)
    return invitation


def accept_invitation(actor: Account, token: str) -> Membership:
    invitation = get_invitation(token)
    _check_invitee(invitation, actor)
    if invitation.org_id is None:
        raise ValidationFailed(_("This invitation is for signing up, not for an organisation."))
    org = invitation.org
    assert org is not None
    membership = find_membership(org, actor)
    if membership is None:
        membership = Membership(org_id=org.id, account_id=actor.id, role=invitation.role)
        db.session.add(membership)
    invitation.status = "accepted"
    invitation.account_id = actor.id
    invitation.responded_at = utcnow()
    db.session.flush()
    record_action(actor, "org.join", "organisation", org.id, role=invitation.role)
    return membership


def decline_invitation(actor: Account, token: str) -> None:
    invitation = get_invitation(token)
    _check_invitee(invitation, actor)
    invitation.status = "declined"
    invitation.account_id = actor.id
    invitation.responded_at = utcnow()


def revoke_invitation(actor: Account, org: Organisation, invitation_id: int) -> None:
    _require("revoke_invitation", actor, org)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != org.id or invitation.status != "pending":
        raise NotFound(_("No such invitation."))
    invitation.status = "revoked"
    invitation.responded_at = utcnow()
    record_action(actor, "org.revoke_invitation", "organisation", org.id,
                  invitation=invitation.id)


# -- memberships -------------------------------------------------------------------------


def _member(org: Organisation, account_id: int) -> Membership:
    membership = db.session.scalar(select(Membership).where(
        Membership.org_id == org.id, Membership.account_id == account_id))
    if membership is None:
        raise NotFound(_("This person is not a member."))
    return membership


def change_role(actor: Account, org: Organisation, account_id: int, role: str) -> None:
    actor_role = _require("change_role", actor, org)
    if role not in ORG_ROLES:
        raise ValidationFailed(_("Unknown role."), field="role")
    membership = _member(org, account_id)
    if not can_grant(actor_role, role, instance_admin=actor.is_admin,
                     current_role=membership.role):
        raise PermissionDenied(_("Only owners may make or unmake owners."))
    if membership.role == "owner" and role != "owner" and count_owners(org) <= 1:
        raise Conflict(_("An organisation always keeps at least one owner."))
    previous, membership.role = membership.role, role
    record_action(actor, "org.change_role", "organisation", org.id,
                  account=membership.account.handle, before=previous, after=role)


def remove_member(actor: Account, org: Organisation, account_id: int) -> None:
    actor_role = _require("remove_member", actor, org)
    membership = _member(org, account_id)
    if membership.role == "owner" and not (actor_role == "owner" or actor.is_admin):
        raise PermissionDenied(_("Only owners may remove an owner."))
    if membership.role == "owner" and count_owners(org) <= 1:
        raise Conflict(_("An organisation always keeps at least one owner."))
    handle = membership.account.handle
    db.session.delete(membership)
    record_action(actor, "org.remove_member", "organisation", org.id, account=handle)


def leave(actor: Account, org: Organisation) -> None:
    membership = find_membership(org, actor)
    if membership is None:
        raise PermissionDenied(_("You are not a member of this organisation."))
    if membership.role == "owner" and count_owners(org) <= 1:
        raise Conflict(_("You are the only owner: transfer ownership before leaving."))
    db.session.delete(membership)
    record_action(actor, "org.leave", "organisation", org.id)


def transfer_ownership(actor: Account, org: Organisation, account_id: int) -> None:
    """The chosen member becomes owner; the actor steps down to admin."""
    _require("transfer_ownership", actor, org)
    target = _member(org, account_id)
    if target.account_id == actor.id:
        raise ValidationFailed(_("You already own this organisation."))
    if target.account.status != "active":
        raise ValidationFailed(_("This account cannot receive ownership."))
    target.role = "owner"
    mine = find_membership(org, actor)
    if mine is not None and mine.role == "owner":
        mine.role = "admin"
    record_action(actor, "org.transfer_ownership", "organisation", org.id,
                  to=target.account.handle)


def sole_owned_organisations(account: Account) -> list[Organisation]:
    """Organisations where this account is the only owner (it must hand them over first)."""
    owned = db.session.scalars(select(Membership).where(
        Membership.account_id == account.id, Membership.role == "owner")).all()
    return [m.org for m in owned if count_owners(m.org) <= 1]
