"""The outbox: every e-mail is a row written in the transaction that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow


class EmailMessage(db.Model):
    __tablename__ = "email_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    #: What the message is for (confirm_email, password_reset, invitation…), for the logs.
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the sweep may (re)queue it. A job that takes the row pushes this one lease ahead,
    #: so a worker killed mid-send is retried once the lease runs out.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set while a job holds the row; a row whose lock ran out is free again.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_email_message_status_next", "status", "next_attempt_at"),)
