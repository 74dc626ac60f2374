"""Reads of organisations and memberships; they own eager loading and ordering."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.accounts.handles import canonical_handle
from hub.accounts.models import Account
from hub.content.models import Tag
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond
from hub.orgs.models import Invitation, Membership, Organisation, org_theme


def find_organisation(handle: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(Organisation.handle_key == canonical_handle(handle))
        .options(selectinload(Organisation.themes))
    )


def get_organisation(handle: str) -> Organisation:
    org = find_organisation(handle)
    if org is None:
        raise NotFound("organisation")
    return org


def find_membership(org: Organisation, account: Account | None) -> Membership | None:
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    return db.session.scalar(select(Membership).where(
        Membership.org_id == org.id, Membership.account_id == account.id))


def role_of(org: Organisation, account: Account | None) -> str | None:
    membership = find_membership(org, account)
    return membership.role if membership else None


ROLE_ORDER = {"owner": 0, "admin": 1, "editor": 2, "member": 3}


def list_members(org: Organisation) -> list[Membership]:
    rows = db.session.scalars(
        select(Membership).where(Membership.org_id == org.id)
        .options(selectinload(Membership.account))
    ).all()
    return sorted(rows, key=lambda m: (ROLE_ORDER[m.role], m.account.handle_key))


def count_members(org: Organisation) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.org_id == org.id)) or 0


def count_owners(org: Organisation) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Membership)
        .where(Membership.org_id == org.id, Membership.role == "owner")) or 0


def list_memberships_of(account: Account) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.account_id == account.id)
        .options(selectinload(Membership.org)).order_by(Membership.created_at)
    ))


def list_pending_invitations(org: Organisation) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.org_id == org.id, Invitation.status == "pending")
        .options(selectinload(Invitation.account), selectinload(Invitation.inviter))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ))


def list_invitations_for(account: Account) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation).where(Invitation.account_id == account.id,
                                 Invitation.status == "pending", Invitation.org_id.is_not(None))
        .options(selectinload(Invitation.org), selectinload(Invitation.inviter))
        .order_by(Invitation.created_at.desc())
    ))


def list_recent_organisations(limit: int = 6) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).order_by(Organisation.created_at.desc(), Organisation.id.desc())
        .limit(limit)
    ))


@dataclass(frozen=True)
class DirectoryPage:
    organisations: list[Organisation]
    #: Cursor for the next page ("name_key|id"), None on the last page.
    next_cursor: str | None


def list_directory(search: str = "", theme: str = "", after: str = "",
                   limit: int = 30) -> DirectoryPage:
    """Organisations by name, keyset-paginated on (name_key, id): no OFFSET, ever."""
    query = select(Organisation).options(selectinload(Organisation.themes))
    if search:
        escaped = (search.strip().lower().replace("\\", "\\\\")
                   .replace("%", r"\%").replace("_", r"\_"))
        like = "%" + escaped + "%"
        query = query.where(Organisation.name_key.like(like, escape="\\")
                            | Organisation.handle_key.like(like, escape="\\"))
    if theme:
        query = query.where(Organisation.id.in_(
            select(org_theme.c.org_id).join(Tag, Tag.id == org_theme.c.tag_id)
            .where(Tag.slug == theme)))
    if after:
        name_key, _, raw_id = after.rpartition("|")
        if raw_id.isdigit():
            query = query.where(beyond((Organisation.name_key, Organisation.id),
                                       (name_key, int(raw_id)), descending=False))
    rows = list(db.session.scalars(
        query.order_by(Organisation.name_key, Organisation.id).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = f"{last.name_key}|{last.id}"
    return DirectoryPage(rows, next_cursor)


def list_themes_in_use() -> list[Tag]:
    return list(db.session.scalars(
        select(Tag).where(Tag.id.in_(select(org_theme.c.tag_id))).order_by(Tag.slug)))


def find_pending_org_invitation(token: str) -> Invitation | None:
    """The organisation invitation behind a link, while it still waits for an answer."""
    from hub.orgs.services import hash_token

    return db.session.scalar(select(Invitation).where(
        Invitation.token_hash == hash_token(token), Invitation.status == "pending",
        Invitation.org_id.is_not(None)))
