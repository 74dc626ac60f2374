"""Replying from here to content from the network.

A reply is a ``Note`` of the local person: ``inReplyTo`` the remote object, a ``Mention``
of its author (Mastodon shows it in the author's notifications), addressed publicly. It is
delivered to the author's inbox (where another Maillage makes it a comment of the thread)
and to the person's own followers, and it is shown under the object here. Deleting it
sends a Delete and cancels what was not delivered yet.

Services flush; the view commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation import serializers as ser
from hub.federation.models import NetworkReply, RemoteActor, RemoteObject
from hub.federation.vocab import PUBLIC, context
from hub.models_base import utcnow

MAX_BODY = 5_000
FORMER_TYPE = "Note"


def reply_url(reply_id: int) -> str:
    from hub.urls import external_url

    return external_url("network.reply_page", reply_id=reply_id)


def may_reply(account: Any) -> bool:
    return (account is not None and getattr(account, "is_authenticated", False)
            and account.status == "active")


def _body(source: str) -> str:
    text = (source or "").strip()
    if not text:
        raise ValidationFailed(_("Write something first."), field="body")
    if len(text) > MAX_BODY:
        raise ValidationFailed(_("A reply is %(n)d characters at most.", n=MAX_BODY),
                               field="body")
    return text


def _mention(actor: RemoteActor) -> dict[str, str]:
    name = f"@{actor.handle}@{actor.domain}" if actor.handle else actor.uri
    return {"type": "Mention", "href": actor.uri, "name": name}


def reply_note(reply: NetworkReply, author_actor_id: str, target: RemoteObject,
               target_actor: RemoteActor, content_html: str) -> dict[str, Any]:
    """The reply as a ``Note`` (pure over what it is given)."""
    doc: dict[str, Any] = {
        "@context": context(),
        "id": reply_url(reply.id),
        "type": "Note",
        "attributedTo": author_actor_id,
        "inReplyTo": target.uri,
        "content": content_html,
        "mediaType": "text/html",
        "url": reply_url(reply.id),
        "to": [PUBLIC],
        "cc": [ser.followers_of(author_actor_id), target_actor.uri],
        "tag": [_mention(target_actor)],
        "published": ser.rfc3339(reply.created_at),
    }
    return doc


def _document(reply: NetworkReply) -> dict[str, Any]:
    from hub.federation.snapshots import _absolute, actor_id

    target = reply.remote_object
    return reply_note(reply, actor_id(reply.author.handle), target, target.actor,
                      _absolute(reply.body_html))


def _inboxes(reply: NetworkReply) -> list[str]:
    from hub.federation.delivery import follower_inboxes

    target_actor = reply.remote_object.actor
    first = target_actor.shared_inbox or target_actor.inbox
    inboxes = [first] if first else []
    return list(dict.fromkeys([*inboxes, *follower_inboxes("account", reply.author_id)]))


def _send(reply: NetworkReply, kind: str, obj: dict[str, Any]) -> None:
    from hub.federation.delivery import new_activity_uri, publish
    from hub.federation.snapshots import actor_id

    actor = actor_id(reply.author.handle)
    activity = {"@context": context(), "id": new_activity_uri(), "type": kind,
                "actor": actor, "to": [PUBLIC],
                "cc": [ser.followers_of(actor), reply.remote_object.actor.uri],
                "object": ser.without_context(obj)}
    inboxes = _inboxes(reply)
    if inboxes:
        publish(("account", reply.author_id), activity, inboxes)


def add_reply(account: Any, target: RemoteObject, source: str) -> NetworkReply:
    """Reply to ``target``: stored, shown here, and sent to its author and followers."""
    from hub.content.writing import render_content
    from hub.federation.policies import refuses_domain

    if not may_reply(account):
        raise PermissionDenied(_("Log in to reply."))
    if refuses_domain(target.actor.domain):
        raise PermissionDenied(_("This instance does not federate with %(domain)s.",
                                 domain=target.actor.domain))
    text = _body(source)
    reply = NetworkReply(remote_object_id=target.id, author_id=account.id, body_source=text,
                         body_html=render_content(text).html, created_at=utcnow())
    db.session.add(reply)
    db.session.flush()
    _send(reply, "Create", _document(reply))
    return reply


def delete_reply(account: Any, reply: NetworkReply) -> None:
    """The author takes their reply back: a Delete follows the Create."""
    from hub.federation.delivery import cancel_object_deliveries

    if account is None or reply.author_id != getattr(account, "id", None):
        raise PermissionDenied(_("Only its author may delete this reply."))
    if reply.deleted_at is not None:
        return
    reply.deleted_at = utcnow()
    db.session.flush()
    uri = reply_url(reply.id)
    cancel_object_deliveries(uri, "withdrawn before delivery")
    _send(reply, "Delete", ser.tombstone(uri, FORMER_TYPE, reply.deleted_at))


def get_reply(reply_id: int) -> NetworkReply:
    reply = db.session.get(NetworkReply, reply_id)
    if reply is None:
        raise NotFound("reply")
    return reply


def replies_to(target: RemoteObject) -> list[NetworkReply]:
    """The replies written here, oldest first, with their authors (one query)."""
    from sqlalchemy.orm import joinedload

    return list(db.session.scalars(
        select(NetworkReply).where(NetworkReply.remote_object_id == target.id,
                                   NetworkReply.deleted_at.is_(None))
        .options(joinedload(NetworkReply.author))
        .order_by(NetworkReply.created_at, NetworkReply.id)))


def reply_document(reply_id: int) -> tuple[int, dict[str, Any] | None]:
    """What ``/network/replies/<id>`` serves to a peer: the Note, a Tombstone (410) once
    deleted, or nothing (404)."""
    reply = db.session.get(NetworkReply, reply_id)
    if reply is None or reply.author is None or reply.author.status != "active":
        return 404, None
    if reply.deleted_at is not None:
        return 410, ser.tombstone(reply_url(reply.id), FORMER_TYPE, reply.deleted_at)
    return 200, _document(reply)
