"""Notifications shown in the header, and who wants which kind by e-mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

#: mention: someone named you; reply: a comment under your post, resource, event or
#: comment; discussion: a new comment in a discussion you follow; invitation: you were
#: invited to an organisation.
NOTIFICATION_KINDS = ("mention", "reply", "discussion", "invitation",
                      # Moderation: an action about you or your content; the outcome of
                      # your report; a new case or appeal to look at (moderators).
                      "moderation", "outcome", "case", "appeal")


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    #: Who caused it (None when they have since left).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    #: What it is about: a content type ("comment", "post", "invitation"…) and its id.
    target_type: Mapped[str] = mapped_column(String(12), default="")
    target_id: Mapped[int | None] = mapped_column()
    #: Local path to open, and a short plain-text excerpt, fixed when it is created.
    url: Mapped[str] = mapped_column(String(300), default="")
    excerpt: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor = relationship("Account", foreign_keys=[actor_id])

    __table_args__ = (
        Index("ix_notification_account", "account_id", "read_at", "created_at"),
    )


class NotificationPreference(db.Model):
    """Kinds an account wants by e-mail as well (none by default but mentions and
    invitations)."""

    __tablename__ = "notification_preference"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    by_email: Mapped[bool] = mapped_column(default=False)
