"""Tables of what members publish: posts, resources, discussions, comments, events, themes.

Every content table follows the same conventions, so visibility rules are written once
(``hub/content/visibility.py``):

- ``visibility``: "public", "unlisted" (posts only: reachable by link, listed nowhere) or
  "members" (members of the organisation only);
- ``deleted_at``: set on deletion; the row stays so replies, shelves and (later)
  federation tombstones keep a target. Deleted rows are never shown;
- ``hidden_at``: set by moderation; hidden rows are shown to nobody but their author and
  moderators;
- ``*_source`` holds the author's Markdown and ``*_html`` the clean HTML from
  ``hub/sanitize.py``; only the clean HTML is ever rendered.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

VISIBILITIES = ("public", "unlisted", "members")
POST_STATUSES = ("draft", "scheduled", "published")
RESOURCE_KINDS = ("link", "file", "note")
EVENT_STATUSES = ("confirmed", "tentative", "cancelled")
#: Comments hang under one of these.
COMMENT_TARGETS = ("discussion", "post", "resource", "event")


class Tag(db.Model):
    """A theme. Thesaurus themes are curated by admins; free keywords are created by use."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case, accent-free slug used in URLs and for matching ("Écologie" → "ecologie").
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(60))
    #: Labels of a thesaurus theme in each interface language ("" falls back to ``label``).
    label_fr: Mapped[str] = mapped_column(String(60), default="", server_default="")
    label_en: Mapped[str] = mapped_column(String(60), default="", server_default="")
    #: Part of the instance thesaurus (managed by admins), as opposed to a free keyword.
    is_thesaurus: Mapped[bool] = mapped_column(default=False, server_default="0")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tag.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    parent: Mapped[Tag | None] = relationship(remote_side=[id])


def _tag_table(kind: str) -> Table:
    return Table(
        f"{kind}_tag",
        db.metadata,
        Column(f"{kind}_id", ForeignKey(f"{kind}.id", ondelete="CASCADE"), primary_key=True),
        Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
        Index(f"ix_{kind}_tag_tag_id", "tag_id", f"{kind}_id"),
    )


post_tag = _tag_table("post")
resource_tag = _tag_table("resource")
discussion_tag = _tag_table("discussion")
event_tag = _tag_table("event")


class Post(db.Model):
    """A news item ("billet") of an organisation."""

    __tablename__ = "post"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: File name of the cover image under the instance media folder.
    cover_path: Mapped[str | None] = mapped_column(String(120))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: When a scheduled post goes out (UTC); the periodic job publishes it then.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set once, on first publication: the date readers see and lists sort on.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The author's time zone when scheduling, to show the time as they chose it.
    timezone: Mapped[str] = mapped_column(String(60), default="Europe/Paris")
    is_pinned: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when a published post is edited: the visible "edited" mark.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation: shown folded behind this warning.
    content_warning: Mapped[str] = mapped_column(String(200), default="")

    org = relationship("Organisation")
    author = relationship("Account")
    themes: Mapped[list[Tag]] = relationship(secondary=post_tag, order_by=Tag.slug)

    __table_args__ = (
        Index("ix_post_org_published", "org_id", "published_at", "id"),
        Index("ix_post_published", "published_at", "id"),
        Index("ix_post_due", "status", "publish_at"),
    )


class Folder(db.Model):
    """A collection of an organisation's library (a shelf inside its shelves)."""

    __tablename__ = "folder"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org = relationship("Organisation")

    __table_args__ = (UniqueConstraint("org_id", "slug"),)


class Resource(db.Model):
    """A documentary resource of the shared catalogue: a link, an uploaded file or a note.

    Metadata follows Dublin Core as documentalists use it.
    """

    __tablename__ = "resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The organisation that first shared it (dc:contributor); more shelves in ``Shelf``.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                        index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    #: Lower-cased, accent-free title: the catalogue sorts and pages on (title_key, id).
    title_key: Mapped[str] = mapped_column(String(300))
    #: dc:creator, one per line.
    authors: Mapped[str] = mapped_column(Text, default="")
    publisher: Mapped[str] = mapped_column(String(200), default="")
    #: dc:date as given: "2024", "2024-03" or "2024-03-15".
    date_published: Mapped[str] = mapped_column(String(10), default="")
    #: Year of ``date_published``, for the catalogue filter.
    year: Mapped[int | None] = mapped_column(index=True)
    #: ISO 639-1 code, "" when unknown.
    language: Mapped[str] = mapped_column(String(2), default="", index=True)
    #: dc:type from ``hub.content.resources.catalogue.DOC_TYPES`` (report, article, guide…).
    doc_type: Mapped[str] = mapped_column(String(20), default="", index=True)
    #: From ``hub.content.resources.catalogue.LICENCES`` (cc-by, cc-by-sa… or "arr").
    licence: Mapped[str] = mapped_column(String(20), default="", index=True)
    abstract_source: Mapped[str] = mapped_column(Text, default="")
    abstract_html: Mapped[str] = mapped_column(Text, default="")
    #: The link of a link resource, or where a file or note comes from (dc:source).
    source_url: Mapped[str] = mapped_column(String(2000), default="")
    #: Body of a note resource.
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: Uploaded file: stored name under the instance files folder, original name, type, size.
    file_path: Mapped[str | None] = mapped_column(String(120))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_type: Mapped[str] = mapped_column(String(100), default="")
    file_size: Mapped[int | None] = mapped_column()
    #: Text extracted from the file for search; filled by a job.
    file_text: Mapped[str] = mapped_column(Text, default="")
    #: Work done by jobs after saving (text extraction, link metadata): durable rows as in
    #: ``hub.jobs`` — "pending", "done", "failed" or "" when there is nothing to do.
    job_status: Mapped[str] = mapped_column(String(10), default="", index=True)
    job_error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation: shown folded behind this warning.
    content_warning: Mapped[str] = mapped_column(String(200), default="")

    org = relationship("Organisation")
    author = relationship("Account")
    themes: Mapped[list[Tag]] = relationship(secondary=resource_tag, order_by=Tag.slug)

    __table_args__ = (
        Index("ix_resource_created", "created_at", "id"),
        Index("ix_resource_title", "title_key", "id"),
    )


class Shelf(db.Model):
    """A resource in an organisation's library: the sharer's own, or re-shared ("add to
    our library"). One resource, as many shelves as organisations keep it."""

    __tablename__ = "shelf"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[int | None] = mapped_column(
        ForeignKey("folder.id", ondelete="SET NULL"), index=True)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    org = relationship("Organisation")
    resource: Mapped[Resource] = relationship()
    folder: Mapped[Folder | None] = relationship()
    shared_by = relationship("Account")

    __table_args__ = (
        UniqueConstraint("org_id", "resource_id"),
        Index("ix_shelf_org_created", "org_id", "created_at", "id"),
    )


class Discussion(db.Model):
    """A thread in an organisation: a title and a first message; comments follow."""

    __tablename__ = "discussion"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    is_locked: Mapped[bool] = mapped_column(default=False)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    is_closed: Mapped[bool] = mapped_column(default=False)
    comment_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Latest comment (or creation): the organisation's list sorts on it.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation: shown folded behind this warning.
    content_warning: Mapped[str] = mapped_column(String(200), default="")

    org = relationship("Organisation")
    author = relationship("Account")
    themes: Mapped[list[Tag]] = relationship(secondary=discussion_tag, order_by=Tag.slug)

    __table_args__ = (
        Index("ix_discussion_org_activity", "org_id", "last_activity_at", "id"),
        Index("ix_discussion_created", "created_at", "id"),
    )


class Event(db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: IANA zone the organiser gave the times in ("Europe/Paris").
    timezone: Mapped[str] = mapped_column(String(60), default="Europe/Paris")
    place_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    online_url: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(10), default="confirmed")
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation: shown folded behind this warning.
    content_warning: Mapped[str] = mapped_column(String(200), default="")

    org = relationship("Organisation")
    author = relationship("Account")
    themes: Mapped[list[Tag]] = relationship(secondary=event_tag, order_by=Tag.slug)

    __table_args__ = (
        Index("ix_event_starts", "starts_at", "id"),
        Index("ix_event_org_starts", "org_id", "starts_at", "id"),
    )


class Comment(db.Model):
    """A comment under a discussion, post, resource or event; replies form a tree.

    ``root_id`` is the top-level comment of the branch (itself for a top-level comment)
    and ``depth`` counts from 0, so a page loads a page of top-level comments and then all
    their replies down to a depth in one query.
    """

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the comment is under: one of ``COMMENT_TARGETS`` and that row's id.
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column()
    #: The organisation whose space this is (for moderation and members-only threads).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                        index=True)
    #: Members-only when the thread is; copied so lists and search filter without a join.
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    #: A reply received by federation: its author elsewhere, its id and page there.
    remote_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("remote_actor.id", ondelete="CASCADE"), index=True)
    ap_uri: Mapped[str | None] = mapped_column(String(2000), unique=True)
    remote_url: Mapped[str] = mapped_column(String(2000), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"),
                                                  index=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    depth: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation: shown folded behind this warning.
    content_warning: Mapped[str] = mapped_column(String(200), default="")

    author = relationship("Account")
    remote_author = relationship("RemoteActor")
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    __table_args__ = (
        Index("ix_comment_thread", "target_type", "target_id", "depth", "created_at", "id"),
        Index("ix_comment_root", "root_id", "depth", "created_at", "id"),
        CheckConstraint("target_type IN ('discussion', 'post', 'resource', 'event')",
                        name="comment_target_type"),
    )


class DiscussionFollow(db.Model):
    """Who is told of new comments in a discussion (its author and commenters by default)."""

    __tablename__ = "discussion_follow"

    discussion_id: Mapped[int] = mapped_column(
        ForeignKey("discussion.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ViewCount(db.Model):
    """Views of one item on one day. No cookie, no address: a number per day, nothing else."""

    __tablename__ = "view_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "post", "resource", "discussion" or "event".
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int] = mapped_column()
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("target_type", "target_id", "day"),)


class SearchDocument(db.Model):
    """One row per searchable item, kept in step by the services in the same transaction.

    The full-text index lives beside it: an FTS5 table on SQLite, a ``tsvector`` column
    with a GIN index on PostgreSQL (both created by the migration, see
    ``hub/content/search``). ``text`` is already folded (lower case, no accents).
    """

    __tablename__ = "search_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "post", "resource", "discussion", "comment", "event" or "organisation".
    kind: Mapped[str] = mapped_column(String(12))
    object_id: Mapped[int] = mapped_column()
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: "public" or "members": members-only documents match only for members of ``org_id``.
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    language: Mapped[str] = mapped_column(String(2), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    #: Unfolded text (title excluded) the result snippet is cut from.
    body: Mapped[str] = mapped_column(Text, default="")
    #: Space-separated theme slugs, for the theme filter.
    themes: Mapped[str] = mapped_column(String(700), default="")
    #: The date results sort on (publication, start of an event).
    sort_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_document_sort", "sort_at", "id"),
    )
