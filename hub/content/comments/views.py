"""Comments under discussions, posts, resources and events.

``comment_section`` is a template global: the detail page of each item calls
``{{ comment_section("post", post) }}`` and gets the thread rendered for the current
viewer. Replying works without JavaScript: each comment links to its own page
(``/comments/<id>#reply``) where the reply form is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.routing import BuildError

from hub.content.comments import queries, services
from hub.content.comments.forms import CommentForm, ConfirmForm
from hub.content.models import Comment
from hub.content.visibility import is_viewable
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import limits
from hub.pagecache import public_page
from hub.views_common import form_error, me

bp = Blueprint("comments", __name__)

#: Where each kind of item lives (endpoint, how to build its arguments).
_TARGET_PAGES = {
    "discussion": ("discussions.discussion",
                   lambda obj: {"handle": obj.org.handle, "discussion_id": obj.id}),
    "post": ("posts.post", lambda obj: {"handle": obj.org.handle, "post_id": obj.id}),
    "resource": ("resources.resource", lambda obj: {"resource_id": obj.id}),
    "event": ("events.event", lambda obj: {"handle": obj.org.handle, "event_id": obj.id}),
}


def target_url(target_type: str, target: Any) -> str:
    """The page of the item a comment is under."""
    endpoint, args = _TARGET_PAGES[target_type]
    try:
        return url_for(endpoint, **args(target))
    except BuildError:  # the page of that kind is not there (yet): stay on the thread
        return url_for("main.home")


def _viewer() -> Any:
    return me() if current_user.is_authenticated else None


def comment_section(target_type: str, target) -> str:
    """The comments of an item, rendered for the current viewer (a template global)."""
    viewer = _viewer()
    if target is None or not is_viewable(target, viewer):
        return ""
    after = request.args.get("comments_after", "")[:100]
    page = queries.thread_page(target_type, target.id, viewer, after)
    refusal = services.comment_refusal(viewer, target_type, target)
    next_url = None
    if page.next_cursor:
        args = {**(request.view_args or {}), "comments_after": page.next_cursor}
        next_url = url_for(request.endpoint, **args) + "#comments"
    first_url = url_for(request.endpoint, **(request.view_args or {})) if after else None
    # The template's output is autoescaped HTML: safe to embed in the page as is.
    return Markup(render_template(  # noqa: S704
        "content/comments/_section.html", nodes=page.nodes, target_type=target_type,
        target=target, refusal=refusal, next_url=next_url, first_url=first_url,
        form=CommentForm(formdata=None) if refusal is None else None,
        may_reply=refusal is None, confirm_form=ConfirmForm(formdata=None)
        if viewer is not None else None))


def _target_of(comment: Comment, viewer: Any) -> Any:
    target = queries.find_target(comment.target_type, comment.target_id)
    if target is None or not is_viewable(target, viewer):
        raise NotFound("comment")
    return target


@bp.get("/comments/<int:comment_id>")
@public_page
def comment(comment_id: int):
    """One comment and two levels of its replies, with the reply form (#reply)."""
    viewer = _viewer()
    found = queries.get_comment(comment_id, viewer)
    return _comment_page(found, viewer)


def _comment_page(found: Comment, viewer: Any, form: CommentForm | None = None,
                  status: int = 200):
    target = _target_of(found, viewer)
    refusal = services.comment_refusal(viewer, found.target_type, target)
    may_reply = refusal is None and found.deleted_at is None and found.hidden_at is None
    if may_reply and form is None:
        form = CommentForm(formdata=None)
    parent = None
    if found.parent_id:
        parent = db.session.get(Comment, found.parent_id)
    return render_template(
        "content/comments/comment.html", comment=found, target=target,
        target_type=found.target_type, target_url=target_url(found.target_type, target),
        nodes=queries.subtree(found, viewer), parent=parent, refusal=refusal,
        form=form if may_reply else None, may_reply=refusal is None,
        confirm_form=ConfirmForm(formdata=None) if viewer is not None else None), status


@bp.post("/comments/<any(discussion, post, resource, event):target_type>/<int:target_id>")
@limits.commenting
@login_required
def create(target_type: str, target_id: int):
    viewer = me()
    target = queries.find_target(target_type, target_id)
    if target is None or not is_viewable(target, viewer):
        raise NotFound("item")
    back = target_url(target_type, target)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Write something first.") if not (form.body.data or "").strip()
              else _("The comment could not be sent. Please try again."), "error")
        return redirect(back + "#comment-form")
    try:
        new = services.add_comment(viewer, target_type, target, form.body.data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back + "#comment-form")
    flash(_("Your comment is published."), "success")
    return redirect(back + f"#comment-{new.id}")


@bp.post("/comments/<int:comment_id>/reply")
@limits.commenting
@login_required
def reply(comment_id: int):
    viewer = me()
    parent = queries.get_comment(comment_id, viewer)
    target = _target_of(parent, viewer)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            new = services.add_comment(viewer, parent.target_type, target, form.body.data,
                                       parent=parent)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Your reply is published."), "success")
            return redirect(url_for(".comment", comment_id=parent.id) + f"#comment-{new.id}")
    else:
        refusal = services.comment_refusal(viewer, parent.target_type, target)
        if refusal:
            raise PermissionDenied(refusal)
    return _comment_page(parent, viewer, form=form, status=400)


def _own_comment(comment_id: int) -> Comment:
    found = queries.find_live_comment(comment_id)
    if found is None:
        raise NotFound("comment")
    if found.author_id != current_user.id:
        raise PermissionDenied(_("Only its author may change this comment."))
    return found


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(comment_id: int):
    found = _own_comment(comment_id)
    target = _target_of(found, me())
    form = CommentForm()
    if request.method == "GET":
        form.body.data = found.body_source
    if form.validate_on_submit():
        try:
            services.edit_comment(me(), found, form.body.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Your comment is saved."), "success")
            return redirect(url_for(".comment", comment_id=found.id))
    status = 400 if request.method == "POST" else 200
    return render_template("content/comments/edit.html", comment=found, form=form,
                           target=target,
                           target_url=target_url(found.target_type, target)), status


@bp.post("/comments/<int:comment_id>/delete")
@login_required
def delete(comment_id: int):
    found = _own_comment(comment_id)
    target = queries.find_target(found.target_type, found.target_id)
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))
    services.delete_comment(me(), found)
    db.session.commit()
    flash(_("Your comment is deleted."), "success")
    if target is None or target.deleted_at is not None:
        return redirect(url_for("main.home"))
    return redirect(target_url(found.target_type, target) + "#comments")
