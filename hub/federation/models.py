"""Federation tables: local actors' keys, remote actors, follows, activities, deliveries.

One RSA-2048 pair per local actor (an account, an organisation, or the instance's own
``Application`` actor, whose ``owner_id`` is 0), made the first time the actor is served
or signs. The private key is stored as PEM: like Mastodon's, it is the actor's identity
and must survive a change of HUB_SECRET_KEY; database backups must be kept private.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

#: Who a key belongs to.
OWNER_TYPES = ("account", "organisation", "instance")


class ActorKey(db.Model):
    __tablename__ = "actor_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(12))
    owner_id: Mapped[int] = mapped_column()
    public_pem: Mapped[str] = mapped_column(Text)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("owner_type", "owner_id"),)


class RemoteActor(db.Model):
    """A remote ActivityPub actor as last fetched: never trusted without a signature.

    ``uri`` is its id. The key is the one its document published; a signature that fails
    with it triggers one re-fetch (key rotation) before the request is refused.
    """

    __tablename__ = "remote_actor"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2000), unique=True)
    #: Person, Group, Application, Service, Organization.
    type: Mapped[str] = mapped_column(String(20), default="Person")
    handle: Mapped[str] = mapped_column(String(200), default="")
    domain: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: Clean HTML (hub/sanitize.py).
    summary_html: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    icon_url: Mapped[str] = mapped_column(String(2000), default="")
    #: Indexed, as the shared inbox: a 410 from an inbox marks the actors behind it gone.
    inbox: Mapped[str] = mapped_column(String(2000), default="", index=True)
    shared_inbox: Mapped[str] = mapped_column(String(2000), default="", index=True)
    outbox: Mapped[str] = mapped_column(String(2000), default="")
    followers_url: Mapped[str] = mapped_column(String(2000), default="")
    key_id: Mapped[str] = mapped_column(String(2000), default="", index=True)
    public_key_pem: Mapped[str] = mapped_column(Text, default="")
    manually_approves_followers: Mapped[bool] = mapped_column(default=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when its origin sent Delete for it (or answered 410 Gone).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A Move: where it went.
    moved_to: Mapped[str] = mapped_column(String(2000), default="")


#: Who follows or is followed: a local account, a local organisation or a remote actor.
PARTY_TYPES = ("account", "organisation", "remote")
FOLLOW_STATUSES = ("pending", "accepted", "rejected")


class Follow(db.Model):
    """Who follows what, in either direction (local → remote, remote → local)."""

    __tablename__ = "follow"

    id: Mapped[int] = mapped_column(primary_key=True)
    follower_type: Mapped[str] = mapped_column(String(12))
    follower_id: Mapped[int] = mapped_column()
    followed_type: Mapped[str] = mapped_column(String(12))
    followed_id: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="pending")
    #: The id of the Follow activity (ours or theirs): Accept, Reject and Undo name it.
    activity_uri: Mapped[str | None] = mapped_column(String(2000), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("follower_type", "follower_id", "followed_type", "followed_id"),
        Index("ix_follow_followed", "followed_type", "followed_id", "status", "id"),
        Index("ix_follow_follower", "follower_type", "follower_id", "status", "id"),
    )


#: Inbound: "pending" → processed by a job → "done", "ignored" (unknown type, nothing to
#: do) or "failed". Outbound: "sent" once its deliveries are planned.
ACTIVITY_STATUSES = ("pending", "done", "ignored", "failed", "sent")


class Activity(db.Model):
    """Every inbound activity, kept once (idempotent by ``uri``), and every outbound one."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2000), unique=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    type: Mapped[str] = mapped_column(String(40))
    actor_uri: Mapped[str] = mapped_column(String(2000))
    object_uri: Mapped[str] = mapped_column(String(2000), default="")
    #: The JSON document as received (inbound) or as it will be sent (outbound).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Outbound: the local actor that signs ("account", "organisation", "instance") and id.
    signer_type: Mapped[str] = mapped_column(String(12), default="")
    signer_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_activity_due", "direction", "status", "next_attempt_at"),
        Index("ix_activity_object", "object_uri"),
    )


#: "pending" (due at next_attempt_at), "done", "failed" (gave up), "cancelled" (the content
#: was deleted, or the inbox answered 410 Gone).
DELIVERY_STATUSES = ("pending", "done", "failed", "cancelled")


class Delivery(db.Model):
    """One outbound activity to one inbox: written in the transaction of the change."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2000))
    host: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_host", "host", "status"),
        # A 410 cancels what is pending for its inbox.
        Index("ix_delivery_inbox", "inbox", "status"),
    )


class RemoteHost(db.Model):
    """How a remote server answers: the circuit breaker of deliveries to it."""

    __tablename__ = "remote_host"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    #: While in the future, deliveries to this host wait (one probe at a time).
    circuit_open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set after days of failures; cleared as soon as the host speaks to us again.
    unavailable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: What a received object is shown as: by its ActivityStreams type.
REMOTE_KINDS = {"Article": "post", "Page": "resource", "Event": "event", "Note": "note",
                "Question": "note"}


class RemoteObject(db.Model):
    """A post, resource, event or note received from an actor someone here follows.

    Kept as the origin last sent it: ``content_html`` and ``summary_html`` are already
    cleaned by the one sanitiser (images dropped, so visitors never load another server's
    files); an Update replaces them and a Delete removes the row. Only public and unlisted
    objects are kept: the followers-only ones could not be shown to the right people here.
    """

    __tablename__ = "remote_object"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(2000), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actor.id", ondelete="CASCADE"),
                                          index=True)
    #: "post", "resource", "event" or "note" (``REMOTE_KINDS``).
    kind: Mapped[str] = mapped_column(String(10))
    ap_type: Mapped[str] = mapped_column(String(20))
    #: The page to read it on, at its origin.
    url: Mapped[str] = mapped_column(String(2000), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    content_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="")
    #: Space-separated theme slugs from its Hashtag tags, with a space at both ends, so a
    #: theme matches with ``LIKE '% slug %'``.
    themes: Mapped[str] = mapped_column(String(700), default="")
    #: "public" or "unlisted" (unlisted ones are not listed, as at their origin).
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    sensitive: Mapped[bool] = mapped_column(default=False)
    #: Files it carries (a resource's document): JSON list of {url, type, name}.
    attachments: Mapped[str] = mapped_column(Text, default="[]")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place_name: Mapped[str] = mapped_column(String(300), default="")
    place_address: Mapped[str] = mapped_column(String(500), default="")
    online_url: Mapped[str] = mapped_column(String(2000), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("RemoteActor")

    __table_args__ = (Index("ix_remote_object_published", "published_at", "id"),)


class NetworkReply(db.Model):
    """A local person's reply to an object received from the network: a ``Note`` of theirs
    whose ``inReplyTo`` is the remote object, sent to its author (where it becomes, on
    another Maillage, a comment) and to the person's followers, and shown under the object
    here. Deleting it sends a Delete."""

    __tablename__ = "network_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_object_id: Mapped[int] = mapped_column(
        ForeignKey("remote_object.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                           index=True)
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author = relationship("Account")
    remote_object = relationship("RemoteObject")


class Like(db.Model):
    """A like, both ways: a remote actor's of local content (counted on its page), or a
    local account's of content from the network (sent as ``Like``, withdrawn by ``Undo``).
    ``actor_type`` is "remote" or "account"; ``object_type`` a local kind or "remote"."""

    __tablename__ = "ap_like"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int] = mapped_column()
    object_type: Mapped[str] = mapped_column(String(12))
    object_id: Mapped[int] = mapped_column()
    #: The Like activity's id (theirs, or ours when we sent it).
    activity_uri: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("actor_type", "actor_id", "object_type", "object_id"),
        Index("ix_ap_like_object", "object_type", "object_id"),
        Index("ix_ap_like_activity_uri", "activity_uri"),
    )
