"""Content received by federation: replies to local content become comments, and what
followed actors publish is kept as ``RemoteObject`` rows, shown with its origin.

The inbox handlers call these with an actor whose signature was verified and an object
that comes from that actor's origin (embedded by it, or fetched again from its id). Every
rule about who may write what is here:

- a reply (``inReplyTo`` one of our posts, resources, events, discussions or comments, or
  a reply received earlier) becomes a comment of that thread when the thread is public or
  unlisted and open; the author of what it answers is told, and so are the local people
  it mentions;
- anything else is kept only when it is public or unlisted and someone here follows its
  author or is mentioned in it (and told), so an instance does not fill with what nobody
  asked for;
- an Update changes only what the same actor sent; a Delete removes it (a comment with
  replies stays as a placeholder, as a local one does).

Services flush; the inbox job commits.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.exceptions import HTTPException

from hub.content.models import Comment, Discussion
from hub.content.search.index import MAX_BODY_CHARS, remove, sync
from hub.content.themes import theme_slug
from hub.errors import ValidationFailed
from hub.extensions import db
from hub.federation.models import REMOTE_KINDS, Follow, RemoteActor, RemoteObject
from hub.federation.object_parser import CONTENT_TYPES, ParsedObject
from hub.federation.parsers import host_of
from hub.models_base import utcnow
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import refuse_if_filtered, screen_edit
from hub.sanitize import clean_html, plain_text

MAX_HTML = 100_000
EXCERPT = 300

#: Endpoints of the local pages a reply can answer, and the comment target they are.
_TARGET_ENDPOINTS = {"posts.post": ("post", "post_id"), "events.event": ("event", "event_id"),
                     "resources.resource": ("resource", "resource_id"),
                     "discussions.discussion": ("discussion", "discussion_id")}


class Refused(Exception):
    """The object is not kept; the message says why (recorded on the activity)."""


# -- reading local URLs -----------------------------------------------------------------------


def _local_endpoint(uri: str) -> tuple[str, dict[str, Any]] | None:
    base = current_app.config["HUB_BASE_URL"].rstrip("/")
    if not uri.startswith(base + "/"):
        return None
    path = uri[len(base):].split("#")[0].split("?")[0]
    try:
        endpoint, args = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return None
    return endpoint, args


def local_target(uri: str) -> tuple[str, Any, Comment | None] | None:
    """What a reply to ``uri`` hangs under: (target type, target row, parent comment or
    None). None when ``uri`` is not one of our objects, nor a reply received earlier."""
    from hub.federation.snapshots import TARGET_MODELS, load_targets

    parent: Comment | None = None
    found = _local_endpoint(uri)
    if found is not None and found[0] == "comments.comment":
        parent = db.session.get(Comment, found[1]["comment_id"])
    elif found is None:
        parent = db.session.scalar(select(Comment).where(Comment.ap_uri == uri))
    if parent is not None:
        target = load_targets({(parent.target_type, parent.target_id)}).get(
            (parent.target_type, parent.target_id))
        return (parent.target_type, target, parent) if target is not None else None
    if found is None or found[0] not in _TARGET_ENDPOINTS:
        return None
    kind, argument = _TARGET_ENDPOINTS[found[0]]
    target = db.session.get(TARGET_MODELS[kind], found[1][argument])
    if target is None:
        return None
    handle = found[1].get("handle")
    if handle is not None and target.org.handle != handle:
        return None
    return kind, target, None


# -- cleaning -------------------------------------------------------------------------------


def _clean(html: str, host: str) -> str:
    """Remote HTML through the one sanitiser; its images are shown from this instance's
    copies (``remote_media``): a visitor's browser never loads a file from another
    server."""
    from hub.federation.remote_media import proxy_images

    return clean_html(html[:MAX_HTML], image_url=proxy_images(host))


def _published(obj: ParsedObject, now: datetime) -> datetime:
    """Its date, but never in the future (a wrong clock would pin it on top)."""
    return min(obj.published or now, now)


def _theme_string(labels: tuple[str, ...]) -> str:
    slugs: list[str] = []
    for label in labels:
        slug = theme_slug(label)
        if slug and slug not in slugs:
            slugs.append(slug)
    text = " ".join(slugs)[:690]
    return f" {text} " if text else ""


# -- replies → comments -----------------------------------------------------------------------


def _thread_refusal(kind: str, target: Any, parent: Comment | None) -> str | None:
    from hub.federation.snapshots import servable

    if not servable(target):
        return "a reply to something that is not public here"
    if kind == "discussion" and (target.is_closed or target.is_locked):
        return "a reply to a closed or locked discussion"
    if parent is not None and (parent.deleted_at is not None or parent.hidden_at is not None):
        return "a reply to a deleted or hidden comment"
    return None


def add_remote_comment(actor: RemoteActor, obj: ParsedObject, kind: str, target: Any,
                       parent: Comment | None) -> Comment:
    """The reply as a comment of the thread, its author told."""
    refusal = _thread_refusal(kind, target, parent)
    if refusal:
        raise Refused(refusal)
    html = _clean(obj.content, actor.domain)
    if not plain_text(html).strip():
        raise Refused("an empty reply")
    now = utcnow()
    comment = Comment(
        target_type=kind, target_id=target.id, org_id=target.org_id,
        visibility=target.visibility, author_id=None, remote_actor_id=actor.id,
        ap_uri=obj.id, remote_url=obj.url if obj.url != obj.id else "",
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body_source="", body_html=html, created_at=_published(obj, now))
    try:
        refuse_if_filtered(actor, "comment", comment)  # before anything is stored
    except ValidationFailed as exc:
        raise Refused(f"refused by a word filter: {exc.message}"[:200]) from None
    db.session.add(comment)
    db.session.flush()
    if parent is None:
        comment.root_id = comment.id
    else:
        parent.reply_count = Comment.reply_count + 1
    if kind == "discussion":
        target.comment_count = Discussion.comment_count + 1
        target.last_activity_at = now
    db.session.flush()
    held = hold_if_needed(actor, "comment", comment)
    if not held:
        _notify(comment, actor, obj, target, parent)
    sync("comment", comment)
    if not held:
        _relay(comment, actor, target)
    return comment


def _relay(comment: Comment, author: RemoteActor, target: Any) -> None:
    """FEP-1b12: the organisation announces a reply in its space to its followers, so
    everyone following the thread sees it (as Lemmy and Mobilizon groups do); the reply's
    own server is left out, it has it already."""
    from hub.federation.delivery import follower_inboxes, new_activity_uri, publish
    from hub.federation.serializers import followers_of
    from hub.federation.snapshots import actor_id
    from hub.federation.vocab import PUBLIC, context

    if comment.visibility != "public" or target.visibility != "public":
        return
    org = target.org
    own = {author.shared_inbox, author.inbox}
    inboxes = [inbox for inbox in follower_inboxes("organisation", org.id) if inbox not in own]
    if not inboxes:
        return
    group = actor_id(org.handle)
    publish(("organisation", org.id),
            {"@context": context(), "id": new_activity_uri(), "type": "Announce",
             "actor": group, "object": comment.ap_uri, "to": [PUBLIC],
             "cc": [followers_of(group), author.uri]}, inboxes)


def _notify(comment: Comment, actor: RemoteActor, obj: ParsedObject, target: Any,
            parent: Comment | None) -> None:
    from hub.accounts.models import Account
    from hub.federation.follows import local_party
    from hub.notifications.services import notify
    from hub.urls import local_path

    path = local_path("comments.comment", comment_id=comment.id)
    who = actor.name or actor.handle or actor.domain
    excerpt = f"{who}: {plain_text(comment.body_html).strip()}"[:EXCERPT]
    told: set[int] = set()
    answered = parent.author if parent is not None else getattr(target, "author", None)
    if answered is not None:
        told.add(answered.id)
        notify(answered, "reply", target_type="comment", target_id=comment.id, url=path,
               excerpt=excerpt)
    for href in obj.mentions:
        party = local_party(href)
        if party is None or party[0] != "account" or party[1] in told:
            continue
        account = db.session.get(Account, party[1])
        if account is not None and (target.visibility != "members"):
            told.add(account.id)
            notify(account, "mention", target_type="comment", target_id=comment.id,
                   url=path, excerpt=excerpt)


# -- followed actors' content -----------------------------------------------------------------


def _is_followed(actor: RemoteActor) -> bool:
    """Someone here follows the actor — or its whole instance (the instance actor of its
    domain: an instance subscribed to another's catalogue)."""
    followed = select(RemoteActor.id).where(
        (RemoteActor.id == actor.id)
        | ((RemoteActor.domain == actor.domain) & (RemoteActor.type == "Application")))
    return db.session.scalar(select(Follow.id).where(
        Follow.followed_type == "remote", Follow.followed_id.in_(followed),
        Follow.status == "accepted").limit(1)) is not None


def _fill(row: RemoteObject, obj: ParsedObject) -> None:
    row.kind = REMOTE_KINDS.get(obj.type, "note")
    row.ap_type = obj.type[:20]
    row.url = obj.url[:2000]
    row.name = obj.name[:300]
    from hub.federation.policies import limits_domain, rejects_media

    host = host_of(obj.id)
    row.summary_html = _clean(obj.summary, host)
    row.content_html = _clean(obj.content, host)
    row.language = obj.language
    row.themes = _theme_string(obj.hashtags)
    row.visibility = "public" if obj.listed and not limits_domain(host) else "unlisted"
    row.sensitive = obj.sensitive
    row.attachments = "[]" if rejects_media(host) else json.dumps(
        [{"url": a.url, "type": a.media_type, "name": a.name} for a in obj.attachments])
    from hub.federation.remote_media import proxy_images

    proxy = proxy_images(host)  # does nothing for a host whose media are rejected
    for a in obj.attachments:
        if a.media_type.startswith("image/"):
            proxy(a.url)  # fetched into the cache, shown from there
    row.starts_at, row.ends_at = obj.starts_at, obj.ends_at
    if row.kind == "event" and row.starts_at is None:
        row.kind = "note"  # an Event without a start cannot be put in an agenda
    row.place_name, row.place_address = obj.place_name, obj.place_address
    row.online_url = obj.online_url[:2000]


def _mentioned_accounts(obj: ParsedObject) -> list[Any]:
    from hub.accounts.models import Account
    from hub.federation.follows import local_party

    found = []
    for href in obj.mentions:
        party = local_party(href)
        if party is not None and party[0] == "account":
            account = db.session.get(Account, party[1])
            if account is not None and account not in found:
                found.append(account)
    return found


def store_object(actor: RemoteActor, obj: ParsedObject,
                 boosted_by: RemoteActor | None = None) -> RemoteObject:
    """Keep public content of a followed actor (or boosted by one), or that mentions
    someone here (who is told); idempotent by id."""
    if obj.type not in CONTENT_TYPES:
        raise Refused(f"{obj.type} is not content shown here")
    if not obj.public:
        raise Refused("not public: followers-only content is not kept")
    mentioned = _mentioned_accounts(obj)
    if not mentioned and not _is_followed(boosted_by or actor):
        raise Refused("nobody here follows its author" if boosted_by is None
                      else "nobody here follows who boosted it")
    existing = db.session.scalar(select(RemoteObject).where(RemoteObject.uri == obj.id))
    if existing is not None:
        return existing
    now = utcnow()
    row = RemoteObject(uri=obj.id, actor_id=actor.id, published_at=_published(obj, now),
                       updated_at=obj.updated, received_at=now)
    _fill(row, obj)
    db.session.add(row)
    db.session.flush()
    sync_remote(row)
    if mentioned:
        from hub.notifications.services import notify
        from hub.urls import local_path

        path = local_path("network.item", object_id=row.id)
        who = actor.name or actor.handle or actor.domain
        excerpt = f"{who}: {row.name or plain_text(row.content_html).strip()}"[:EXCERPT]
        for account in mentioned:
            notify(account, "mention", target_type="remote", target_id=row.id, url=path,
                   excerpt=excerpt)
    return row


def receive_create(actor: RemoteActor, obj: ParsedObject) -> str:
    """A Create: a reply to local content, or a followed actor's content. Returns what
    became of it; ``Refused`` when nothing is kept."""
    if db.session.scalar(select(Comment.id).where(Comment.ap_uri == obj.id)) is not None:
        return "already here"
    if obj.in_reply_to:
        found = local_target(obj.in_reply_to)
        if found is not None:
            kind, target, parent = found
            comment = add_remote_comment(actor, obj, kind, target, parent)
            return f"comment {comment.id}"
        if db.session.scalar(select(RemoteObject.id).where(
                RemoteObject.uri == obj.in_reply_to)) is None:
            raise Refused("a reply to something not kept here")
    row = store_object(actor, obj)
    return f"remote object {row.id}"


def receive_boost(announcer: RemoteActor, author: RemoteActor, obj: ParsedObject) -> str:
    """An Announce by ``announcer`` of ``author``'s object (fetched from its origin)."""
    from hub.federation.policies import refuses_domain

    if refuses_domain(author.domain):
        raise Refused("a boost of content from a blocked domain")
    if obj.in_reply_to and local_target(obj.in_reply_to) is not None:
        return receive_create(author, obj)  # a group relaying a reply to us: as sent
    row = store_object(author, obj, boosted_by=announcer)
    return f"remote object {row.id}"


def receive_update(actor: RemoteActor, obj: ParsedObject) -> str:
    comment = db.session.scalar(select(Comment).where(Comment.ap_uri == obj.id))
    if comment is not None:
        if comment.remote_actor_id != actor.id:
            raise Refused("an Update of another actor's reply")
        if comment.deleted_at is not None:
            raise Refused("an Update of a deleted reply")
        html = _clean(obj.content, actor.domain)
        if html != comment.body_html:
            before = comment.body_html
            comment.body_html = html
            try:
                screen_edit(actor, "comment", comment)
            except ValidationFailed as exc:
                comment.body_html = before
                raise Refused(f"refused by a word filter: {exc.message}"[:200]) from None
            comment.edited_at = utcnow()
            sync("comment", comment)
        return f"comment {comment.id} updated"
    row = db.session.scalar(select(RemoteObject).where(RemoteObject.uri == obj.id))
    if row is None:
        return receive_create(actor, obj)  # an Update of something never seen: as a Create
    if row.actor_id != actor.id:
        raise Refused("an Update of another actor's object")
    if not obj.public:
        _delete_row(row)
        return "no longer public: removed"
    _fill(row, obj)
    row.updated_at = obj.updated or utcnow()
    sync_remote(row)
    return f"remote object {row.id} updated"


def receive_delete(actor: RemoteActor, uri: str) -> str:
    comment = db.session.scalar(select(Comment).where(Comment.ap_uri == uri))
    if comment is not None:
        if comment.remote_actor_id != actor.id:
            raise Refused("a Delete of another actor's reply")
        _delete_comment(comment)
        return f"comment {comment.id} deleted"
    row = db.session.scalar(select(RemoteObject).where(RemoteObject.uri == uri))
    if row is None:
        raise Refused("a Delete of something not kept here")
    if row.actor_id != actor.id:
        raise Refused("a Delete of another actor's object")
    _delete_row(row)
    return "remote object deleted"


def _delete_comment(comment: Comment) -> None:
    from hub.content.comments.services import withdraw_comment

    withdraw_comment(comment)


def _delete_row(row: RemoteObject) -> None:
    from hub.federation.models import Like

    remove("remote", [row.id])
    db.session.execute(delete(Like).where(Like.object_type == "remote",
                                          Like.object_id == row.id))
    db.session.delete(row)
    db.session.flush()


def forget_actor(actor: RemoteActor) -> None:
    """A deleted actor: its objects go, its replies become placeholders."""
    ids = list(db.session.scalars(select(RemoteObject.id).where(
        RemoteObject.actor_id == actor.id)))
    remove("remote", ids)
    from hub.federation.likes import forget_actor_likes
    from hub.federation.models import Like

    forget_actor_likes(actor)
    db.session.execute(delete(Like).where(Like.object_type == "remote",
                                          Like.object_id.in_(ids)))
    db.session.execute(delete(RemoteObject).where(RemoteObject.actor_id == actor.id))
    for comment in db.session.scalars(select(Comment).where(
            Comment.remote_actor_id == actor.id, Comment.deleted_at.is_(None))):
        _delete_comment(comment)


# -- search --------------------------------------------------------------------------------


def sync_remote(row: RemoteObject) -> None:
    """Its search document: listed objects only (unlisted ones are not listed at their
    origin either)."""
    from hub.content.models import SearchDocument

    db.session.flush()
    doc = db.session.scalar(select(SearchDocument).where(
        SearchDocument.kind == "remote", SearchDocument.object_id == row.id))
    if row.visibility != "public":
        if doc is not None:
            db.session.delete(doc)
        return
    if doc is None:
        doc = SearchDocument(kind="remote", object_id=row.id)
        db.session.add(doc)
    doc.org_id = None
    doc.visibility = "public"
    doc.language = row.language
    doc.title = (row.name or plain_text(row.summary_html))[:300]
    doc.body = "\n".join(part for part in (plain_text(row.summary_html),
                                           plain_text(row.content_html),
                                           row.place_name, row.place_address)
                         if part)[:MAX_BODY_CHARS]
    doc.themes = row.themes.strip()[:700]
    doc.sort_at = row.starts_at if row.kind == "event" and row.starts_at else row.published_at
    db.session.flush()


def origin_label(actor: RemoteActor) -> str:
    """"Name (@handle@host)", as people read a fediverse address."""
    address = f"@{actor.handle}@{actor.domain}" if actor.handle else host_of(actor.uri)
    return f"{actor.name} ({address})" if actor.name else address
