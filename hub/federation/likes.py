"""Likes, both ways.

In: a remote actor's ``Like`` of a public local post, resource, event, discussion or
comment is kept once per actor and object (idempotent, whatever the activity id), counted
on the item's page, and removed by its ``Undo`` or when the actor is deleted.

Out: a local account likes content from the network (``/network/<id>``): a ``Like``
goes to its author's inbox, signed by the account; unliking sends the ``Undo`` of it.
Services never commit; the request or the job does, and delivery follows the commit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation.follows import _inbox  # a person's own inbox first, as for follows
from hub.federation.models import Like, RemoteActor, RemoteObject
from hub.federation.vocab import AS_CONTEXT
from hub.models_base import utcnow

#: Local kinds a remote like may be about (what ``remote_content.local_target`` names).
LOCAL_KINDS = ("post", "resource", "event", "discussion", "comment")


class Refused(Exception):
    """A Like that is not kept (said as the activity's outcome)."""


def _liked_item(object_uri: str) -> tuple[str, Any, Any] | None:
    """(kind, item, its thread's target) for a local URI: a comment, or the target itself."""
    from hub.federation.remote_content import local_target

    found = local_target(object_uri)
    if found is None:
        return None
    kind, target, comment = found
    return ("comment", comment, target) if comment is not None else (kind, target, target)


# -- in -----------------------------------------------------------------------------------


def receive_like(remote: RemoteActor, object_uri: str, activity_uri: str) -> Like:
    from hub.federation.snapshots import servable

    found = _liked_item(object_uri)
    if found is None:
        raise Refused("a like of something that is not ours")
    item_type, item, target = found
    if item_type not in LOCAL_KINDS or not servable(target) or (
            item_type == "comment" and (item.deleted_at or item.hidden_at)):
        raise Refused("a like of something that is not public here")
    row = db.session.scalar(select(Like).where(
        Like.actor_type == "remote", Like.actor_id == remote.id,
        Like.object_type == item_type, Like.object_id == item.id))
    if row is None:
        row = Like(actor_type="remote", actor_id=remote.id, object_type=item_type,
                   object_id=item.id, created_at=utcnow())
        db.session.add(row)
    row.activity_uri = activity_uri[:2000]
    db.session.flush()
    return row


def remove_like(remote: RemoteActor, activity_uri: str | None, object_uri: str | None) -> bool:
    """The Undo of a remote actor's Like, named by its id or by what it liked."""
    stmt = delete(Like).where(Like.actor_type == "remote", Like.actor_id == remote.id)
    if activity_uri:
        by_id = db.session.execute(stmt.where(Like.activity_uri == activity_uri)
                                   .execution_options(synchronize_session=False)).rowcount
        if by_id:
            return True
    if object_uri:
        found = _liked_item(object_uri)
        if found is not None:
            item_type, item, _target = found
            return bool(db.session.execute(stmt.where(
                Like.object_type == item_type, Like.object_id == item.id)
                .execution_options(synchronize_session=False)).rowcount)
    return False


def is_like_uri(uri: str) -> bool:
    return bool(uri) and db.session.scalar(
        select(Like.id).where(Like.activity_uri == uri).limit(1)) is not None


def forget_actor_likes(remote: RemoteActor) -> None:
    db.session.execute(delete(Like).where(Like.actor_type == "remote",
                                          Like.actor_id == remote.id)
                       .execution_options(synchronize_session=False))


def count_likes(object_type: str, object_id: int) -> int:
    """Likes from the fediverse of a local item (one query)."""
    return db.session.scalar(select(func.count()).select_from(Like).where(
        Like.actor_type == "remote", Like.object_type == object_type,
        Like.object_id == object_id)) or 0


# -- out ----------------------------------------------------------------------------------


def like_activity(activity_id: str, actor_id: str, object_uri: str) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": activity_id, "type": "Like", "actor": actor_id,
            "object": object_uri}


def _require(account: Any) -> None:
    if account is None or not getattr(account, "is_authenticated", False) or \
            account.status != "active":
        raise PermissionDenied(_("Log in to like content from the network."))


def _author(row: RemoteObject) -> RemoteActor:
    author = db.session.get(RemoteActor, row.actor_id)
    if author is None or not (author.inbox or author.shared_inbox):
        raise ValidationFailed(_("The author of this item cannot be reached."))
    return author


def liked_by(account: Any, row: RemoteObject) -> Like | None:
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    return db.session.scalar(select(Like).where(
        Like.actor_type == "account", Like.actor_id == account.id,
        Like.object_type == "remote", Like.object_id == row.id))


def like_remote(account: Any, row: RemoteObject) -> Like:
    """The account likes ``row``: a Like to its author (once; liking again does nothing)."""
    from hub.federation import delivery
    from hub.federation.follows import local_actor_id
    from hub.federation.policies import refuses_domain

    _require(account)
    existing = liked_by(account, row)
    if existing is not None:
        return existing
    author = _author(row)
    if refuses_domain(author.domain):
        raise ValidationFailed(_("This server is blocked here."))
    like = Like(actor_type="account", actor_id=account.id, object_type="remote",
                object_id=row.id, created_at=utcnow(),
                activity_uri=delivery.new_activity_uri())
    db.session.add(like)
    db.session.flush()
    actor_id = local_actor_id(("account", account.id))
    delivery.publish(("account", account.id),
                     like_activity(like.activity_uri, actor_id, row.uri),
                     [_inbox(author)])
    return like


def unlike_remote(account: Any, row: RemoteObject) -> bool:
    """Withdraw the account's like: the Undo embeds the Like, as Mastodon sends it."""
    from hub.federation import delivery
    from hub.federation.follows import local_actor_id

    _require(account)
    like = liked_by(account, row)
    if like is None:
        return False
    author = _author(row)
    actor_id = local_actor_id(("account", account.id))
    undone = like_activity(like.activity_uri, actor_id, row.uri)
    undone.pop("@context")
    db.session.delete(like)
    db.session.flush()
    delivery.publish(("account", account.id),
                     {"@context": AS_CONTEXT, "id": delivery.new_activity_uri(),
                      "type": "Undo", "actor": actor_id, "object": undone},
                     [_inbox(author)])
    return True
