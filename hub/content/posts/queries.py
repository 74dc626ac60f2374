"""Reads of news posts. They own eager loading and apply ``hub.content.visibility``.

Lists page with a keyset on (published_at, id), newest first; the cursor is an opaque
string built by ``encode_cursor``. Pinned posts head the first page of an organisation's
list and are left out of the pages after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from hub.content.models import Post
from hub.content.visibility import listed_clause
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond

PAGE_SIZE = 20
#: At most this many pinned posts per organisation (as Mastodon does for profiles).
MAX_PINNED = 5
SECTION_SIZE = 5

_CURSOR_RE = re.compile(r"^(\d{20})-(\d{1,18})$")
_CURSOR_FORMAT = "%Y%m%d%H%M%S%f"


def encode_cursor(published_at: datetime, post_id: int) -> str:
    """Where the next page starts: after this post (pure)."""
    return f"{published_at.astimezone(UTC).strftime(_CURSOR_FORMAT)}-{post_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (published_at, id) of a cursor, or None when it is not one (pure)."""
    match = _CURSOR_RE.match(cursor or "")
    if match is None:
        return None
    try:
        moment = datetime.strptime(match.group(1), _CURSOR_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment, int(match.group(2))


@dataclass(frozen=True)
class PostPage:
    pinned: list[Post]
    posts: list[Post]
    next_cursor: str | None


def _with_details(stmt: Any) -> Any:
    return stmt.options(selectinload(Post.themes), joinedload(Post.author))


def find_post(org: Any, post_id: int) -> Post | None:
    """A post of this organisation, with author and themes; None when absent or deleted."""
    return db.session.scalar(_with_details(select(Post).where(
        Post.id == post_id, Post.org_id == org.id, Post.deleted_at.is_(None))))


def get_post(org: Any, post_id: int) -> Post:
    post = find_post(org, post_id)
    if post is None:
        raise NotFound("post")
    return post


def list_org_posts(org: Any, viewer: Any, *, before: str = "",
                   limit: int = PAGE_SIZE) -> PostPage:
    """One page of an organisation's news as ``viewer`` may list it (three queries).

    The first page loads pinned and latest posts in one query ordered pinned first; with
    at most ``MAX_PINNED`` pinned posts, ``limit + MAX_PINNED + 1`` rows always hold a full
    page of the others and tell whether more follow.
    """
    cursor = decode_cursor(before)
    stmt = _with_details(select(Post).where(Post.org_id == org.id, listed_clause(Post, viewer)))
    newest = (Post.published_at.desc(), Post.id.desc())
    if cursor is None:
        rows = list(db.session.scalars(
            stmt.order_by(Post.is_pinned.desc(), *newest).limit(limit + MAX_PINNED + 1)
        ).unique())
        pinned = [post for post in rows if post.is_pinned][:MAX_PINNED]
        others = [post for post in rows if not post.is_pinned]
    else:
        at, post_id = cursor
        rows = list(db.session.scalars(stmt.where(
            Post.is_pinned.is_(False),
            beyond((Post.published_at, Post.id), (at, post_id), descending=True),
        ).order_by(*newest).limit(limit + 1)).unique())
        pinned, others = [], rows
    next_cursor = None
    if len(others) > limit:
        others = others[:limit]
        last = others[-1]
        next_cursor = encode_cursor(last.published_at, last.id)
    return PostPage(pinned=pinned, posts=others, next_cursor=next_cursor)


def list_unpublished_posts(org: Any, limit: int = 50) -> list[Post]:
    """Drafts and scheduled posts, for the organisation's editors (one query)."""
    return list(db.session.scalars(
        select(Post).where(Post.org_id == org.id, Post.status != "published",
                           Post.deleted_at.is_(None))
        .options(joinedload(Post.author))
        .order_by(Post.publish_at.is_(None), Post.publish_at, Post.created_at.desc(),
                  Post.id.desc())
        .limit(limit)).unique())


def list_org_section_posts(org: Any, viewer: Any, limit: int = SECTION_SIZE) -> list[Post]:
    """What the organisation page shows: pinned first, then the latest (one query)."""
    return list(db.session.scalars(
        select(Post).where(Post.org_id == org.id, listed_clause(Post, viewer))
        .order_by(Post.is_pinned.desc(), Post.published_at.desc(), Post.id.desc())
        .limit(limit)))


def count_pinned(org: Any, exclude_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Post).where(
        Post.org_id == org.id, Post.is_pinned.is_(True), Post.deleted_at.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Post.id != exclude_id)
    return db.session.scalar(stmt) or 0


def due_post_ids(now: datetime, limit: int = 500) -> list[int]:
    """Scheduled posts whose time has come, oldest first."""
    return list(db.session.scalars(
        select(Post.id).where(Post.status == "scheduled", Post.publish_at <= now,
                              Post.deleted_at.is_(None))
        .order_by(Post.publish_at, Post.id).limit(limit)))
