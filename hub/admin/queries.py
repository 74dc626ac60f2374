"""Reads of instance settings, accounts for the admin list, and the admin action log."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import selectinload

from hub.accounts.models import Account
from hub.admin.models import AdminAction, InstanceSettings
from hub.extensions import db
from hub.models_base import utcnow
from hub.orgs.models import Invitation

_READ_SETTINGS = select(InstanceSettings.__table__).where(InstanceSettings.__table__.c.id == 1)


def instance_settings() -> InstanceSettings | Row[Any]:
    """The settings, read once per request or job; defaults before ``maillage init``.

    Read-only: a plain row with the same attributes (every page reads it, and loading it
    as an entity cost a third of a small page). Changes go through
    ``services.ensure_settings``, which puts the entity here for the rest of the request.
    """
    cached = g.get("_hub_instance_settings")
    if cached is None:
        cached = db.session.connection().execute(_READ_SETTINGS).first()
        if cached is None:
            cached = InstanceSettings(id=1, name="Maillage", description="", contact_email="",
                                      default_locale=current_app.config["HUB_DEFAULT_LOCALE"],
                                      registration_mode="open", org_creation="anyone",
                                      provider_only=False, max_upload_mb=20)
        g._hub_instance_settings = cached
    return cached


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_accounts(search: str = "", status: str = "", after_id: int | None = None,
                  limit: int = 50) -> list[Account]:
    """Accounts newest first, keyset-paginated by id (``after_id``: the last id shown)."""
    query = select(Account).where(Account.status != "deleted")
    search = search.strip()
    if search:
        # "@handle" finds the handle; "_" and "%" are letters here, not wildcards.
        like = f"%{_escape_like(search.lower().removeprefix('@'))}%"
        query = query.where(or_(Account.handle_key.like(like, escape="\\"),
                                func.lower(Account.email).like(like, escape="\\"),
                                func.lower(Account.display_name).like(like, escape="\\")))
    if status:
        query = query.where(Account.status == status)
    if after_id is not None:
        query = query.where(Account.id < after_id)
    return list(db.session.scalars(query.order_by(Account.id.desc()).limit(limit)))


def count_accounts_by_status() -> dict[str, int]:
    """How many accounts are pending, active and suspended (zero when none)."""
    rows = db.session.execute(
        select(Account.status, func.count()).where(Account.status != "deleted")
        .group_by(Account.status))
    counts = {"pending": 0, "active": 0, "suspended": 0}
    counts.update({status: count for status, count in rows})
    return counts


def list_admin_actions(limit: int = 100, before_id: int | None = None,
                       org_ids: list[int] | None = None) -> list[AdminAction]:
    """The audit log newest first, keyset-paginated by id (``before_id``: the last id
    shown); ``org_ids`` narrows it to actions in those organisations' spaces."""
    query = (select(AdminAction).options(selectinload(AdminAction.actor))
             .order_by(AdminAction.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(AdminAction.id < before_id)
    if org_ids is not None:
        query = query.where(AdminAction.org_id.in_(org_ids))
    return list(db.session.scalars(query))


def list_instance_invitations(limit: int = 50) -> list[Invitation]:
    """Invitations to sign up (no organisation) still waiting for an answer, newest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.org_id.is_(None), Invitation.status == "pending",
                                 Invitation.expires_at > utcnow())
        .options(selectinload(Invitation.inviter))
        .order_by(Invitation.id.desc()).limit(limit)))


def list_provider_rows():
    """Providers admins added, by label (the deployment's are in the app's config)."""
    from hub.accounts.models import IdentityProvider

    return list(db.session.scalars(select(IdentityProvider).order_by(IdentityProvider.label)))


def get_provider_row(provider_id: int):
    from hub.accounts.models import IdentityProvider
    from hub.errors import NotFound

    row = db.session.get(IdentityProvider, provider_id)
    if row is None:
        raise NotFound("provider")
    return row
