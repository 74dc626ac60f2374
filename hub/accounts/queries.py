"""Reads of accounts and handles."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.accounts.handles import canonical_handle
from hub.accounts.models import Account, Handle, LinkedIdentity
from hub.extensions import db


def find_account_for_session(user_id: str) -> Account | None:
    """Flask-Login loader: the id must come with the current security stamp."""
    account_id, _, stamp = user_id.partition(":")
    if not account_id.isdigit():
        return None
    account = db.session.get(Account, int(account_id))
    if account is None or account.security_stamp != stamp or account.status != "active":
        return None
    return account


def find_account_by_handle(handle: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.handle_key == canonical_handle(handle)))


def find_account_by_email(email: str) -> Account | None:
    return db.session.scalar(select(Account).where(func.lower(Account.email) == email.lower()))


def find_account_by_login(identifier: str) -> Account | None:
    """By e-mail when it has an "@" inside, else by handle."""
    identifier = identifier.strip()
    if "@" in identifier.lstrip("@"):
        return find_account_by_email(identifier)
    return find_account_by_handle(identifier)


def handle_taken(key: str) -> bool:
    return db.session.get(Handle, key) is not None


def list_admins() -> list[Account]:
    return list(db.session.scalars(
        select(Account).where(Account.role == "admin", Account.status == "active")))


def find_link(identity) -> LinkedIdentity | None:
    """The link of a provider identity (issuer + subject), whichever account holds it."""
    return db.session.scalar(select(LinkedIdentity).where(
        LinkedIdentity.issuer == identity.issuer, LinkedIdentity.subject == identity.subject))


def list_links(account: Account) -> list[LinkedIdentity]:
    return list(db.session.scalars(select(LinkedIdentity).where(
        LinkedIdentity.account_id == account.id).order_by(LinkedIdentity.id)))
