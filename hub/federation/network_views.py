"""Pages of what came from the network: the list of what followed actors published, one
object with its origin and the replies written here, and replying to it.

Thin: read or call one service, commit once, redirect. What is kept, and how it was
cleaned, is ``remote_content``'s rule; replies are ``network_replies``'.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Optional

from hub.content.themes import theme_slug
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation import network_queries as queries
from hub.federation import network_replies as replies
from hub.federation.remote_content import origin_label
from hub.pagecache import public_page
from hub.views_common import form_error, me

bp = Blueprint("network", __name__)


class ReplyForm(FlaskForm):
    # No other validator: the service says what is wrong, in one place.
    body = TextAreaField(_l("Your reply"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""


@bp.app_template_global()
def remote_origin(actor) -> str:  # noqa: ANN001 - a RemoteActor
    return origin_label(actor)


@bp.app_template_global()
def remote_avatar(actor) -> str | None:  # noqa: ANN001 - a RemoteActor
    """The cached avatar's URL on this instance, or None (never the remote URL)."""
    from hub.federation.remote_media import cached_avatar

    name = cached_avatar(actor)
    return url_for("main.media", name=name) if name else None


@bp.get("/network")
@public_page
def index():
    kind = request.args.get("kind", "")
    kind = kind if kind in queries.KINDS else ""
    theme = theme_slug(request.args.get("theme", "")[:100])
    before = request.args.get("before", "")[:60]
    page = queries.network_items(kind=kind, theme=theme, before=before)
    args = {k: v for k, v in (("kind", kind), ("theme", theme)) if v}
    next_url = url_for(".index", before=page.next_cursor, **args) if page.next_cursor else None
    return render_template("federation/remote_list.html", page=page, kind=kind, theme=theme,
                           kinds=queries.KINDS, next_url=next_url,
                           first_url=url_for(".index", **args) if before else None)


def _speakable(viewer) -> list:  # noqa: ANN001 - an Account or None
    """Organisations the viewer may share in the name of."""
    from hub.federation.boosts import may_boost
    from hub.orgs.queries import list_memberships_of

    if viewer is None or viewer.status != "active":
        return []
    return [m.org for m in list_memberships_of(viewer) if may_boost(viewer, m.org)]


def _item_page(object_id: int, form: ReplyForm | None = None, status: int = 200):
    from hub.federation.boosts import boosters
    from hub.federation.likes import liked_by

    row = queries.get_remote_object(object_id)
    viewer = me() if current_user.is_authenticated else None
    return render_template(
        "federation/remote_object.html", item=row, attachments=queries.attachments_of(row),
        replies=replies.replies_to(row), may_reply=replies.may_reply(viewer),
        form=form or ReplyForm(formdata=None), confirm_form=ConfirmForm(),
        viewer_id=viewer.id if viewer is not None else None,
        liked=liked_by(viewer, row) is not None,
        boosters=boosters(row), share_as=_speakable(viewer) if row.visibility == "public"
        else []), status


@bp.get("/network/<int:object_id>")
@public_page
def item(object_id: int):
    return _item_page(object_id)


@bp.post("/network/<int:object_id>/replies")
@login_required
def reply(object_id: int):
    row = queries.get_remote_object(object_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            written = replies.add_reply(me(), row, form.body.data or "")
            db.session.commit()
        except (ValidationFailed, PermissionDenied) as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Your reply is published and sent to %(address)s.",
                    address=origin_label(row.actor)), "success")
            return redirect(url_for(".item", object_id=row.id, _anchor=f"reply-{written.id}"))
    return _item_page(object_id, form=form, status=400)


@bp.app_template_global()
def fediverse_likes(kind: str, item_id: int) -> int:
    """Likes a local item received from other servers (shown under it)."""
    from hub.federation.likes import count_likes

    return count_likes(kind, item_id)


@bp.post("/network/<int:object_id>/like")
@login_required
def like(object_id: int):
    """Like (or, with ``undo``, unlike) content from the network: its author is told."""
    from hub.federation import likes

    row = queries.get_remote_object(object_id)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    try:
        if request.form.get("undo"):
            likes.unlike_remote(me(), row)
            message = _("You no longer like it.")
        else:
            likes.like_remote(me(), row)
            message = _("You like it: its author is told.")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for(".item", object_id=row.id))


@bp.get("/network/replies/<int:reply_id>")
def reply_page(reply_id: int):
    """A reply's address (its ActivityPub id): people are sent to it under the object."""
    found = replies.get_reply(reply_id)
    if found.deleted_at is not None:
        return render_template("error.html", status=410, title=_("Deleted"),
                               detail=_("This reply was deleted.")), 410
    return redirect(url_for(".item", object_id=found.remote_object_id,
                            _anchor=f"reply-{found.id}"))


@bp.post("/network/replies/<int:reply_id>/delete")
@login_required
def delete_reply(reply_id: int):
    found = replies.get_reply(reply_id)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    replies.delete_reply(me(), found)
    db.session.commit()
    flash(_("Your reply is deleted; the servers it was sent to are told."), "success")
    return redirect(url_for(".item", object_id=found.remote_object_id))


@bp.post("/network/<int:object_id>/share/<handle>")
@login_required
def share(object_id: int, handle: str):
    """An organisation shares the object with its followers, or takes the share back."""
    from hub.federation import boosts
    from hub.orgs.queries import get_organisation

    row = queries.get_remote_object(object_id)
    org = get_organisation(handle)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    if request.form.get("undo"):
        boosts.unboost(me(), org, row)
        message = _("%(name)s no longer shares it.", name=org.name)
    else:
        boosts.boost(me(), org, row)
        message = _("%(name)s shares it with its followers.", name=org.name)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".item", object_id=row.id))
