"""Reads of comments: a page of a thread, a comment's subtree, the item a comment is under.

A thread page is two queries whatever its size: one page of top-level comments, then
their replies down to ``REPLY_LEVELS`` (``root_id`` and ``depth`` make it one indexed
query), authors joined in both. Deeper replies get a "show more" link instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import joinedload

from hub.content.comments.tree import REPLY_LEVELS, Node, build_tree, decode_cursor, encode_cursor
from hub.content.models import Comment, Discussion, Event, Post, Resource
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond

#: The item each target type names; looked up by id, never through another package.
TARGET_MODELS: dict[str, Any] = {
    "discussion": Discussion, "post": Post, "resource": Resource, "event": Event,
}

PAGE_SIZE = 50


@dataclass
class ThreadPage:
    nodes: list[Node]
    #: ``comments_after`` value of the next page, None on the last one.
    next_cursor: str | None


def find_target(target_type: str, target_id: int) -> Any | None:
    """The post, resource, event or discussion a comment hangs under (any state)."""
    model = TARGET_MODELS.get(target_type)
    return db.session.get(model, target_id) if model is not None else None


def shown_clause(viewer: Any) -> ColumnElement[bool]:
    """Comments a viewer of the thread sees: not deleted (or deleted, kept as a placeholder
    because replies hang under it), and not hidden by moderation unless they wrote it."""
    viewer_id = viewer.id if viewer is not None and viewer.is_authenticated else None
    own = Comment.author_id == viewer_id if viewer_id is not None else false()
    return and_(or_(Comment.deleted_at.is_(None), Comment.reply_count > 0),
                or_(Comment.hidden_at.is_(None), own))


def is_shown(comment: Comment, viewer: Any) -> bool:
    if comment.deleted_at is not None and comment.reply_count <= 0:
        return False
    if comment.hidden_at is not None:
        return viewer is not None and viewer.is_authenticated and comment.author_id == viewer.id
    return True


def thread_page(target_type: str, target_id: int, viewer: Any, after: str = "",
                limit: int = PAGE_SIZE) -> ThreadPage:
    """Top-level comments oldest first (keyset on created_at, id) with two levels of
    replies. The caller has checked that the viewer may see the target."""
    query = (select(Comment)
             .where(Comment.target_type == target_type, Comment.target_id == target_id,
                    Comment.depth == 0, shown_clause(viewer))
             .options(joinedload(Comment.author), joinedload(Comment.remote_author)))
    cursor = decode_cursor(after, "di")
    if cursor is not None:
        at, last_id = cursor
        query = query.where(beyond((Comment.created_at, Comment.id), (at, last_id),
                                   descending=False))
    rows = list(db.session.scalars(
        query.order_by(Comment.created_at, Comment.id).limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    replies: list[Comment] = []
    if rows:
        replies = list(db.session.scalars(
            select(Comment)
            .where(Comment.root_id.in_([row.id for row in rows]),
                   Comment.depth.between(1, REPLY_LEVELS), shown_clause(viewer))
            .options(joinedload(Comment.author), joinedload(Comment.remote_author))
            .order_by(Comment.depth, Comment.created_at, Comment.id)).unique())
    return ThreadPage(build_tree(rows, replies, 0), next_cursor)


def get_comment(comment_id: int, viewer: Any) -> Comment:
    """A comment as a thread shows it (placeholders included), author loaded."""
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id)
        .options(joinedload(Comment.author), joinedload(Comment.remote_author)))
    if comment is None or not is_shown(comment, viewer):
        raise NotFound("comment")
    return comment


def subtree(comment: Comment, viewer: Any) -> list[Node]:
    """The comment with two levels of its replies, in one query."""
    children = select(Comment.id).where(Comment.parent_id == comment.id)
    replies = db.session.scalars(
        select(Comment)
        .where(or_(Comment.parent_id == comment.id, Comment.parent_id.in_(children)),
               shown_clause(viewer))
        .options(joinedload(Comment.author), joinedload(Comment.remote_author))
        .order_by(Comment.depth, Comment.created_at, Comment.id)).unique()
    return build_tree([comment], list(replies), comment.depth)


def find_live_comment(comment_id: int) -> Comment | None:
    """A comment that is neither deleted nor hidden (one that can be answered or edited)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.deleted_at is not None:
        return None
    return comment
