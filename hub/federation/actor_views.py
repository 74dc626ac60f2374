"""ActivityPub endpoints that have no HTML page: the instance actor and actors' collections.

Actor and object documents themselves are served on their page URLs by content
negotiation (``negotiation.py``). Collections answer JSON whatever the Accept header:
there is nothing else to show at those addresses. Inboxes (POST) arrive in milestone 2.
"""

from __future__ import annotations

from flask import Blueprint, request

from hub.federation import serializers as ser
from hub.federation import snapshots
from hub.federation.negotiation import activity_response

bp = Blueprint("ap", __name__)


@bp.get("/actor")
def instance_actor():
    return activity_response(ser.instance_to_application(snapshots.instance_snapshot()))


@bp.get("/actor/outbox")
def instance_outbox():
    """The instance actor publishes nothing yet: empty, truthfully."""
    return activity_response(ser.ordered_collection(f"{snapshots.instance_actor_id()}/outbox",
                                                    0))


@bp.get("/actor/<any(followers, following):name>")
def instance_follows(name: str):
    """Remote instances follow the instance actor to receive the whole catalogue."""
    return _follows_collection(("instance", 0), f"{snapshots.instance_actor_id()}/{name}",
                               name)


@bp.get("/@<handle>/outbox")
def outbox(handle: str):
    """The collection (totalItems, first and last pages) or, with ``?page=true`` or
    ``?before=<cursor>``, one page of Create activities, newest first."""
    owner = snapshots.collection_owner(handle)
    if isinstance(owner, snapshots.Document):
        return activity_response(owner.body, owner.status)
    collection_id = f"{owner.id}/outbox"
    before = request.args.get("before", "")
    oldest = request.args.get("oldest") == "true"
    if request.args.get("page") is None and not before and not oldest:
        return activity_response(ser.ordered_collection(
            collection_id, snapshots.outbox_total(owner),
            first=ser.page_url(collection_id),
            last=ser.page_url(collection_id, oldest="true")))
    try:
        items, next_cursor = snapshots.outbox_page(owner, before=before[:60], oldest=oldest)
    except snapshots.BadCursor:
        return activity_response({"error": "bad request", "status": 400,
                                  "detail": "unknown page cursor"}, 400)
    params = {"oldest": "true"} if oldest else ({"before": before} if before else {})
    page = ser.CollectionPage(
        id=ser.page_url(collection_id, **params), part_of=collection_id, items=items,
        next=ser.page_url(collection_id, before=next_cursor) if next_cursor else None)
    return activity_response(ser.ordered_collection_page(page))


@bp.get("/@<handle>/<any(followers, following):name>")
def follows(handle: str, name: str):
    """Accepted follows, paged like the outbox (``?page=true``, then ``before=<cursor>``),
    newest first, actor ids only (as Mastodon lists them)."""
    owner = snapshots.collection_owner(handle)
    if isinstance(owner, snapshots.Document):
        return activity_response(owner.body, owner.status)
    return _follows_collection(snapshots.owner_party(owner), f"{owner.id}/{name}", name)


def _follows_collection(party: tuple[str, int], collection_id: str, name: str):
    before = request.args.get("before", "")
    if request.args.get("page") is None and not before:
        total = snapshots.follows_total(party, name)
        return activity_response(ser.ordered_collection(
            collection_id, total, first=ser.page_url(collection_id) if total else None))
    try:
        items, next_cursor = snapshots.follows_page(party, name, before=before[:60])
    except snapshots.BadCursor:
        return activity_response({"error": "bad request", "status": 400,
                                  "detail": "unknown page cursor"}, 400)
    params = {"before": before} if before else {}
    doc = {"@context": ser.context(), "id": ser.page_url(collection_id, **params),
           "type": "OrderedCollectionPage", "partOf": collection_id}
    if next_cursor:
        doc["next"] = ser.page_url(collection_id, before=next_cursor)
    doc["orderedItems"] = items
    return activity_response(doc)


@bp.get("/@<handle>/featured")
def featured(handle: str):
    """Pinned posts, inline (Mastodon reads them from the first response)."""
    owner = snapshots.collection_owner(handle)
    if isinstance(owner, snapshots.Document):
        return activity_response(owner.body, owner.status)
    items = snapshots.featured_items(owner)
    return activity_response(ser.ordered_collection(f"{owner.id}/featured", len(items),
                                                    items=items))
