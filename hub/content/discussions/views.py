"""Discussion threads of organisations: the list, a thread, writing and moderating.

Thin: parse a form, call one service, commit once, flash, redirect. The services decide
who may do what; the checks here only choose which buttons to show.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.content.counters import counts_views
from hub.content.discussions import queries, services
from hub.content.discussions.forms import ConfirmForm, DiscussionForm, ModerateForm
from hub.content.editor import preview_or_save
from hub.content.models import Discussion
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import limits
from hub.orgs.models import Organisation
from hub.orgs.queries import get_organisation
from hub.pagecache import public_page
from hub.views_common import me

bp = Blueprint("discussions", __name__)


def _viewer():
    return me() if current_user.is_authenticated else None


def _url(discussion: Discussion) -> str:
    return url_for(".discussion", handle=discussion.org.handle, discussion_id=discussion.id)


@bp.get("/@<handle>/discussions")
@public_page
def org_discussions(handle: str):
    org = get_organisation(handle)
    viewer = _viewer()
    after = request.args.get("after", "")[:100]
    page = queries.list_org_discussions(org, viewer, after=after)
    next_url = url_for(".org_discussions", handle=org.handle,
                       after=page.next_cursor) if page.next_cursor else None
    first_url = url_for(".org_discussions", handle=org.handle) if after else None
    return render_template("content/discussions/list.html", org=org, page=page,
                           next_url=next_url, first_url=first_url,
                           may_open=services.may("open_discussion", viewer, org))


@bp.get("/@<handle>/discussions/<int:discussion_id>")
@counts_views("discussion", "discussion_id")
@public_page
def discussion(handle: str, discussion_id: int):
    org = get_organisation(handle)
    viewer = _viewer()
    found = queries.get_discussion(org, discussion_id, viewer)
    return render_template(
        "content/discussions/discussion.html", org=org, discussion=found,
        may_edit=services.may_edit(viewer, found),
        may_delete=services.may_delete(viewer, found),
        may_moderate=services.may("moderate_discussion", viewer, org),
        following=queries.is_following(found, viewer),
        form=ConfirmForm(formdata=None) if viewer is not None else None)


def _editor_page(org: Organisation, form: DiscussionForm, run, discussion=None):
    """Shared by opening and editing: preview, or save and go to the thread."""
    done, preview_html = preview_or_save(form, form.body, run, _("The discussion is saved."),
                                         _url)
    if done is not None:
        return done
    status = 400 if request.method == "POST" and preview_html is None else 200
    return render_template("content/discussions/edit.html", org=org, form=form,
                           discussion=discussion, preview_html=preview_html), status


@bp.route("/@<handle>/discussions/new", methods=["GET", "POST"])
@limits.writing
@login_required
def new(handle: str):
    org = get_organisation(handle)
    if not services.may("open_discussion", me(), org):
        raise PermissionDenied(_("Only members of the organisation may open a discussion."))
    return _editor_page(org, DiscussionForm(),
                        lambda draft: services.open_discussion(me(), org, draft))


@bp.route("/@<handle>/discussions/<int:discussion_id>/edit", methods=["GET", "POST"])
@login_required
def edit(handle: str, discussion_id: int):
    org = get_organisation(handle)
    found = queries.get_discussion(org, discussion_id, me())
    if not services.may_edit(me(), found):
        raise PermissionDenied(_("Only its author may edit this discussion."))
    form = DiscussionForm()
    if request.method == "GET":
        form.fill_from(found)

    def run(draft):
        services.edit_discussion(me(), found, draft)
        return found

    return _editor_page(org, form, run, discussion=found)


def _confirmed(form) -> None:
    if not form.validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))


@bp.post("/@<handle>/discussions/<int:discussion_id>/delete")
@login_required
def delete(handle: str, discussion_id: int):
    org = get_organisation(handle)
    found = queries.get_discussion(org, discussion_id, me())
    if not services.may_delete(me(), found):
        raise PermissionDenied(_("Only its author or an admin may delete this discussion."))
    _confirmed(ConfirmForm())
    services.delete_discussion(me(), found)
    db.session.commit()
    flash(_("The discussion is deleted."), "success")
    return redirect(url_for(".org_discussions", handle=org.handle))


MODERATION_DONE = {
    "lock": lambda: _("The discussion is locked: nobody can comment."),
    "unlock": lambda: _("The discussion is unlocked."),
    "pin": lambda: _("The discussion is pinned at the top of the list."),
    "unpin": lambda: _("The discussion is no longer pinned."),
    "close": lambda: _("The discussion is closed."),
    "reopen": lambda: _("The discussion is open again."),
}


@bp.post("/@<handle>/discussions/<int:discussion_id>/moderate")
@login_required
def moderate(handle: str, discussion_id: int):
    org = get_organisation(handle)
    found = queries.get_discussion(org, discussion_id, me())
    if not services.may("moderate_discussion", me(), org):
        raise PermissionDenied(_("Only admins of the organisation may moderate discussions."))
    form = ModerateForm()
    _confirmed(form)
    services.moderate(me(), found, form.action.data)
    db.session.commit()
    flash(MODERATION_DONE[form.action.data](), "success")
    return redirect(_url(found))


@bp.post("/@<handle>/discussions/<int:discussion_id>/follow")
@login_required
def follow(handle: str, discussion_id: int):
    return _set_following(handle, discussion_id, True)


@bp.post("/@<handle>/discussions/<int:discussion_id>/unfollow")
@login_required
def unfollow(handle: str, discussion_id: int):
    return _set_following(handle, discussion_id, False)


def _set_following(handle: str, discussion_id: int, on: bool):
    org = get_organisation(handle)
    found = queries.get_discussion(org, discussion_id, me())
    _confirmed(ConfirmForm())
    services.set_following(me(), found, on)
    db.session.commit()
    flash(_("You follow this discussion: new comments will be notified to you.") if on
          else _("You no longer follow this discussion."), "success")
    return redirect(_url(found))
