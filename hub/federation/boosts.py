"""An organisation shares (boosts) content from the network with its followers.

A boost is an ``Announce`` by the organisation's ``Group`` actor of the object's id, sent
to the organisation's followers and to the author (Mastodon tells them); taking it back is
an ``Undo`` of that Announce. The activities themselves are the record: an organisation
shares an object while its last Announce of it has not been undone, so there is no second
copy of the state to keep in step.

Services flush; the view commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.errors import PermissionDenied
from hub.extensions import db
from hub.federation.models import Activity, RemoteObject
from hub.federation.vocab import PUBLIC, context
from hub.orgs.access import may


def may_boost(actor: Any, org: Any) -> bool:
    """Editors and above speak for the organisation, as when they publish."""
    return may("publish", actor, org)


def _last(org_id: int, object_uri: str) -> Activity | None:
    """The organisation's last Announce of the object, or None."""
    return db.session.scalar(
        select(Activity).where(Activity.direction == "out", Activity.type == "Announce",
                               Activity.signer_type == "organisation",
                               Activity.signer_id == org_id,
                               Activity.object_uri == object_uri)
        .order_by(Activity.id.desc()).limit(1))


def _undone(announce: Activity) -> bool:
    return db.session.scalar(select(Activity.id).where(
        Activity.direction == "out", Activity.type == "Undo",
        Activity.object_uri == announce.uri).limit(1)) is not None


def current_boost(org_id: int, object_uri: str) -> Activity | None:
    announce = _last(org_id, object_uri)
    return announce if announce is not None and not _undone(announce) else None


def _send(org: Any, row: RemoteObject, kind: str, obj: Any) -> Activity:
    from hub.federation.delivery import follower_inboxes, new_activity_uri, publish
    from hub.federation.serializers import followers_of
    from hub.federation.snapshots import actor_id

    group = actor_id(org.handle)
    author = row.actor
    inboxes = [*follower_inboxes("organisation", org.id),
               author.shared_inbox or author.inbox]
    activity = {"@context": context(), "id": new_activity_uri(), "type": kind,
                "actor": group, "object": obj, "to": [PUBLIC],
                "cc": [followers_of(group), author.uri]}
    return publish(("organisation", org.id), activity, inboxes)


def boost(actor: Any, org: Any, row: RemoteObject) -> Activity:
    """Share ``row`` with the organisation's followers (idempotent)."""
    from hub.federation.policies import refuses_domain

    if not may_boost(actor, org):
        raise PermissionDenied(_("Only editors of %(name)s may share in its name.",
                                 name=org.name))
    if row.visibility != "public" or refuses_domain(row.actor.domain):
        raise PermissionDenied(_("This cannot be shared."))
    existing = current_boost(org.id, row.uri)
    if existing is not None:
        return existing
    return _send(org, row, "Announce", row.uri)


def unboost(actor: Any, org: Any, row: RemoteObject) -> bool:
    """Take the share back: an Undo follows the Announce. False when it was not shared."""
    import json

    if not may_boost(actor, org):
        raise PermissionDenied(_("Only editors of %(name)s may share in its name.",
                                 name=org.name))
    announce = current_boost(org.id, row.uri)
    if announce is None:
        return False
    embedded = {k: v for k, v in json.loads(announce.payload).items() if k != "@context"}
    _send(org, row, "Undo", embedded)
    return True


def boosters(row: RemoteObject) -> list[Any]:
    """The organisations sharing ``row`` now (few: one query for the candidates)."""
    from hub.orgs.models import Organisation

    org_ids = set(db.session.scalars(select(Activity.signer_id).where(
        Activity.direction == "out", Activity.type == "Announce",
        Activity.signer_type == "organisation", Activity.object_uri == row.uri)))
    found = [org for org in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(org_ids)).order_by(Organisation.name))
        if current_boost(org.id, row.uri) is not None] if org_ids else []
    return found
