"""Reads of discussions, with the shared visibility rules and eager loading.

An organisation's list shows pinned threads first, then the most recently active, keyset
paginated on (is_pinned, last_activity_at, id): no OFFSET, a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from hub.content.comments.tree import decode_cursor, encode_cursor
from hub.content.models import Discussion, DiscussionFollow
from hub.content.visibility import is_viewable, listed_clause
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond

PAGE_SIZE = 30


@dataclass
class DiscussionPage:
    discussions: list[Discussion]
    #: ``after`` value of the next page, None on the last one.
    next_cursor: str | None


def _authored(discussion: Discussion, viewer: Any) -> bool:
    return (viewer is not None and getattr(viewer, "is_authenticated", False)
            and discussion.author_id == viewer.id)


def get_discussion(org: Any, discussion_id: int, viewer: Any) -> Discussion:
    """A discussion of ``org`` the viewer may open (its author sees it even when hidden)."""
    discussion = db.session.scalar(
        select(Discussion).where(Discussion.id == discussion_id, Discussion.org_id == org.id)
        .options(joinedload(Discussion.author), selectinload(Discussion.themes)))
    if discussion is None or not is_viewable(discussion, viewer,
                                             may_edit=_authored(discussion, viewer)):
        raise NotFound("discussion")
    return discussion


def list_org_discussions(org: Any, viewer: Any, after: str = "",
                         limit: int = PAGE_SIZE) -> DiscussionPage:
    """Pinned first, then by last activity, newest first."""
    query = (select(Discussion)
             .where(Discussion.org_id == org.id, listed_clause(Discussion, viewer))
             .options(joinedload(Discussion.author), selectinload(Discussion.themes)))
    cursor = decode_cursor(after, "bdi")
    if cursor is not None:
        pinned, at, last_id = cursor
        same_pin = and_(Discussion.is_pinned == pinned,
                        beyond((Discussion.last_activity_at, Discussion.id), (at, last_id),
                               descending=True))
        query = query.where(or_(same_pin, Discussion.is_pinned.is_(False)) if pinned
                            else same_pin)
    rows = list(db.session.scalars(query.order_by(
        Discussion.is_pinned.desc(), Discussion.last_activity_at.desc(),
        Discussion.id.desc()).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.is_pinned, last.last_activity_at, last.id)
    return DiscussionPage(rows, next_cursor)


def is_following(discussion: Discussion, viewer: Any) -> bool:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return db.session.get(DiscussionFollow, (discussion.id, viewer.id)) is not None
