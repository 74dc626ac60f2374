"""What local changes send to remote followers: Create, Update or Delete of an object.

The content services call ``content_changed(kind, obj)`` once, after the change is
flushed, in the same transaction; moderation calls ``object_withdrawn`` when it hides
something. The decision needs no memory of the old state: an object that may federate now
(``snapshots.servable``: public or unlisted, published, not deleted or hidden) is created
— or updated, when the last activity sent about it was a Create or an Update; an object
that may not federate any more is deleted (a ``Tombstone``), and the deliveries still
pending for its earlier activities are cancelled. Members-only objects never send anything.

Posts, events and resources are sent by their organisation (the ``Group`` actor) to its
followers and to the followers of the instance actor (other instances subscribed to the
whole catalogue). A comment is sent by its author (Mastodon attributes a status to the actor
of its Create) to the organisation's followers and the author's own; the organisation's
followers collection is always in ``cc``. With no follower, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.extensions import db
from hub.federation import serializers as ser
from hub.federation import snapshots as snap
from hub.federation.models import Activity
from hub.federation.vocab import context
from hub.models_base import utcnow

#: The kinds of objects that federate, and the type their Tombstone had.
FORMER_TYPES = {"post": "Article", "event": "Event", "resource": "Page", "comment": "Note"}


@dataclass(frozen=True)
class _Plan:
    """Who speaks about an object, to whom, and how it looks now."""

    object_id: str
    actor_id: str
    signer: tuple[str, int]
    inboxes: list[str]
    #: The organisation's followers collection (always in cc).
    org_followers: str
    may_federate: bool
    #: Builds the object document (only called when it may federate).
    build: Any


def content_changed(kind: str, obj: Any) -> Activity | None:
    """Send what a change means to the followers; returns the activity, or None when
    nothing is sent (members-only content, never sent before, or no follower)."""
    if kind == "comment" and obj.remote_actor_id is not None:
        return None  # a reply received from elsewhere: its origin speaks for it
    plan = _plan(kind, obj)
    last = _last_sent_type(plan.object_id)
    was_sent = last in ("Create", "Update")
    if plan.may_federate:
        doc = plan.build()
        activity = _wrap("Update" if was_sent else "Create", doc, plan)
    elif was_sent:
        from hub.federation.delivery import cancel_object_deliveries

        cancel_object_deliveries(plan.object_id, "withdrawn before delivery")
        deleted = obj.deleted_at or obj.hidden_at or utcnow()
        tombstone = ser.without_context(ser.tombstone(plan.object_id, FORMER_TYPES[kind],
                                                      deleted))
        activity = _activity("Delete", tombstone, plan, context(),
                             ser.addressing("public", plan.actor_id))
    else:
        return None
    inboxes = plan.inboxes
    if kind in ("post", "comment"):  # a Delete reaches whoever got the Create
        inboxes = _with_mentioned(inboxes, obj)
    if not inboxes:
        return None
    from hub.federation.delivery import publish

    return publish(plan.signer, activity, inboxes)


def _with_mentioned(inboxes: list[str], obj: Any) -> list[str]:
    """The mentioned remote actors get it too, even when they follow nobody here."""
    from hub.federation.mentions import mentions_in

    extra = [m.inbox for m in mentions_in(obj.body_html) if m.inbox]
    return list(dict.fromkeys([*inboxes, *extra])) if extra else inboxes


def object_withdrawn(kind: str, obj: Any) -> Activity | None:
    """Moderation hid (or removed) an object: followers get a Delete."""
    return content_changed(kind, obj)


# -- inside -----------------------------------------------------------------------------


def _last_sent_type(object_id: str) -> str | None:
    return db.session.scalar(
        select(Activity.type)
        .where(Activity.direction == "out", Activity.object_uri == object_id,
               Activity.type.in_(("Create", "Update", "Delete")))
        .order_by(Activity.id.desc()).limit(1))


def _wrap(kind: str, doc: dict[str, Any], plan: _Plan) -> dict[str, Any]:
    addressing = {"to": list(doc.get("to", ())), "cc": list(doc.get("cc", ()))}
    return _activity(kind, ser.without_context(doc), plan, doc.get("@context", context()),
                     addressing, published=doc.get("updated") if kind == "Update"
                     else doc.get("published"))


def _activity(kind: str, obj: dict[str, Any], plan: _Plan, ctx: Any,
              addressing: dict[str, list[str]], published: str | None = None
              ) -> dict[str, Any]:
    from hub.federation.delivery import new_activity_uri

    cc = list(addressing.get("cc", ()))
    if plan.org_followers not in cc and plan.org_followers not in addressing.get("to", ()):
        cc.append(plan.org_followers)
    activity: dict[str, Any] = {"@context": ctx, "id": new_activity_uri(), "type": kind,
                                "actor": plan.actor_id}
    if published:
        activity["published"] = published
    activity.update({"to": list(addressing.get("to", ())), "cc": cc, "object": obj})
    return activity


def _org_plan(object_id: str, org: Any, may_federate: bool, build: Any) -> _Plan:
    from hub.federation.delivery import follower_inboxes

    actor = snap.actor_id(org.handle)
    # Instances that follow this one (its Application actor) receive every organisation's
    # posts, resources and events: that is how catalogues are shared between instances.
    inboxes = list(dict.fromkeys([*follower_inboxes("organisation", org.id),
                                  *follower_inboxes("instance", 0)]))
    return _Plan(object_id=object_id, actor_id=actor, signer=("organisation", org.id),
                 inboxes=inboxes,
                 org_followers=ser.followers_of(actor), may_federate=may_federate,
                 build=build)


def _plan(kind: str, obj: Any) -> _Plan:
    if kind == "post":
        org = obj.org
        return _org_plan(snap.post_url(org, obj), org, snap.servable(obj),
                         lambda: ser.post_to_article(snap.post_snapshot(obj, org)))
    if kind == "event":
        org = obj.org
        return _org_plan(snap.event_url(org, obj), org, snap.servable(obj),
                         lambda: ser.event_to_event(snap.event_snapshot(obj, org)))
    if kind == "resource":
        org = obj.org
        return _org_plan(snap.resource_url(obj), org, snap.servable(obj),
                         lambda: ser.resource_to_page(snap.resource_snapshot(obj, org)))
    if kind == "comment":
        return _comment_plan(obj)
    raise ValueError(f"{kind!r} does not federate")


def _comment_plan(comment: Any) -> _Plan:
    """A comment federates while it and its thread are served; its author speaks."""
    from hub.federation.delivery import follower_inboxes

    target = snap.load_targets({(comment.target_type, comment.target_id)}).get(
        (comment.target_type, comment.target_id))
    org = target.org if target is not None else _org_of(comment.org_id)
    may_federate = target is not None and snap.servable(target) and snap.servable(comment)
    org_actor = snap.actor_id(org.handle)
    inboxes = follower_inboxes("organisation", org.id)
    author = comment.author
    if author is not None and author.status in snap.ACTOR_STATUSES:
        actor, signer = snap.actor_id(author.handle), ("account", author.id)
        inboxes = list(dict.fromkeys([*inboxes, *follower_inboxes("account", author.id)]))
    else:
        actor, signer = org_actor, ("organisation", org.id)
    return _Plan(object_id=snap.comment_url(comment.id), actor_id=actor, signer=signer,
                 inboxes=inboxes, org_followers=ser.followers_of(org_actor),
                 may_federate=may_federate,
                 build=lambda: ser.comment_to_note(snap.comment_snapshot(comment, target,
                                                                         org)))


def _org_of(org_id: int) -> Any:
    from hub.orgs.models import Organisation

    return db.session.get(Organisation, org_id)
