"""News posts of organisations: pages, writing, scheduling, Markdown preview.

Thin: parse a form, call one service, commit once, flash, redirect. The services decide
who may write; the checks here only choose which links to show and refuse a form page
early, so nobody fills in a form they cannot send.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.content.counters import counts_views
from hub.content.models import Post
from hub.content.posts import services
from hub.content.posts.forms import ConfirmForm, PinForm, PostForm, PreviewForm
from hub.content.posts.queries import get_post, list_org_posts, list_unpublished_posts
from hub.content.posts.schedule import utc_to_local
from hub.content.visibility import is_viewable
from hub.content.writing import render_content
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import limits
from hub.orgs.models import Organisation
from hub.orgs.queries import get_organisation
from hub.pagecache import public_page
from hub.views_common import form_error, me

bp = Blueprint("posts", __name__)


def _viewer():
    return me() if current_user.is_authenticated else None


def _post_url(post: Post) -> str:
    return url_for("posts.post", handle=post.org.handle, post_id=post.id)


def _list_url(org: Organisation) -> str:
    return url_for("posts.org_posts", handle=org.handle)


def _upload(field):
    data = field.data
    return data.stream if data is not None and getattr(data, "filename", "") else None


def _date_helpers(default_tz: str) -> dict:
    """Dates in the viewer's language, on the viewer's clock (the author's for visitors,
    so cached pages are the same for everyone)."""
    tz = getattr(_viewer(), "timezone", None) or default_tz

    def long_date(moment: datetime | None) -> str:
        return format_date(utc_to_local(moment, tz), "long") if moment else ""

    def date_time(moment: datetime | None, zone: str | None = None) -> str:
        if moment is None:
            return ""
        local = utc_to_local(moment, zone or tz)
        return f"{format_datetime(local, 'short', rebase=False)} ({zone or tz})"

    return {"long_date": long_date, "date_time": date_time}


# -- reading --------------------------------------------------------------------------------


@bp.get("/@<handle>/news")
@public_page
def org_posts(handle: str):
    org = get_organisation(handle)
    viewer = _viewer()
    before = request.args.get("before", "")[:60]
    page = list_org_posts(org, viewer, before=before)
    may_edit = services.may_edit(viewer, org)
    next_url = (url_for(".org_posts", handle=org.handle, before=page.next_cursor)
                if page.next_cursor else None)
    return render_template(
        "content/posts/list.html", org=org, page=page, next_url=next_url,
        first_url=_list_url(org) if before else None,
        may_write=services.may_write(viewer, org), may_edit=may_edit,
        unpublished=list_unpublished_posts(org) if may_edit and not before else [],
        **_date_helpers("Europe/Paris"))


@bp.get("/@<handle>/news/<int:post_id>")
@counts_views("post", "post_id")
@public_page
def post(handle: str, post_id: int):
    org = get_organisation(handle)
    found = get_post(org, post_id)
    viewer = _viewer()
    may_edit = services.may_edit(viewer, org)
    if not is_viewable(found, viewer, may_edit=may_edit):
        raise NotFound("post")
    return render_template(
        "content/posts/post.html", org=org, post=found, may_edit=may_edit,
        delete_form=ConfirmForm() if may_edit else None,
        pin_form=PinForm() if may_edit else None, **_date_helpers(found.timezone))


# -- writing --------------------------------------------------------------------------------


def _refuse_unless(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Only editors of this organisation may do this."))


def _form_page(form: PostForm, org: Organisation, post: Post | None, status: int,
               preview_html: str | None = None):
    return render_template("content/posts/form.html", form=form, org=org, post=post,
                           preview_html=preview_html), status


def _preview(form: PostForm, org: Organisation, post: Post | None):
    """The Preview button without JavaScript: the same form, the text rendered below it,
    nothing saved (an image chosen in the form must be chosen again)."""
    return _form_page(form, org, post, 200, render_content(form.body.data or "").html)


@bp.route("/@<handle>/news/new", methods=["GET", "POST"])
@limits.writing
@login_required
def new(handle: str):
    org = get_organisation(handle)
    _refuse_unless(services.may_write(me(), org))
    form = PostForm()
    if request.method == "GET":
        form.timezone.data = me().timezone or form.timezone.default
    elif request.form.get("preview"):
        return _preview(form, org, None)
    if form.validate_on_submit():
        try:
            created = services.create_post(me(), org, form.draft(), cover=_upload(form.cover))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_status_message(created), "success")
            return redirect(_post_url(created))
    return _form_page(form, org, None, 400 if request.method == "POST" else 200)


@bp.route("/@<handle>/news/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(handle: str, post_id: int):
    org = get_organisation(handle)
    _refuse_unless(services.may_edit(me(), org))
    found = get_post(org, post_id)
    form = PostForm()
    if request.method == "GET":
        form.fill_from(found)
    elif request.form.get("preview"):
        return _preview(form, org, found)
    if form.validate_on_submit():
        try:
            services.update_post(me(), found, form.draft(), cover=_upload(form.cover),
                                 remove_cover=form.remove_cover.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_status_message(found), "success")
            return redirect(_post_url(found))
    return _form_page(form, org, found, 400 if request.method == "POST" else 200)


def _status_message(saved: Post) -> str:
    if saved.status == "published":
        return _("The post is published.")
    if saved.status == "scheduled":
        return _("The post is scheduled; it will be published at the chosen time.")
    return _("The draft is saved.")


@bp.post("/@<handle>/news/<int:post_id>/delete")
@login_required
def delete(handle: str, post_id: int):
    org = get_organisation(handle)
    _refuse_unless(services.may_edit(me(), org))
    found = get_post(org, post_id)
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))
    services.delete_post(me(), found)
    db.session.commit()
    flash(_("The post is deleted."), "success")
    return redirect(_list_url(org))


@bp.post("/@<handle>/news/<int:post_id>/pin")
@login_required
def pin(handle: str, post_id: int):
    org = get_organisation(handle)
    _refuse_unless(services.may_edit(me(), org))
    found = get_post(org, post_id)
    form = PinForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))
    pinned = form.pinned.data == "1"
    try:
        services.set_pinned(me(), found, pinned)
        db.session.commit()
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The post is pinned.") if pinned else _("The post is unpinned."), "success")
    return redirect(_post_url(found))


@bp.post("/preview")
@login_required
def preview():
    """The clean HTML of some Markdown, for the live preview script (nothing is saved)."""
    form = PreviewForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("The text could not be previewed."))
    html = render_content(form.source.data or "").html
    return Response(html, mimetype="text/html")
