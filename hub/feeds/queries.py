"""What each outgoing feed holds: public rows turned into ``Entry`` and ``CalendarEvent``.

Feeds show what a visitor who is not logged in may see (``visibility.public_clause``):
members-only, unlisted, draft, scheduled, hidden and deleted rows never appear, whoever
asks. Every list is a bounded query per content kind on an index ordered by date, merged
in Python, with organisations, authors and themes loaded in the same few queries, so a
feed costs the same for an organisation with 100 or 100,000 posts.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from hub.content.models import (
    Comment,
    Discussion,
    Event,
    Post,
    Resource,
    Shelf,
    Tag,
    discussion_tag,
    event_tag,
    post_tag,
    resource_tag,
)
from hub.content.visibility import public_clause
from hub.extensions import db
from hub.feeds.build import absolutize
from hub.feeds.entries import Calendar, CalendarEvent, Enclosure, Entry, Feed
from hub.sanitize import plain_text
from hub.urls import external_url

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: Mixed feeds hold these kinds, newest first.
KINDS = ("post", "resource", "event", "discussion")
#: A calendar keeps this much of the past, and at most this many events.
CALENDAR_PAST = timedelta(days=90)
CALENDAR_MAX = 500
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scope:
    """Whose feed: the instance (no field set), an organisation, an account or a theme."""

    org: Any = None
    account: Any = None
    tag: Tag | None = None


# -- helpers ---------------------------------------------------------------------------------


def base_url() -> str:
    parts = urlsplit(current_app.config["HUB_BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def _host() -> str:
    return urlsplit(current_app.config["HUB_BASE_URL"]).hostname or "localhost"


def tag_uri(kind: str, object_id: int, created: datetime) -> str:
    """A stable id (RFC 4151): it names the row, not its title or address."""
    return f"tag:{_host()},{created.date().isoformat()}:{kind}:{object_id}"


def _media(relative: str | None) -> Enclosure | None:
    """The stored image as an enclosure, with its real size and type."""
    if not relative:
        return None
    path = Path(current_app.config["HUB_MEDIA_PATH"]) / relative
    try:
        size = path.stat().st_size
    except OSError:
        return None
    kind = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    return Enclosure(url=external_url("main.media", name=relative), length=size, type=kind)


def _labels(tags: Iterable[Tag]) -> tuple[str, ...]:
    return tuple(tag.label for tag in tags)


def _person(account: Any, org: Any) -> tuple[str, str]:
    """Name and page of who wrote it; the organisation when the account is gone."""
    if account is not None and account.status in {"active", "suspended"}:
        return account.name, external_url("main.actor", handle=account.handle)
    if org is not None:
        return org.name, external_url("main.actor", handle=org.handle)
    return "", ""


def _html(fragment: str) -> str:
    return absolutize(fragment or "", base_url())


def _summary(text: str, html: str, limit: int = 500) -> str:
    text = (text or "").strip() or plain_text(html or "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- one entry per row -----------------------------------------------------------------------


def post_entry(post: Post) -> Entry:
    name, url = _person(post.author, post.org)
    cover = _media(post.cover_path)
    content = _html(post.body_html)
    if cover is not None:
        alt = post.cover_alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        content = f'<p><img src="{cover.url}" alt="{alt}"></p>' + content
    published = post.published_at or post.created_at
    return Entry(
        id=tag_uri("post", post.id, post.created_at),
        url=external_url("posts.post", handle=post.org.handle, post_id=post.id),
        title=post.title, content_html=content, summary=_summary(post.summary, post.body_html),
        published=published, updated=max(published, post.edited_at or published),
        author_name=name, author_url=url, categories=_labels(post.themes),
        enclosures=(cover,) if cover else (), image=cover.url if cover else "")


def resource_entry(resource: Resource, shared_at: datetime | None = None) -> Entry:
    enclosures: list[Enclosure] = []
    if resource.kind == "file" and resource.file_path:
        enclosures.append(Enclosure(
            url=external_url("resources.download", resource_id=resource.id),
            length=resource.file_size or 0,
            type=resource.file_type or "application/octet-stream"))
    body = resource.abstract_html or ""
    if resource.kind == "note":
        body += resource.body_html or ""
    if resource.kind == "link" and resource.source_url:
        link = resource.source_url.replace("&", "&amp;").replace('"', "&quot;")
        body += f'<p><a href="{link}" rel="nofollow noopener ugc">{link}</a></p>'
    name, url = _person(resource.author, resource.org)
    authors = " ".join(resource.authors.split())
    published = shared_at or resource.created_at
    return Entry(
        id=tag_uri("resource", resource.id, resource.created_at),
        url=external_url("resources.resource", resource_id=resource.id),
        title=resource.title, content_html=_html(body),
        summary=_summary("", resource.abstract_html or resource.body_html),
        published=published,
        updated=max(published, resource.edited_at or published),
        author_name=authors or name, author_url="" if authors else url,
        categories=_labels(resource.themes), enclosures=tuple(enclosures),
        language=resource.language)


def _when(event: Event) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(zone)
    end = event.ends_at.astimezone(zone)
    last = end.strftime("%H:%M") if end.date() == start.date() \
        else end.strftime("%Y-%m-%d %H:%M")
    return f"{start:%Y-%m-%d %H:%M} – {last} ({event.timezone})"


def event_entry(event: Event) -> Entry:
    from markupsafe import escape

    name, url = _person(event.author, event.org)
    where = ", ".join(part for part in (event.place_name, event.address) if part)
    facts = [f"<p>{escape(_when(event))}</p>"]
    if where:
        facts.append(f"<p>{escape(where)}</p>")
    if event.online_url:
        link = escape(event.online_url)
        facts.append(f'<p><a href="{link}" rel="nofollow noopener ugc">{link}</a></p>')
    if event.status == "cancelled":
        facts.insert(0, "<p><strong>Cancelled / Annulé</strong></p>")
    return Entry(
        id=tag_uri("event", event.id, event.created_at),
        url=external_url("events.event", handle=event.org.handle, event_id=event.id),
        title=event.title, content_html="".join(facts) + _html(event.description_html),
        summary=_summary(_when(event) + (f" · {where}" if where else ""), ""),
        published=event.created_at,
        updated=max(event.created_at, event.edited_at or event.created_at),
        author_name=name, author_url=url, categories=_labels(event.themes))


def discussion_entry(discussion: Discussion) -> Entry:
    name, url = _person(discussion.author, discussion.org)
    return Entry(
        id=tag_uri("discussion", discussion.id, discussion.created_at),
        url=external_url("discussions.discussion", handle=discussion.org.handle,
                         discussion_id=discussion.id),
        title=discussion.title, content_html=_html(discussion.body_html),
        summary=_summary("", discussion.body_html), published=discussion.created_at,
        updated=max(discussion.created_at, discussion.edited_at or discussion.created_at),
        author_name=name, author_url=url, categories=_labels(discussion.themes))


def comment_entry(comment: Comment, discussion: Discussion) -> Entry:
    if comment.remote_author is not None:  # a reply received by federation
        from hub.federation.remote_content import origin_label

        remote = comment.remote_author
        name, url = origin_label(remote), remote.url or remote.uri
    else:
        name, url = _person(comment.author, discussion.org)
    page = external_url("discussions.discussion", handle=discussion.org.handle,
                        discussion_id=discussion.id)
    summary = _summary("", comment.body_html, 140)
    return Entry(
        id=tag_uri("comment", comment.id, comment.created_at),
        url=f"{page}#comment-{comment.id}",
        title=f"{name} — {summary}" if name else summary,
        content_html=_html(comment.body_html), summary=summary,
        published=comment.created_at,
        updated=max(comment.created_at, comment.edited_at or comment.created_at),
        author_name=name, author_url=url)


# -- the rows of a scope, per kind -----------------------------------------------------------


def _scoped(model: Any, table: Any, column: str, scope: Scope) -> Select:
    statement = select(model).where(public_clause(model))
    if scope.org is not None:
        statement = statement.where(model.org_id == scope.org.id)
    if scope.account is not None:
        statement = statement.where(model.author_id == scope.account.id)
    if scope.tag is not None:
        statement = statement.where(model.id.in_(
            select(table.c[column]).where(table.c.tag_id == scope.tag.id)))
    return statement.options(joinedload(model.org), joinedload(model.author),
                             selectinload(model.themes))


def _posts(scope: Scope, limit: int) -> list[Entry]:
    # Published posts always have a date; saying so lets PostgreSQL, which sorts NULLs
    # first in a descending index scan, skip the drafts instead of reading past them.
    rows = db.session.scalars(_scoped(Post, post_tag, "post_id", scope).where(
        Post.published_at.is_not(None)).order_by(
        Post.published_at.desc(), Post.id.desc()).limit(limit)).unique()
    return [post_entry(post) for post in rows]


def _resources(scope: Scope, limit: int) -> list[Entry]:
    if scope.org is not None:  # what the organisation shelved, re-shares included
        rows = db.session.execute(
            select(Resource, Shelf.created_at).join(Shelf, Shelf.resource_id == Resource.id)
            .where(Shelf.org_id == scope.org.id, public_clause(Resource))
            .options(joinedload(Resource.org), joinedload(Resource.author),
                     selectinload(Resource.themes))
            .order_by(Shelf.created_at.desc(), Shelf.id.desc()).limit(limit)).unique()
        return [resource_entry(resource, shared_at) for resource, shared_at in rows]
    rows = db.session.scalars(_scoped(Resource, resource_tag, "resource_id", scope).order_by(
        Resource.created_at.desc(), Resource.id.desc()).limit(limit)).unique()
    return [resource_entry(resource) for resource in rows]


def _events(scope: Scope, limit: int) -> list[Entry]:
    rows = db.session.scalars(_scoped(Event, event_tag, "event_id", scope).order_by(
        Event.created_at.desc(), Event.id.desc()).limit(limit)).unique()
    return [event_entry(event) for event in rows]


def _discussions(scope: Scope, limit: int) -> list[Entry]:
    rows = db.session.scalars(_scoped(Discussion, discussion_tag, "discussion_id", scope)
                              .order_by(Discussion.created_at.desc(), Discussion.id.desc())
                              .limit(limit)).unique()
    return [discussion_entry(discussion) for discussion in rows]


_LOADERS: dict[str, Callable[[Scope, int], list[Entry]]] = {
    "post": _posts, "resource": _resources, "event": _events, "discussion": _discussions}


def newest(entries: Iterable[Entry], limit: int) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.published, e.id), reverse=True)[:limit])


def scope_entries(scope: Scope, kinds: Sequence[str], limit: int) -> tuple[Entry, ...]:
    """The newest ``limit`` public items of the scope among ``kinds``."""
    found: list[Entry] = []
    for kind in kinds:
        found.extend(_LOADERS[kind](scope, limit))
    return newest(found, limit)


def catalogue_entries(limit: int, *, tag: Tag | None = None, org: Any = None,
                      language: str = "") -> tuple[Entry, ...]:
    """New resources of the catalogue, optionally of one theme, organisation or language."""
    if org is not None:
        statement = (select(Resource, Shelf.created_at)
                     .join(Shelf, Shelf.resource_id == Resource.id)
                     .where(Shelf.org_id == org.id, public_clause(Resource))
                     .order_by(Shelf.created_at.desc(), Shelf.id.desc()))
    else:
        statement = (select(Resource, Resource.created_at).where(public_clause(Resource))
                     .order_by(Resource.created_at.desc(), Resource.id.desc()))
    if tag is not None:
        statement = statement.where(Resource.id.in_(
            select(resource_tag.c.resource_id).where(resource_tag.c.tag_id == tag.id)))
    if language:
        statement = statement.where(Resource.language == language)
    rows = db.session.execute(statement.options(
        joinedload(Resource.org), joinedload(Resource.author),
        selectinload(Resource.themes)).limit(limit)).unique()
    return tuple(resource_entry(resource, shared_at) for resource, shared_at in rows)


def discussion_comments(discussion: Discussion, limit: int) -> tuple[Entry, ...]:
    rows = db.session.scalars(
        select(Comment).where(Comment.target_type == "discussion",
                              Comment.target_id == discussion.id,
                              Comment.visibility == "public",
                              Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))
        .options(joinedload(Comment.author), joinedload(Comment.remote_author))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit))
    return tuple(comment_entry(comment, discussion) for comment in rows)


def entries_for_documents(documents: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Entry]:
    """Entries for search results, loaded per kind in one query each."""
    wanted: dict[str, list[int]] = {}
    for kind, object_id in documents:
        wanted.setdefault(kind, []).append(object_id)
    found: dict[tuple[str, int], Entry] = {}
    builders: dict[str, tuple[Any, Callable[[Any], Entry]]] = {
        "post": (Post, post_entry), "resource": (Resource, resource_entry),
        "event": (Event, event_entry), "discussion": (Discussion, discussion_entry)}
    for kind, ids in wanted.items():
        if kind not in builders:
            continue
        model, build = builders[kind]
        rows = db.session.scalars(
            select(model).where(model.id.in_(ids), public_clause(model))
            .options(joinedload(model.org), joinedload(model.author),
                     selectinload(model.themes))).unique()
        for row in rows:
            found[(kind, row.id)] = build(row)
    return found


def search_hit_entry(hit: Any) -> Entry:
    """Comments and organisations found by a search: their title and snippet."""
    from markupsafe import escape

    # Title and snippet are Markup already (escaped text with <mark> around the words).
    text = hit.snippet.striptags()
    url = hit.url or external_url("search.search")
    return Entry(
        id=tag_uri(hit.kind, hit.object_id, hit.date),
        url=base_url() + url if url.startswith("/") else url,
        title=hit.title.striptags() or hit.org_name, content_html=f"<p>{escape(text)}</p>",
        summary=text, published=hit.date, updated=hit.date, author_name=hit.org_name)


def make_feed(*, key: str, title: str, url: str, feed_url: str, description: str,
              language: str, entries: tuple[Entry, ...], changed_at: datetime | None,
              icon: str = "", author_name: str = "") -> Feed:
    updated = max((entry.updated for entry in entries), default=changed_at or EPOCH)
    return Feed(id=f"tag:{_host()},2026:feed:{key}", title=title, url=url, feed_url=feed_url,
                description=description, language=language, updated=updated,
                entries=entries, icon=icon, author_name=author_name)


# -- calendars -------------------------------------------------------------------------------


def calendar_event(event: Event) -> CalendarEvent:
    created = event.created_at
    updated = max(created, event.edited_at or created)
    # SEQUENCE must grow with each edit: seconds since creation do, with no counter column.
    sequence = int((updated - created).total_seconds()) if event.edited_at else 0
    description = plain_text(event.description_html or "").strip()
    return CalendarEvent(
        uid=f"event-{event.id}@{_host()}",
        url=external_url("events.event", handle=event.org.handle, event_id=event.id),
        title=event.title, description=description, starts_at=event.starts_at,
        ends_at=event.ends_at, timezone=event.timezone, status=event.status,
        created=created, updated=updated, sequence=sequence, place_name=event.place_name,
        address=event.address, latitude=event.latitude, longitude=event.longitude,
        online_url=event.online_url, categories=_labels(event.themes),
        organiser_name=event.org.name,
        organiser_url=external_url("main.actor", handle=event.org.handle))


def calendar_events(now: datetime, *, org: Any = None, tag: Tag | None = None
                    ) -> tuple[CalendarEvent, ...]:
    """Public events that end after ``now`` minus three months, soonest first."""
    statement = select(Event).where(public_clause(Event), Event.ends_at >= now - CALENDAR_PAST)
    if org is not None:
        statement = statement.where(Event.org_id == org.id)
    if tag is not None:
        statement = statement.where(Event.id.in_(
            select(event_tag.c.event_id).where(event_tag.c.tag_id == tag.id)))
    rows = db.session.scalars(statement.options(
        joinedload(Event.org), selectinload(Event.themes))
        .order_by(Event.starts_at, Event.id).limit(CALENDAR_MAX)).unique()
    return tuple(calendar_event(event) for event in rows)


def make_calendar(name: str, description: str, url: str,
                  events: tuple[CalendarEvent, ...]) -> Calendar:
    return Calendar(name=name, description=description, url=url, events=events)
