"""Reads of instance settings, accounts for the admin list, and the admin action log."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, or_, select

from hub.accounts.models import Account
from hub.admin.models import AdminAction, InstanceSettings
from hub.extensions import db


def instance_settings() -> InstanceSettings:
    """The settings row, read once per request or job; defaults before ``maillage init``."""
    cached = g.get("_hub_instance_settings")
    if cached is None:
        cached = db.session.get(InstanceSettings, 1)
        if cached is None:
            from flask import current_app

            cached = InstanceSettings(id=1, name="Maillage", description="", contact_email="",
                                      default_locale=current_app.config["HUB_DEFAULT_LOCALE"],
                                      registration_mode="open", org_creation="anyone")
        g._hub_instance_settings = cached
    return cached


def list_accounts(search: str = "", status: str = "", after_id: int | None = None,
                  limit: int = 50) -> list[Account]:
    """Accounts newest first, keyset-paginated by id."""
    query = select(Account).where(Account.status != "deleted")
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(Account.handle_key.like(like),
                                func.lower(Account.email).like(like),
                                func.lower(Account.display_name).like(like)))
    if status:
        query = query.where(Account.status == status)
    if after_id is not None:
        query = query.where(Account.id < after_id)
    return list(db.session.scalars(query.order_by(Account.id.desc()).limit(limit)))


def list_admin_actions(limit: int = 100, before_id: int | None = None) -> list[AdminAction]:
    query = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AdminAction.id < before_id)
    return list(db.session.scalars(query))
