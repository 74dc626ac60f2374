"""External feeds an organisation watches, and the items polled from them.

A ``FeedSource`` is polled by a periodic job with conditional GET (its stored ``etag`` and
``last_modified``); after an error the next poll backs off, and after ``failures`` reaches
the limit the source is paused with its ``error`` shown to the organisation's admins.
``WatchItem`` rows are deduplicated per source by ``guid_key`` (a hash of the item's guid,
or of its link when it has none); their HTML went through ``hub/sanitize.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

#: "active": polled when due; "paused": by an admin or after too many failures.
SOURCE_STATUSES = ("active", "paused")


class FeedSource(db.Model):
    __tablename__ = "feed_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    #: From the feed itself (the admin may not know it when adding the URL).
    title: Mapped[str] = mapped_column(String(300), default="")
    site_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")
    #: Validators of the last 200 answer, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str] = mapped_column(String(300), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    #: Consecutive failed polls; reset by a successful one.
    failures: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org = relationship("Organisation", lazy="raise_on_sql")

    __table_args__ = (
        UniqueConstraint("org_id", "url"),
        Index("ix_feed_source_due", "status", "next_poll_at"),
    )


class WatchItem(db.Model):
    __tablename__ = "watch_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("feed_source.id", ondelete="CASCADE"))
    #: Copied from the source so an organisation's watch page reads one index.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    #: sha256 hex of the guid (or of the link when the item has no guid).
    guid_key: Mapped[str] = mapped_column(String(64))
    #: sha256 hex of the link, for "same link, new guid" duplicates.
    link_key: Mapped[str] = mapped_column(String(64), default="")
    guid: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str] = mapped_column(String(2000), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    #: Clean HTML (hub/sanitize.py) of the item's summary, and of its full content if any.
    summary_html: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    #: The item's own date, or the time it was first seen when it has none.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source = relationship("FeedSource", lazy="raise_on_sql")

    __table_args__ = (
        UniqueConstraint("source_id", "guid_key"),
        Index("ix_watch_item_link", "source_id", "link_key"),
        Index("ix_watch_item_org", "org_id", "published_at", "id"),
        Index("ix_watch_item_published", "published_at", "id"),
    )
