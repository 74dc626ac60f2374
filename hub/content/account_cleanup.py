"""What happens to content when its author deletes their account.

Called by ``hub.accounts.services.delete_account`` in its transaction (flushes, never
commits). The rules, after Discourse and Mastodon:

- Always (``forget_account``): the person's own notifications, e-mail choices and
  discussion follows go; nothing else changes. With "keep my content", what they wrote
  stays, shown as from a deleted account.
- "Delete my content" (``remove_authored_content``):
  - comments are deleted the way their author would delete them (a placeholder stays
    where others replied), and their text is erased, even in rows already deleted;
  - a discussion they opened with nobody else's comments is deleted; one where others
    answered stays for them: the title keeps the thread readable, the first message is
    erased and the author removed (Discourse's "anonymise");
  - posts, resources and events belong to the organisation, which keeps them: only the
    author link goes (as with the foreign key's SET NULL), and so does "shared by" on
    library shelves;
  - notifications they caused about a comment or a discussion go (their excerpt quotes
    the erased text).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select, update

from hub.content.models import (
    Comment,
    Discussion,
    DiscussionFollow,
    Event,
    Post,
    Resource,
    Shelf,
)
from hub.content.search.index import sync
from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications.models import Notification, NotificationPreference


def forget_account(account: Any) -> None:
    """Personal rows of the account that mean nothing once it is gone."""
    db.session.execute(delete(Notification).where(Notification.account_id == account.id))
    db.session.execute(delete(NotificationPreference).where(
        NotificationPreference.account_id == account.id))
    db.session.execute(delete(DiscussionFollow).where(
        DiscussionFollow.account_id == account.id))


def remove_authored_content(account: Any) -> None:
    """Erase what the person wrote; keep what others wrote and what organisations own."""
    _remove_comments(account)
    _remove_discussions(account)
    for model in (Post, Resource, Event):
        db.session.execute(update(model).where(model.author_id == account.id)
                           .values(author_id=None).execution_options(synchronize_session=False))
    db.session.execute(update(Shelf).where(Shelf.shared_by_id == account.id)
                       .values(shared_by_id=None).execution_options(synchronize_session=False))
    db.session.execute(delete(Notification).where(
        Notification.actor_id == account.id,
        Notification.target_type.in_(("comment", "discussion"))))
    db.session.flush()


def _remove_comments(account: Any) -> None:
    from hub.content.comments.services import delete_comment

    comments = list(db.session.scalars(
        select(Comment).where(Comment.author_id == account.id)
        .order_by(Comment.depth.desc(), Comment.id)))
    # Deepest first, so a parent sees its replies gone before its own turn.
    for comment in comments:
        if comment.deleted_at is None:
            delete_comment(account, comment)
    for comment in comments:
        comment.body_source = comment.body_html = ""
    db.session.flush()


def _remove_discussions(account: Any) -> None:
    now = utcnow()
    others_wrote = exists().where(
        Comment.target_type == "discussion", Comment.target_id == Discussion.id,
        Comment.deleted_at.is_(None),
        (Comment.author_id != account.id) | Comment.author_id.is_(None))
    rows = db.session.execute(
        select(Discussion, others_wrote).where(Discussion.author_id == account.id)).all()
    for discussion, answered in rows:
        discussion.body_source = discussion.body_html = ""
        discussion.author_id = None
        if answered:
            discussion.edited_at = now
        elif discussion.deleted_at is None:
            discussion.deleted_at = now
        sync("discussion", discussion)
