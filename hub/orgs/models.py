"""Tables of organisations, who belongs to them, and pending invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.accounts.models import Account
from hub.content.models import Tag
from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

#: Ordered from least to most powerful; services compare positions.
ORG_ROLES = ("member", "editor", "admin", "owner")

org_theme = Table(
    "org_theme",
    db.metadata,
    Column("org_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_org_theme_tag_id", "tag_id"),
)


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(30))
    handle_key: Mapped[str] = mapped_column(ForeignKey("handle.key"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    #: Lower-cased name: the directory sorts and pages on (name_key, id).
    name_key: Mapped[str] = mapped_column(String(120), index=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    logo_path: Mapped[str | None] = mapped_column(String(120))
    banner_path: Mapped[str | None] = mapped_column(String(120))
    website: Mapped[str] = mapped_column(String(300), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    #: Moderation: every comment in the organisation's spaces waits for approval.
    holds_comments: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Followers from other servers wait for an admin's approval (``manuallyApprovesFollowers``).
    approves_followers: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    themes: Mapped[list[Tag]] = relationship(secondary=org_theme, order_by=Tag.slug)

    __table_args__ = (Index("ix_organisation_name_key_id", "name_key", "id"),)

    def __repr__(self) -> str:
        return f"<Organisation @{self.handle}>"


class Membership(db.Model):
    __tablename__ = "membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organisation] = relationship()
    account: Mapped[Account] = relationship()

    __table_args__ = (UniqueConstraint("org_id", "account_id"),)


class Invitation(db.Model):
    """An invitation to join an organisation, or (``org_id`` empty) the instance itself."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    inviter_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    #: Set when the invitee already has an account; otherwise ``email`` is.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10), default="member")
    #: SHA-256 of the secret in the link; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organisation | None] = relationship()
    inviter: Mapped[Account | None] = relationship(foreign_keys=[inviter_id])
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])
