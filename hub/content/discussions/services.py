"""Discussion threads: opening, editing, deleting, moderating (lock, pin, close), following.

Services add and flush; the caller commits. Members open threads; authors edit and delete
their own; organisation admins moderate (and may delete). Every refusal comes before any
change. Search documents follow every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.accounts.models import Account
from hub.content.comments.services import follow, unfollow
from hub.content.models import Comment, Discussion, SearchDocument
from hub.content.search.index import remove, sync
from hub.content.themes import resolve_themes, split_labels
from hub.content.visibility import is_viewable, member_org_ids
from hub.content.writing import mentioned_accounts, render_content
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.moderation.charter import require_charter
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import screen_edit
from hub.notifications.services import notify
from hub.orgs.access import may, refusal
from hub.orgs.models import Organisation
from hub.urls import local_path

DISCUSSION_VISIBILITIES = ("public", "members")
MAX_BODY = 50_000

#: Moderation actions and the flag each one sets.
MODERATION = {
    "lock": ("is_locked", True), "unlock": ("is_locked", False),
    "pin": ("is_pinned", True), "unpin": ("is_pinned", False),
    "close": ("is_closed", True), "reopen": ("is_closed", False),
}


@dataclass(frozen=True)
class DiscussionDraft:
    title: str
    body: str
    themes: str = ""
    visibility: str = "public"


_refuse = refusal


def _check(draft: DiscussionDraft) -> tuple[str, str]:
    title = draft.title.strip()
    if not title:
        raise ValidationFailed(_("The title is required."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("The title is 200 characters at most."), field="title")
    body = draft.body.strip()
    if not body:
        raise ValidationFailed(_("Write the first message."), field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(_("The message is too long."), field="body")
    if draft.visibility not in DISCUSSION_VISIBILITIES:
        raise ValidationFailed(_("Choose who may read it."), field="visibility")
    return title, body


def _apply(discussion: Discussion, draft: DiscussionDraft) -> Any:
    title, body = _check(draft)
    rendered = render_content(body)
    discussion.title = title
    discussion.body_source = body
    discussion.body_html = rendered.html
    discussion.visibility = draft.visibility
    discussion.themes = resolve_themes([*split_labels(draft.themes), *rendered.tags])
    return rendered


def _notify_mentions(actor: Account, discussion: Discussion, rendered: Any) -> None:
    path = local_path("discussions.discussion", handle=discussion.org.handle,
                   discussion_id=discussion.id)
    for account in mentioned_accounts(rendered):
        if discussion.visibility == "members" and (
                discussion.org_id not in member_org_ids(account)):
            continue
        notify(account, "mention", actor=actor, target_type="discussion",
               target_id=discussion.id, url=path, excerpt=discussion.title)


def open_discussion(actor: Account, org: Organisation, draft: DiscussionDraft) -> Discussion:
    """A member opens a thread; they follow it from then on."""
    if not may("open_discussion", actor, org):
        raise _refuse()
    require_charter(actor)
    from hub.moderation.actions import is_banned

    if is_banned(actor, org.id):
        raise _refuse()
    discussion = Discussion(org_id=org.id, author_id=actor.id, org=org)
    rendered = _apply(discussion, draft)
    now = utcnow()
    discussion.created_at = discussion.updated_at = discussion.last_activity_at = now
    db.session.add(discussion)
    db.session.flush()
    follow(actor, discussion)
    if not hold_if_needed(actor, "discussion", discussion):
        _notify_mentions(actor, discussion, rendered)
    sync("discussion", discussion)
    return discussion


def _is_author(actor: Any, discussion: Discussion) -> bool:
    return (actor is not None and getattr(actor, "is_authenticated", False)
            and actor.status == "active" and discussion.author_id == actor.id)


def may_edit(actor: Any, discussion: Discussion) -> bool:
    return _is_author(actor, discussion) and discussion.deleted_at is None


def may_delete(actor: Any, discussion: Discussion) -> bool:
    return discussion.deleted_at is None and (
        _is_author(actor, discussion) or may("moderate_discussion", actor, discussion.org))


def edit_discussion(actor: Account, discussion: Discussion, draft: DiscussionDraft) -> None:
    """The author rewrites the title, message, themes or audience."""
    if not may_edit(actor, discussion):
        raise PermissionDenied(_("Only its author may edit this discussion."))
    before = discussion.visibility
    _apply(discussion, draft)
    discussion.updated_at = discussion.edited_at = utcnow()
    screen_edit(actor, "discussion", discussion)
    if discussion.visibility != before:
        _comments_follow_visibility(discussion)
    sync("discussion", discussion)


def _comments_follow_visibility(discussion: Discussion) -> None:
    """Comments carry their thread's audience, in rows and in search documents."""
    ids = select(Comment.id).where(Comment.target_type == "discussion",
                                   Comment.target_id == discussion.id)
    db.session.execute(update(Comment).where(Comment.id.in_(ids))
                       .values(visibility=discussion.visibility)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(SearchDocument).where(
        SearchDocument.kind == "comment", SearchDocument.object_id.in_(ids))
        .values(visibility=discussion.visibility)
        .execution_options(synchronize_session=False))
    db.session.expire_all()


def delete_discussion(actor: Account, discussion: Discussion) -> None:
    """Soft delete: the thread and its comments disappear from pages and search."""
    if not may_delete(actor, discussion):
        raise PermissionDenied(_("Only its author or an admin may delete this discussion."))
    discussion.deleted_at = utcnow()
    sync("discussion", discussion)
    remove("comment", list(db.session.scalars(select(Comment.id).where(
        Comment.target_type == "discussion", Comment.target_id == discussion.id))))


def moderate(actor: Account, discussion: Discussion, action: str) -> None:
    """Lock, pin, close and their reverse: organisation admins only."""
    if not may("moderate_discussion", actor, discussion.org):
        raise _refuse()
    if action not in MODERATION:
        raise ValidationFailed(_("Unknown action."))
    flag, value = MODERATION[action]
    setattr(discussion, flag, value)
    discussion.updated_at = utcnow()
    sync("discussion", discussion)


def set_following(actor: Account, discussion: Discussion, on: bool) -> None:
    """Follow or stop following a thread the actor may read."""
    if actor is None or not is_viewable(discussion, actor):
        raise PermissionDenied(_("You cannot follow this discussion."))
    if on:
        follow(actor, discussion)
    else:
        unfollow(actor, discussion)
