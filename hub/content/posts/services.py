"""Use cases of news posts: write, schedule, publish, edit, pin, delete. They add and flush;
the caller (a view or a job) commits.

Who may: editors and above of the organisation, and instance admins (the permission table
in ``hub.orgs.permissions``). Every refusal is raised before anything changes.

Publication is the moment a post becomes visible: its search document appears and the
people it mentions are told, once. A scheduled post is published by the ``publish_post``
job, queued by the ``due_posts`` sweeper once its time has come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.content.models import VISIBILITIES, Post
from hub.content.posts.queries import MAX_PINNED, count_pinned, due_post_ids
from hub.content.posts.schedule import is_valid_timezone, local_to_utc
from hub.content.search.index import sync
from hub.content.themes import resolve_themes, split_labels
from hub.content.writing import local_host, mentioned_accounts, render_content
from hub.errors import Conflict, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation.publishing import content_changed
from hub.images import remove_image, store_image
from hub.models_base import utcnow
from hub.moderation.charter import require_charter
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import screen_edit
from hub.notifications.models import Notification
from hub.notifications.services import notify
from hub.orgs.access import may
from hub.orgs.models import Membership
from hub.sanitize import render_text
from hub.urls import local_path

log = logging.getLogger(__name__)

#: What the author asks for when saving: keep a draft, publish at a time, publish now.
WANTED_STATUSES = ("draft", "scheduled", "published")
#: ``hub.images`` has no "cover" size: covers are stored as wide banners (1500 × 500).
COVER_KIND = "banner"
MAX_BODY_CHARS = 100_000


@dataclass(frozen=True)
class PostDraft:
    """What the form says; the service checks it."""

    title: str
    summary: str = ""
    body: str = ""
    themes: str = ""
    visibility: str = "public"
    status: str = "draft"
    publish_date: date | None = None
    publish_time: time | None = None
    timezone: str = "Europe/Paris"
    cover_alt: str = ""


def may_write(actor: Any, org: Any) -> bool:
    """Editors and above, and instance admins (pure over the role read once)."""
    return may("publish", actor, org)


def may_edit(actor: Any, org: Any) -> bool:
    return may("edit_content", actor, org)


def _refuse() -> PermissionDenied:
    return PermissionDenied(_("Only editors of this organisation may do this."))


def create_post(actor: Any, org: Any, draft: PostDraft, cover: IO[bytes] | None = None,
                now: datetime | None = None) -> Post:
    """Write a post as a draft, scheduled or published now."""
    if not may_write(actor, org):
        raise _refuse()
    require_charter(actor)
    now = now or utcnow()
    post = Post(org_id=org.id, author_id=actor.id, created_at=now, updated_at=now)
    post.org = org
    post.author = actor
    first_publication = _apply(post, draft, now, has_cover=cover is not None)
    db.session.add(post)
    _store_cover(post, cover)
    db.session.flush()
    if hold_if_needed(actor, "post", post):
        first_publication = False  # nobody is told of a post waiting for approval
    _after_change(post, actor, first_publication)
    content_changed("post", post)
    return post


def update_post(actor: Any, post: Post, draft: PostDraft, cover: IO[bytes] | None = None,
                remove_cover: bool = False, now: datetime | None = None) -> None:
    """Edit a post; a published post that stays published gets its "edited" mark."""
    if post.deleted_at is not None:
        raise ValidationFailed(_("This post was deleted."))
    if not may_edit(actor, post.org):
        raise _refuse()
    now = now or utcnow()
    was_published = post.status == "published"
    has_cover = cover is not None or (post.cover_path is not None and not remove_cover)
    first_publication = _apply(post, draft, now, has_cover=has_cover)
    held = (hold_if_needed(actor, "post", post) if first_publication and post.hidden_at is None
            else screen_edit(actor, "post", post))
    if held:
        first_publication = False
    post.updated_at = now
    if was_published and post.status == "published":
        post.edited_at = now
    if cover is not None:
        old = post.cover_path
        _store_cover(post, cover)
        remove_image(old, _media())
    elif remove_cover and post.cover_path:
        remove_image(post.cover_path, _media())
        post.cover_path = None
    if post.cover_path is None:
        post.cover_alt = ""
    _after_change(post, actor, first_publication or post.status == "published")
    content_changed("post", post)


def delete_post(actor: Any, post: Post, now: datetime | None = None) -> None:
    """Soft delete: the row stays (for comments and tombstones), shown nowhere."""
    if not may_edit(actor, post.org):
        raise _refuse()
    if post.deleted_at is not None:
        return
    post.deleted_at = now or utcnow()
    post.is_pinned = False
    sync("post", post)
    content_changed("post", post)


def set_pinned(actor: Any, post: Post, pinned: bool) -> None:
    """Pin a post at the head of the organisation's news, or unpin it."""
    if not may_edit(actor, post.org):
        raise _refuse()
    if post.deleted_at is not None:
        raise ValidationFailed(_("This post was deleted."))
    if pinned and not post.is_pinned and count_pinned(post.org, exclude_id=post.id) >= \
            MAX_PINNED:
        raise Conflict(_("At most %(count)d posts can be pinned: unpin one first.",
                         count=MAX_PINNED))
    post.is_pinned = pinned
    sync("post", post)


# -- scheduled publication --------------------------------------------------------------


def due_posts(now: datetime) -> list[tuple[str, tuple[Any, ...]]]:
    """Sweeper: a ``publish_post`` job for each scheduled post whose time has come.

    The sweep's ``now`` travels with the job, so the job decides with the same clock.
    """
    return [("publish_post", (post_id, now.isoformat())) for post_id in due_post_ids(now)]


def publish_post(post_id: int, now_iso: str | None = None) -> None:
    """Job: publish a scheduled post that is due. Safe to run twice, or in two workers:
    a conditional UPDATE flips the status, and only the one that flipped it goes on."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    result = db.session.execute(
        update(Post)
        .where(Post.id == post_id, Post.status == "scheduled", Post.publish_at <= now,
               Post.deleted_at.is_(None))
        .values(status="published", published_at=Post.publish_at)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        log.info("post %s is not due or already published", post_id)
        return
    post = db.session.get(Post, post_id, populate_existing=True)
    assert post is not None
    log.info("published scheduled post %s", post_id)
    sync("post", post)
    if post.author is not None:
        notify_mentions(post, post.author)
    content_changed("post", post)


# -- inside ---------------------------------------------------------------------------------


def _apply(post: Post, draft: PostDraft, now: datetime, *, has_cover: bool) -> bool:
    """Check the draft and copy it onto the post; True when this publishes it first."""
    title = " ".join(draft.title.split())
    if not title:
        raise ValidationFailed(_("The title is required."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("The title is too long (200 characters at most)."),
                               field="title")
    summary = draft.summary.strip()
    if len(summary) > 500:
        raise ValidationFailed(_("The summary is too long (500 characters at most)."),
                               field="summary")
    if len(draft.body) > MAX_BODY_CHARS:
        raise ValidationFailed(_("The text is too long."), field="body")
    if draft.visibility not in VISIBILITIES:
        raise ValidationFailed(_("Choose who may read the post."), field="visibility")
    if draft.status not in WANTED_STATUSES:
        raise ValidationFailed(_("Choose when to publish the post."), field="status")
    if not is_valid_timezone(draft.timezone):
        raise ValidationFailed(_("Unknown time zone."), field="timezone")
    cover_alt = " ".join(draft.cover_alt.split())[:300]
    if has_cover and not cover_alt:
        raise ValidationFailed(_("Describe the cover image for people who cannot see it."),
                               field="cover_alt")
    publish_at = None
    if draft.status == "scheduled":
        if post.status == "published":
            raise ValidationFailed(_("This post is already published."), field="status")
        if draft.publish_date is None or draft.publish_time is None:
            raise ValidationFailed(_("Give the date and time of publication."),
                                   field="publish_date")
        publish_at = local_to_utc(draft.publish_date, draft.publish_time, draft.timezone)
        if publish_at <= now:
            raise ValidationFailed(_("Choose a date and time in the future."),
                                   field="publish_date")

    rendered = render_content(draft.body)
    post.title = title
    post.summary = summary
    post.body_source = draft.body
    post.body_html = rendered.html
    post.visibility = draft.visibility
    post.timezone = draft.timezone
    post.cover_alt = cover_alt
    post.themes = resolve_themes([*split_labels(draft.themes), *rendered.tags])
    first_publication = False
    if draft.status == "published":
        first_publication = post.status != "published"
        post.status = "published"
        post.publish_at = None
        if post.published_at is None:
            post.published_at = now
    else:
        post.status = draft.status
        post.publish_at = publish_at
    return first_publication


def _after_change(post: Post, actor: Any, published_now: bool) -> None:
    db.session.flush()
    sync("post", post)
    if published_now and post.status == "published":
        notify_mentions(post, actor)


def notify_mentions(post: Post, actor: Any) -> int:
    """Tell local people the post names, once per person and post; only once it is
    published (a draft or scheduled post notifies nobody yet)."""
    if post.status != "published" or post.deleted_at is not None:
        return 0
    # Only the mentions are needed here: no links, so this also runs in jobs (no request).
    rendered = render_text(post.body_source, local_host=local_host())
    people = [person for person in mentioned_accounts(rendered)
              if person.id != getattr(actor, "id", None)]
    if people and post.visibility == "members":
        # Telling outsiders would leak the title of a post they may not open.
        members = set(db.session.scalars(select(Membership.account_id).where(
            Membership.org_id == post.org_id,
            Membership.account_id.in_([person.id for person in people]))))
        people = [person for person in people if person.id in members]
    if not people:
        return 0
    told = set(db.session.scalars(select(Notification.account_id).where(
        Notification.kind == "mention", Notification.target_type == "post",
        Notification.target_id == post.id)))
    url = post_path(post)
    excerpt = post.title if not post.summary else f"{post.title} — {post.summary}"
    count = 0
    for person in people:
        if person.id in told:
            continue
        if notify(person, "mention", actor=actor, target_type="post", target_id=post.id,
                  url=url, excerpt=excerpt) is not None:
            count += 1
    return count


def post_path(post: Post) -> str:
    """The post's local path, built without a request (jobs have none)."""
    return local_path("posts.post", handle=post.org.handle, post_id=post.id)


def _media() -> Path:
    return Path(current_app.config["HUB_MEDIA_PATH"])


def _store_cover(post: Post, cover: IO[bytes] | None) -> None:
    if cover is None:
        return
    try:
        post.cover_path = store_image(cover, COVER_KIND, _media())
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field="cover") from None
