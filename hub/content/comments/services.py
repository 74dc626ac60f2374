"""Writing comments: who may comment where, replies, edits, deletions, notifications.

Services add and flush; the caller commits. Every refusal is raised before anything
changes. Counters (``Comment.reply_count``, ``Discussion.comment_count``) are updated
with SQL expressions so two people answering at once both count.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.accounts.models import Account
from hub.content.models import Comment, Discussion, DiscussionFollow
from hub.content.search.index import sync
from hub.content.visibility import is_viewable, member_org_ids
from hub.content.writing import mentioned_accounts, render_content
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation.publishing import content_changed
from hub.models_base import utcnow
from hub.moderation.charter import org_refusal, refusal_to_write
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import screen_edit
from hub.notifications.services import notify
from hub.orgs.models import Membership
from hub.sanitize import plain_text
from hub.urls import local_path

MAX_BODY = 10_000


def comment_refusal(actor: Any, target_type: str, target: Any) -> str | None:
    """Why ``actor`` may not comment on ``target`` (a message), or None when they may."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return _("Log in to comment.")
    if actor.status != "active":
        return _("Your account cannot comment.")
    if not is_viewable(target, actor):
        return _("You cannot comment here.")
    from hub.moderation.actions import is_banned

    if is_banned(actor, target.org_id):
        return _("You may not take part in the spaces of this organisation any more.")
    refusal = refusal_to_write(actor) or org_refusal(actor, target.org_id)
    if refusal:
        return refusal
    if target_type == "discussion":
        if target.is_closed:
            return _("This discussion is closed: no new comments.")
        if target.is_locked:
            return _("This discussion is locked: no new comments.")
    return None


def _body(source: str) -> str:
    text = (source or "").strip()
    if not text:
        raise ValidationFailed(_("Write something first."), field="body")
    if len(text) > MAX_BODY:
        raise ValidationFailed(_("A comment is %(n)d characters at most.", n=MAX_BODY),
                               field="body")
    return text


def add_comment(actor: Account, target_type: str, target: Any, source: str,
                parent: Comment | None = None) -> Comment:
    """A new comment under ``target``, or a reply to ``parent`` (a comment of it)."""
    refusal = comment_refusal(actor, target_type, target)
    if refusal:
        raise PermissionDenied(refusal)
    if parent is not None and (parent.target_type != target_type
                               or parent.target_id != target.id
                               or parent.deleted_at is not None
                               or parent.hidden_at is not None):
        raise ValidationFailed(_("This comment cannot be answered."))
    text = _body(source)
    rendered = render_content(text)
    comment = Comment(
        target_type=target_type, target_id=target.id, org_id=target.org_id,
        visibility=target.visibility, author_id=actor.id,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body_source=text, body_html=rendered.html, created_at=utcnow())
    db.session.add(comment)
    db.session.flush()
    if parent is None:
        comment.root_id = comment.id
    else:
        parent.reply_count = Comment.reply_count + 1
    if target_type == "discussion":
        target.comment_count = Discussion.comment_count + 1
        target.last_activity_at = comment.created_at
        follow(actor, target)
    db.session.flush()
    if not hold_if_needed(actor, "comment", comment):
        _notify_new_comment(actor, target_type, target, comment, parent, rendered)
    sync("comment", comment)
    content_changed("comment", comment)
    return comment


def _comment_path(comment: Comment) -> str:
    return local_path("comments.comment", comment_id=comment.id)


def _may_see(account: Account, target: Any) -> bool:
    return target.visibility != "members" or target.org_id in member_org_ids(account)


def _notify_new_comment(actor: Account, target_type: str, target: Any, comment: Comment,
                        parent: Comment | None, rendered: Any) -> None:
    """One notification a person: a reply first, then a mention, then a followed thread."""
    path = _comment_path(comment)
    excerpt = plain_text(comment.body_html).strip()[:300]
    told = {actor.id}

    def tell(account: Account | None, kind: str) -> None:
        if account is None or account.id in told or not _may_see(account, target):
            return
        told.add(account.id)
        notify(account, kind, actor=actor, target_type="comment", target_id=comment.id,
               url=path, excerpt=excerpt)

    answered = parent.author if parent is not None else target.author
    tell(answered, "reply")
    for account in mentioned_accounts(rendered):
        tell(account, "mention")
    if target_type == "discussion":
        followers = select(Account).join(
            DiscussionFollow, DiscussionFollow.account_id == Account.id).where(
            DiscussionFollow.discussion_id == target.id, Account.status == "active",
            Account.id.not_in(list(told)))
        if target.visibility == "members":
            followers = followers.where(Account.id.in_(select(Membership.account_id).where(
                Membership.org_id == target.org_id)))
        for account in db.session.scalars(followers):
            if account.id not in told:
                told.add(account.id)
                notify(account, "discussion", actor=actor, target_type="comment",
                       target_id=comment.id, url=path, excerpt=excerpt)


def _own(actor: Account, comment: Comment) -> None:
    if actor is None or comment.author_id != actor.id or comment.deleted_at is not None:
        raise PermissionDenied(_("Only its author may change this comment."))


def edit_comment(actor: Account, comment: Comment, source: str) -> None:
    """The author rewrites their comment; it shows an "edited" mark."""
    _own(actor, comment)
    text = _body(source)
    comment.body_source = text
    comment.body_html = render_content(text).html
    comment.edited_at = utcnow()
    screen_edit(actor, "comment", comment)
    sync("comment", comment)
    content_changed("comment", comment)


def delete_comment(actor: Account, comment: Comment) -> None:
    """The author removes their comment (see ``withdraw_comment``)."""
    _own(actor, comment)
    withdraw_comment(comment)
    content_changed("comment", comment)


def count_shown(comment: Comment, delta: int) -> None:
    """A comment leaves (-1) or returns to (+1) the page without being deleted (hidden or
    held by moderation, reinstated): the discussion's and the parent's counters follow, so
    visitors never count what they cannot see."""
    if comment.target_type == "discussion":
        db.session.execute(update(Discussion).where(Discussion.id == comment.target_id)
                           .values(comment_count=Discussion.comment_count + delta))
    if comment.parent_id:
        db.session.execute(update(Comment).where(Comment.id == comment.parent_id)
                           .values(reply_count=Comment.reply_count + delta))
    db.session.flush()


def withdraw_comment(comment: Comment) -> None:
    """Mark a comment deleted, whoever decided it (its author here, or its server for a
    reply received by federation). With replies it stays as a placeholder; without, it
    disappears, and so does a placeholder parent left with no reply."""
    if comment.deleted_at is not None:
        return
    comment.deleted_at = utcnow()
    if comment.target_type == "discussion":
        discussion = db.session.get(Discussion, comment.target_id)
        if discussion is not None:
            discussion.comment_count = Discussion.comment_count - 1
    node = comment
    # Walk up while a comment leaves the page: each parent loses a shown reply.
    while node.deleted_at is not None and node.reply_count <= 0 and node.parent_id:
        parent = db.session.get(Comment, node.parent_id)
        if parent is None:
            break
        parent.reply_count = max(parent.reply_count - 1, 0)
        node = parent
    db.session.flush()
    sync("comment", comment)


def follow(account: Account, discussion: Discussion) -> None:
    """Be told of new comments in a discussion (idempotent)."""
    if db.session.get(DiscussionFollow, (discussion.id, account.id)) is None:
        db.session.add(DiscussionFollow(discussion_id=discussion.id, account_id=account.id))
        db.session.flush()


def unfollow(account: Account, discussion: Discussion) -> None:
    row = db.session.get(DiscussionFollow, (discussion.id, account.id))
    if row is not None:
        db.session.delete(row)
        db.session.flush()
