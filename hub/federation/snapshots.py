"""Rows to the frozen snapshots ``serializers.py`` writes out, and which document a URL serves.

The shell around the pure serialisers: reads the database, builds absolute URLs from
HUB_BASE_URL (``hub.urls.external_url``), never from the request. What may be served is
decided here, for unauthenticated fetches whoever asks: public rows (and unlisted posts,
reachable by their link) are served; members-only, draft, scheduled and hidden rows are
not (404); deleted rows that were once public answer 410 with a ``Tombstone``.

Accounts follow Mastodon: an active account is a ``Person``; a suspended one keeps a
stripped ``Person`` (identity and key, nothing else, ``suspended: true``) so peers can
still verify what it signed and show it as suspended; a deleted one is a ``Tombstone``
(410); a pending one does not exist yet (404).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hub.content.models import Comment, Discussion, Event, Post, Resource, Tag
from hub.content.visibility import public_clause
from hub.extensions import db
from hub.federation import serializers as ser
from hub.federation.keys import instance_key_pair, key_pair
from hub.keyset import beyond
from hub.sanitize import plain_text
from hub.urls import external_url

#: An account in these states has a Person document (a suspended one, stripped).
ACTOR_STATUSES = frozenset({"active", "suspended"})
SUMMARY_LIMIT = 500


@dataclass(frozen=True)
class Document:
    """What a URL serves to an ActivityStreams request: a status and a body (None → no
    body worth sending: 404)."""

    status: int
    body: dict[str, Any] | None = None


NOT_FOUND = Document(404)


# -- URLs -------------------------------------------------------------------------------------


def base_url() -> str:
    return current_app.config["HUB_BASE_URL"].rstrip("/")


def shared_inbox() -> str:
    return f"{base_url()}/inbox"


def actor_id(handle: str) -> str:
    return external_url("main.actor", handle=handle)


def instance_actor_id() -> str:
    return external_url("ap.instance_actor")


def _absolute(html: str) -> str:
    from hub.feeds.build import absolutize

    return absolutize(html or "", base_url())


def _image(relative: str | None, alt: str = "") -> ser.Image | None:
    if not relative:
        return None
    kind = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    return ser.Image(url=external_url("main.media", name=relative), media_type=kind, name=alt)


def _themes(tags: list[Tag]) -> tuple[ser.Theme, ...]:
    return tuple(ser.Theme(label=tag.label, href=external_url("themes.theme", slug=tag.slug))
                 for tag in tags)


def _author_id(account: Any) -> str | None:
    """The author's Person, when they still have one."""
    if account is None or account.status not in ACTOR_STATUSES:
        return None
    return actor_id(account.handle)


def _summary(text: str, html: str) -> str:
    """The author's summary, or the start of the body: Mastodon shows an Article by it."""
    text = " ".join(((text or "").strip() or plain_text(html or "")).split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[: SUMMARY_LIMIT - 1].rstrip() + "…"


# -- actors -----------------------------------------------------------------------------------


def account_actor(account: Any) -> ser.Actor:
    key = key_pair("account", account.id)
    return ser.Actor(
        id=actor_id(account.handle), handle=account.handle, name=account.name,
        summary_html=_absolute(account.bio_html), published=account.created_at,
        public_key_pem=key.public_pem, shared_inbox=shared_inbox(),
        icon=_image(account.avatar_path), suspended=account.status == "suspended",
        approves_followers=bool(account.approves_followers))


def _website_field(url: str) -> tuple[str, str]:
    """A profile field as Mastodon writes its own: a link showing the address without its
    scheme (the value is HTML, escaped here)."""
    from html import escape

    shown = url.split("://", 1)[-1].rstrip("/")
    return ("Website", f'<a href="{escape(url)}" rel="me nofollow noopener noreferrer" '
                       f'target="_blank">{escape(shown)}</a>')


def org_actor(org: Any) -> ser.Actor:
    from html import escape

    key = key_pair("organisation", org.id)
    summary = _absolute(org.description_html)
    if not summary and org.summary:
        summary = f"<p>{escape(org.summary, quote=False)}</p>"
    fields = (_website_field(org.website),) if org.website else ()
    return ser.Actor(
        id=actor_id(org.handle), handle=org.handle, name=org.name, summary_html=summary,
        published=org.created_at, public_key_pem=key.public_pem,
        shared_inbox=shared_inbox(), icon=_image(org.logo_path),
        image=_image(org.banner_path), fields=fields,
        approves_followers=bool(org.approves_followers))


def instance_snapshot() -> ser.Instance:
    from html import escape

    from hub.admin.queries import instance_settings

    settings = instance_settings()
    description = (settings.description or "").strip()
    return ser.Instance(
        id=instance_actor_id(), host=urlsplit(base_url()).hostname or "localhost",
        name=settings.name, url=external_url("main.home"),
        summary_html=f"<p>{escape(description, quote=False)}</p>" if description else "",
        public_key_pem=instance_key_pair().public_pem, shared_inbox=shared_inbox())


# -- objects ----------------------------------------------------------------------------------


def post_url(org: Any, post: Post) -> str:
    return external_url("posts.post", handle=org.handle, post_id=post.id)


def post_snapshot(post: Post, org: Any) -> ser.PostSnapshot:
    cover = _image(post.cover_path, post.cover_alt)
    return ser.PostSnapshot(
        id=post_url(org, post), org_id=actor_id(org.handle), author_id=_author_id(post.author),
        title=post.title, summary=_summary(post.summary, post.body_html),
        content_html=_absolute(post.body_html), visibility=post.visibility,
        published=post.published_at or post.created_at, updated=post.edited_at,
        themes=_themes(post.themes), cover=cover, mentions=_mentions(post.body_html))


def event_url(org: Any, event: Event) -> str:
    return external_url("events.event", handle=org.handle, event_id=event.id)


def event_snapshot(event: Event, org: Any) -> ser.EventSnapshot:
    return ser.EventSnapshot(
        id=event_url(org, event), org_id=actor_id(org.handle), title=event.title,
        content_html=_absolute(event.description_html), starts_at=event.starts_at,
        ends_at=event.ends_at, timezone=event.timezone, status=event.status,
        published=event.created_at, updated=event.edited_at, place_name=event.place_name,
        address=event.address, latitude=event.latitude, longitude=event.longitude,
        online_url=event.online_url, themes=_themes(event.themes),
        visibility=event.visibility)


def resource_url(resource: Resource) -> str:
    return external_url("resources.resource", resource_id=resource.id)


def resource_snapshot(resource: Resource, org: Any) -> ser.ResourceSnapshot:
    from hub.content.resources.catalogue import LICENCE_URLS

    file = link = None
    if resource.kind == "file" and resource.file_path:
        file = ser.Attachment(
            url=external_url("resources.download", resource_id=resource.id),
            media_type=(resource.file_type or "application/octet-stream").split(";")[0],
            name=resource.file_name)
    if resource.kind == "link" and resource.source_url:
        link = ser.Attachment(url=resource.source_url, media_type="text/html",
                              name=resource.title)
    return ser.ResourceSnapshot(
        id=resource_url(resource), org_id=actor_id(org.handle),
        author_id=_author_id(resource.author), title=resource.title,
        abstract_html=_absolute(resource.abstract_html),
        content_html=_absolute(resource.body_html), visibility=resource.visibility,
        published=resource.created_at, updated=resource.edited_at, file=file, link=link,
        creators=tuple(line.strip() for line in resource.authors.splitlines() if line.strip()),
        publisher=resource.publisher, date_published=resource.date_published,
        language=resource.language, licence_url=LICENCE_URLS.get(resource.licence, ""),
        doc_type=resource.doc_type, themes=_themes(resource.themes))


def discussion_url(org: Any, discussion: Discussion) -> str:
    return external_url("discussions.discussion", handle=org.handle,
                        discussion_id=discussion.id)


def discussion_snapshot(discussion: Discussion, org: Any) -> ser.DiscussionSnapshot:
    return ser.DiscussionSnapshot(
        id=discussion_url(org, discussion), org_id=actor_id(org.handle),
        author_id=_author_id(discussion.author), title=discussion.title,
        content_html=_absolute(discussion.body_html), visibility=discussion.visibility,
        published=discussion.created_at, updated=discussion.edited_at,
        themes=_themes(discussion.themes))


def comment_url(comment_id: int) -> str:
    return external_url("comments.comment", comment_id=comment_id)


def target_url(target_type: str, target: Any) -> str:
    """The id of the object a comment is under."""
    if target_type == "post":
        return post_url(target.org, target)
    if target_type == "event":
        return event_url(target.org, target)
    if target_type == "resource":
        return resource_url(target)
    return discussion_url(target.org, target)


def comment_snapshot(comment: Comment, target: Any, org: Any) -> ser.CommentSnapshot:
    root = target_url(comment.target_type, target)
    author = _author_id(comment.author)
    return ser.CommentSnapshot(
        id=comment_url(comment.id), attributed_to=author or actor_id(org.handle),
        org_id=actor_id(org.handle), content_html=_absolute(comment.body_html),
        in_reply_to=comment_url(comment.parent_id) if comment.parent_id else root,
        context=root, visibility=_served_visibility(comment.visibility, target),
        published=comment.created_at, updated=comment.edited_at,
        mentions=_mentions(comment.body_html))


def _mentions(html: str) -> tuple[tuple[str, str], ...]:
    from hub.federation.mentions import mentions_in

    return tuple((m.href, m.name) for m in mentions_in(html))


def _served_visibility(visibility: str, target: Any) -> str:
    """A comment is as visible as its thread: under an unlisted post, unlisted."""
    return "unlisted" if "unlisted" in (visibility, target.visibility) else visibility


# -- what may be served -----------------------------------------------------------------------


def servable(obj: Any) -> bool:
    """Public to an unauthenticated fetch: not deleted or hidden, published, and public (or
    an unlisted post, reachable by its link)."""
    if obj.deleted_at is not None or obj.hidden_at is not None:
        return False
    if isinstance(obj, Post) and obj.status != "published":
        return False
    return obj.visibility in ("public", "unlisted")


def once_public(obj: Any) -> bool:
    """A deleted row that was public once: its URL answers 410 with a Tombstone."""
    if obj.deleted_at is None or obj.visibility == "members":
        return False
    return not isinstance(obj, Post) or obj.published_at is not None


def _object_document(obj: Any, url: str, former_type: str, build: Any) -> Document:
    if servable(obj):
        return Document(200, build())
    if once_public(obj):
        return Document(410, ser.tombstone(url, former_type, obj.deleted_at))
    return NOT_FOUND


def _org(handle: str) -> Any:
    from hub.orgs.queries import find_organisation

    return find_organisation(handle)


def actor_document(handle: str) -> Document:
    from hub.accounts.queries import find_account_by_handle

    org = _org(handle)
    if org is not None:
        return Document(200, ser.org_to_group(org_actor(org)))
    account = find_account_by_handle(handle)
    if account is None:
        return NOT_FOUND
    if account.status in ACTOR_STATUSES:
        return Document(200, ser.account_to_person(account_actor(account)))
    if account.status == "deleted":
        deleted = account.deleted_at or account.created_at
        return Document(410, ser.tombstone(actor_id(account.handle), "Person", deleted))
    return NOT_FOUND


def _post_document(handle: str, post_id: int) -> Document:
    org = _org(handle)
    if org is None:
        return NOT_FOUND
    post = db.session.scalar(select(Post).where(Post.id == post_id, Post.org_id == org.id)
                             .options(selectinload(Post.themes), joinedload(Post.author)))
    if post is None:
        return NOT_FOUND
    return _object_document(post, post_url(org, post), "Article",
                            lambda: ser.post_to_article(post_snapshot(post, org)))


def _event_document(handle: str, event_id: int) -> Document:
    org = _org(handle)
    if org is None:
        return NOT_FOUND
    event = db.session.scalar(select(Event).where(Event.id == event_id, Event.org_id == org.id)
                              .options(selectinload(Event.themes)))
    if event is None:
        return NOT_FOUND
    return _object_document(event, event_url(org, event), "Event",
                            lambda: ser.event_to_event(event_snapshot(event, org)))


def _resource_document(resource_id: int) -> Document:
    resource = db.session.scalar(
        select(Resource).where(Resource.id == resource_id)
        .options(selectinload(Resource.themes), joinedload(Resource.author),
                 joinedload(Resource.org)))
    if resource is None:
        return NOT_FOUND
    return _object_document(resource, resource_url(resource), "Page",
                            lambda: ser.resource_to_page(resource_snapshot(resource,
                                                                           resource.org)))


def _discussion_document(handle: str, discussion_id: int) -> Document:
    org = _org(handle)
    if org is None:
        return NOT_FOUND
    discussion = db.session.scalar(
        select(Discussion).where(Discussion.id == discussion_id, Discussion.org_id == org.id)
        .options(selectinload(Discussion.themes), joinedload(Discussion.author)))
    if discussion is None:
        return NOT_FOUND
    return _object_document(discussion, discussion_url(org, discussion), "Page",
                            lambda: ser.discussion_to_page(discussion_snapshot(discussion,
                                                                               org)))


TARGET_MODELS = {"post": Post, "event": Event, "resource": Resource,
                 "discussion": Discussion}


def load_targets(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """The objects comments hang under, one query per kind, with their organisations."""
    found: dict[tuple[str, int], Any] = {}
    for kind, model in TARGET_MODELS.items():
        wanted = [target_id for target_type, target_id in pairs if target_type == kind]
        if wanted:
            for row in db.session.scalars(select(model).where(model.id.in_(wanted))
                                          .options(joinedload(model.org))):
                found[(kind, row.id)] = row
    return found


def _comment_document(comment_id: int) -> Document:
    comment = db.session.scalar(select(Comment).where(Comment.id == comment_id)
                                .options(joinedload(Comment.author)))
    if comment is None or comment.remote_actor_id is not None:
        return NOT_FOUND  # a reply received from elsewhere is served by its origin
    target = load_targets({(comment.target_type, comment.target_id)}).get(
        (comment.target_type, comment.target_id))
    # A comment is served only while its thread is.
    if target is None or not servable(target):
        return NOT_FOUND
    return _object_document(comment, comment_url(comment.id), "Note",
                            lambda: ser.comment_to_note(comment_snapshot(comment, target,
                                                                         target.org)))


def document_for(endpoint: str, args: dict[str, Any]) -> Document:
    """The ActivityStreams document of a page, by its endpoint and view arguments."""
    if endpoint == "main.actor":
        return actor_document(args["handle"])
    if endpoint == "posts.post":
        return _post_document(args["handle"], args["post_id"])
    if endpoint == "events.event":
        return _event_document(args["handle"], args["event_id"])
    if endpoint == "resources.resource":
        return _resource_document(args["resource_id"])
    if endpoint == "discussions.discussion":
        return _discussion_document(args["handle"], args["discussion_id"])
    if endpoint == "comments.comment":
        return _comment_document(args["comment_id"])
    if endpoint == "network.reply_page":
        from hub.federation.network_replies import reply_document

        return Document(*reply_document(args["reply_id"]))
    raise KeyError(endpoint)


#: The pages that also serve an ActivityStreams document.
DOCUMENT_ENDPOINTS = frozenset({"main.actor", "posts.post", "events.event",
                                "resources.resource", "discussions.discussion",
                                "comments.comment", "network.reply_page"})


# -- collections ------------------------------------------------------------------------------

OUTBOX_PAGE_SIZE = 20
_CURSOR_RE = re.compile(r"^(\d{20})-(\d)-(\d{1,18})$")
_CURSOR_FORMAT = "%Y%m%d%H%M%S%f"


class BadCursor(ValueError):
    """A page cursor that this instance did not make."""


@dataclass(frozen=True)
class Owner:
    """The local actor a collection belongs to."""

    kind: str  # "organisation" or "account"
    row: Any
    id: str


def collection_owner(handle: str) -> Owner | Document:
    """The organisation or account behind ``/@handle/…`` collections, or the answer to
    give instead (as Mastodon: 403 while suspended, 410 once deleted)."""
    from hub.accounts.queries import find_account_by_handle

    org = _org(handle)
    if org is not None:
        return Owner("organisation", org, actor_id(org.handle))
    account = find_account_by_handle(handle)
    if account is None:
        return NOT_FOUND
    if account.status == "active":
        return Owner("account", account, actor_id(account.handle))
    return Document({"suspended": 403, "deleted": 410}.get(account.status, 404))


@dataclass(frozen=True)
class _Source:
    """One kind of row an outbox holds, ranked to order rows of equal dates."""

    rank: int
    model: Any
    moment: Any
    where: Any
    options: tuple[Any, ...]
    #: Rows (in order) to the activities that publish them.
    build: Callable[[list[Any]], list[dict[str, Any]]]


def _public_thread() -> Any:
    """Comments whose thread is public (one EXISTS per kind of commented object)."""
    return or_(*(and_(Comment.target_type == kind,
                      select(model.id).where(model.id == Comment.target_id,
                                             public_clause(model)).exists())
                 for kind, model in TARGET_MODELS.items()))


def _sources(owner: Owner) -> list[_Source]:
    """What an actor's outbox publishes: an organisation's public posts, events,
    resources it shared first and discussions; an account's public comments."""
    actor = owner.id

    def creates(build_one: Callable[[Any], dict[str, Any]]):
        return lambda rows: [ser.wrap_create(build_one(row), actor) for row in rows]

    if owner.kind == "account":
        def comments(rows: list[Comment]) -> list[dict[str, Any]]:
            targets = load_targets({(row.target_type, row.target_id) for row in rows})
            docs = []
            for row in rows:
                target = targets[(row.target_type, row.target_id)]
                note = ser.comment_to_note(comment_snapshot(row, target, target.org))
                docs.append(ser.wrap_create(note, actor))
            return docs

        return [_Source(0, Comment, Comment.created_at,
                        and_(Comment.author_id == owner.row.id,
                             Comment.visibility == "public", Comment.deleted_at.is_(None),
                             Comment.hidden_at.is_(None), _public_thread()),
                        (joinedload(Comment.author),), comments)]
    org = owner.row
    return [
        _Source(3, Post, Post.published_at, and_(Post.org_id == org.id, public_clause(Post)),
                (selectinload(Post.themes), joinedload(Post.author)),
                creates(lambda row: ser.post_to_article(post_snapshot(row, org)))),
        _Source(2, Event, Event.created_at, and_(Event.org_id == org.id, public_clause(Event)),
                (selectinload(Event.themes),),
                creates(lambda row: ser.event_to_event(event_snapshot(row, org)))),
        _Source(1, Resource, Resource.created_at,
                and_(Resource.org_id == org.id, public_clause(Resource)),
                (selectinload(Resource.themes), joinedload(Resource.author)),
                creates(lambda row: ser.resource_to_page(resource_snapshot(row, org)))),
        _Source(0, Discussion, Discussion.created_at,
                and_(Discussion.org_id == org.id, public_clause(Discussion)),
                (selectinload(Discussion.themes), joinedload(Discussion.author)),
                creates(lambda row: ser.discussion_to_page(discussion_snapshot(row, org)))),
    ]


def encode_cursor(moment: datetime, rank: int, row_id: int) -> str:
    return f"{moment.astimezone(UTC).strftime(_CURSOR_FORMAT)}-{rank}-{row_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    match = _CURSOR_RE.match(cursor)
    if match is None:
        raise BadCursor(cursor[:60])
    try:
        moment = datetime.strptime(match.group(1), _CURSOR_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise BadCursor(cursor[:60]) from None
    return moment, int(match.group(2)), int(match.group(3))


def _rows(source: _Source, cursor: tuple[datetime, int, int] | None, limit: int,
          oldest: bool) -> list[tuple[datetime, int, int, Any]]:
    stmt = select(source.model).where(source.where).options(*source.options)
    if cursor is not None:
        moment, rank, row_id = cursor
        # Newest first on (date, rank, id): rows of a higher rank come before rows of the
        # same date and a lower rank.
        if source.rank == rank:
            stmt = stmt.where(beyond((source.moment, source.model.id), (moment, row_id),
                                     descending=True))
        elif source.rank < rank:
            stmt = stmt.where(source.moment <= moment)
        else:
            stmt = stmt.where(source.moment < moment)
    direction = "asc" if oldest else "desc"
    stmt = stmt.order_by(getattr(source.moment, direction)(),
                         getattr(source.model.id, direction)()).limit(limit + 1)
    return [(getattr(row, source.moment.key), source.rank, row.id, row)
            for row in db.session.scalars(stmt).unique()]


def outbox_total(owner: Owner) -> int:
    return sum(db.session.scalar(select(func.count()).select_from(source.model)
                                 .where(source.where)) or 0
               for source in _sources(owner))


def outbox_page(owner: Owner, *, before: str = "", oldest: bool = False,
                limit: int = OUTBOX_PAGE_SIZE) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the outbox, newest first, and the cursor of the next one (None at the
    end). ``oldest``: the last page (the oldest items). Raises BadCursor."""
    cursor = decode_cursor(before) if before else None
    sources = _sources(owner)
    found = [entry for source in sources for entry in _rows(source, cursor, limit, oldest)]
    found.sort(key=lambda entry: entry[:3], reverse=not oldest)
    more = len(found) > limit
    found = found[:limit]
    if oldest:
        found.reverse()
        more = False
    docs: dict[tuple[int, int], dict[str, Any]] = {}
    for source in sources:
        rows = [entry[3] for entry in found if entry[1] == source.rank]
        for row, doc in zip(rows, source.build(rows), strict=True):
            docs[(source.rank, row.id)] = doc
    items = [docs[(entry[1], entry[2])] for entry in found]
    next_cursor = encode_cursor(*found[-1][:3]) if more and found else None
    return items, next_cursor


def featured_items(owner: Owner) -> list[dict[str, Any]]:
    """An organisation's pinned public posts, newest first (Mastodon shows them pinned)."""
    if owner.kind != "organisation":
        return []
    from hub.content.posts.queries import MAX_PINNED

    org = owner.row
    posts = db.session.scalars(
        select(Post).where(Post.org_id == org.id, Post.is_pinned.is_(True), public_clause(Post))
        .options(selectinload(Post.themes), joinedload(Post.author))
        .order_by(Post.published_at.desc(), Post.id.desc()).limit(MAX_PINNED)).unique()
    return [ser.post_to_article(post_snapshot(post, org)) for post in posts]


# -- followers and following ------------------------------------------------------------------


def owner_party(owner: Owner) -> tuple[str, int]:
    return (owner.kind, owner.row.id)


def _follow_cursor(before: str) -> int | None:
    if not before:
        return None
    if not before.isdigit() or len(before) > 18:
        raise BadCursor(before[:60])
    return int(before)


def follows_total(party: tuple[str, int], name: str) -> int:
    """Accepted follows of a local actor: its followers, or whom it follows."""
    from hub.federation.follows import count_follows

    return count_follows(party, name)


def follows_page(party: tuple[str, int], name: str, *, before: str = ""
                 ) -> tuple[list[str], str | None]:
    """One page of actor ids (newest first, as Mastodon lists them: ids only) and the
    cursor of the next page. Raises BadCursor."""
    from hub.federation.follows import list_follows

    page = list_follows(party, name, before=_follow_cursor(before))
    next_cursor = str(page.next_cursor) if page.next_cursor is not None else None
    return [entry.uri for entry in page.entries], next_cursor
