"""Run-time instance settings and the audit record of administrative actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.accounts.models import Account
from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

REGISTRATION_MODES = ("open", "approval", "invitation", "closed")


class InstanceSettings(db.Model):
    """A single row (id 1): what admins change at run time."""

    __tablename__ = "instance_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="Maillage")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    default_locale: Mapped[str] = mapped_column(String(5), default="fr")
    registration_mode: Mapped[str] = mapped_column(String(12), default="open")
    #: Who may found an organisation: "anyone" active, or "admins" only.
    org_creation: Mapped[str] = mapped_column(String(10), default="anyone")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Bumped by every write that changes what visitors see; keys the page cache and ETags.
    content_version: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When ``content_version`` last moved: the Last-Modified of feeds.
    content_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Local passwords work for administrators only; everyone else signs in with a provider.
    provider_only: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Largest file a member may upload to the resource catalogue, in megabytes.
    max_upload_mb: Mapped[int] = mapped_column(default=20, server_default="20")
    #: Moderation: days a decision may be appealed; how many first contributions of a new
    #: account wait for approval (0: none); federate only with allow-listed domains.
    appeal_days: Mapped[int] = mapped_column(default=14, server_default="14")
    new_account_holds: Mapped[int] = mapped_column(default=0, server_default="0")
    federation_allowlist: Mapped[bool] = mapped_column(default=False, server_default="0")


class AdminAction(db.Model):
    """Who did what to whom, when. The moderation audit log builds on these rows."""

    __tablename__ = "admin_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Moderation: the reason given (required for moderation actions), the case it
    #: settles, the organisation whose space it concerns.
    reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderation_case.id", ondelete="SET NULL"), index=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)

    actor: Mapped[Account | None] = relationship()
