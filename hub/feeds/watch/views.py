"""Pages of the collective watch: an organisation's watch, the instance's, and the admins'
list of watched feeds.

Thin: parse, call one service, commit once, flash, redirect. Services decide who may
manage the feeds; the checks here only choose which links to show and refuse the admin
page early.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.content.resources.services import may_share
from hub.errors import Conflict, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.feeds.watch import queries, services
from hub.feeds.watch.forms import ConfirmForm, OpmlForm, SourceForm
from hub.orgs.models import Organisation
from hub.orgs.permissions import can
from hub.orgs.queries import get_organisation, list_memberships_of
from hub.pagecache import public_page
from hub.views_common import form_error, me

bp = Blueprint("watch", __name__)


def _viewer() -> Any:
    return me() if current_user.is_authenticated else None


def _before() -> str:
    return request.args.get("before", "")[:60]


def _share_targets(viewer: Any) -> list[Organisation]:
    """Organisations whose library the viewer may share into, from their memberships read
    once (``access.may`` would read the role again for each)."""
    if viewer is None or viewer.status != "active":
        return []
    return [m.org for m in list_memberships_of(viewer)
            if can("share_resource", m.role, instance_admin=viewer.is_admin)]


# -- reading ----------------------------------------------------------------------------


@bp.get("/@<handle>/watch")
@public_page
def org_watch(handle: str):
    org = get_organisation(handle)
    viewer = _viewer()
    before = _before()
    page = queries.org_watch_items(org, before=before)
    manage = services.may_manage(viewer, org)
    next_url = (url_for(".org_watch", handle=org.handle, before=page.next_cursor)
                if page.next_cursor else None)
    return render_template(
        "feeds/watch_org.html", org=org, page=page, manage=manage,
        failing=queries.failing_sources(org) if manage else [],
        may_share=may_share(viewer, org), next_url=next_url,
        first_url=url_for(".org_watch", handle=org.handle) if before else None)


@bp.get("/watch")
@public_page
def instance_watch():
    before = _before()
    page = queries.instance_watch_items(before=before)
    next_url = url_for(".instance_watch", before=page.next_cursor) if page.next_cursor else None
    return render_template(
        "feeds/watch_instance.html", page=page, share_targets=_share_targets(_viewer()),
        next_url=next_url, first_url=url_for(".instance_watch") if before else None)


# -- the admins' list of feeds -----------------------------------------------------------


def _managed(handle: str) -> Organisation:
    org = get_organisation(handle)
    if not services.may_manage(me(), org):
        raise PermissionDenied(_("Only admins of %(name)s may manage its watched feeds.",
                                 name=org.name))
    return org


def _sources_url(org: Organisation) -> str:
    return url_for(".sources", handle=org.handle)


def _sources_page(org: Organisation, source_form: SourceForm | None = None,
                  opml_form: OpmlForm | None = None, status: int = 200):
    return render_template(
        "feeds/watch_sources.html", org=org, sources=queries.org_sources(org),
        source_form=source_form or SourceForm(formdata=None),
        opml_form=opml_form or OpmlForm(formdata=None), confirm_form=ConfirmForm(),
        max_sources=services.MAX_SOURCES,
        max_opml_mb=services.MAX_OPML_BYTES // (1024 * 1024)), status


@bp.route("/@<handle>/watch/sources", methods=["GET", "POST"])
@login_required
def sources(handle: str):
    org = _managed(handle)
    if request.method == "GET":
        return _sources_page(org)
    form = SourceForm()
    if form.validate_on_submit():
        try:
            source = services.add_source(me(), org, form.url.data or "")
            db.session.commit()
        except (ValidationFailed, Conflict) as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("%(url)s is now watched; its items will appear in a few minutes.",
                    url=source.url), "success")
            return redirect(_sources_url(org))
    return _sources_page(org, source_form=form, status=400)


@bp.post("/@<handle>/watch/sources/import")
@login_required
def import_opml(handle: str):
    org = _managed(handle)
    form = OpmlForm()
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("Choose an OPML file to import.")]
        else:
            try:
                # One byte past the limit is enough for the service to refuse the file.
                data = upload.stream.read(services.MAX_OPML_BYTES + 1)
                result = services.import_opml(me(), org, data)
                db.session.commit()
            except (ValidationFailed, Conflict) as exc:
                db.session.rollback()
                form_error(form, exc)
            else:
                flash(_("%(added)d feeds added, %(skipped)d skipped (already watched, "
                        "repeated or with an address we refuse).",
                        added=result.added, skipped=result.skipped), "success")
                return redirect(_sources_url(org))
    return _sources_page(org, opml_form=form, status=400)


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))


@bp.post("/@<handle>/watch/sources/<int:source_id>/pause")
@login_required
def pause(handle: str, source_id: int):
    org = _managed(handle)
    _confirmed()
    source = services.pause_source(me(), org, source_id)
    db.session.commit()
    flash(_("%(url)s is paused: it is no longer read, its items stay.", url=source.url),
          "success")
    return redirect(_sources_url(org))


@bp.post("/@<handle>/watch/sources/<int:source_id>/resume")
@login_required
def resume(handle: str, source_id: int):
    org = _managed(handle)
    _confirmed()
    source = services.resume_source(me(), org, source_id)
    db.session.commit()
    flash(_("%(url)s is watched again; it will be read in a moment.", url=source.url),
          "success")
    return redirect(_sources_url(org))


@bp.post("/@<handle>/watch/sources/<int:source_id>/remove")
@login_required
def remove(handle: str, source_id: int):
    org = _managed(handle)
    _confirmed()
    url = queries.get_source(org, source_id).url
    services.remove_source(me(), org, source_id)
    db.session.commit()
    flash(_("%(url)s is no longer watched, and its items are removed.", url=url), "success")
    return redirect(_sources_url(org))
