"""Events and the agenda: instance and organisation agendas, event pages, writing.

Thin: parse a form, call one service, commit once, flash, redirect. Dates are shown in
the reader's language and the event's own time zone (``timing``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.content.counters import counts_views
from hub.content.editor import preview_or_save
from hub.content.events import queries, services
from hub.content.events.forms import ConfirmForm, EventForm
from hub.content.events.timing import format_day, format_span, osm_url
from hub.content.models import Event
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import limits
from hub.orgs.models import Organisation
from hub.orgs.queries import get_organisation
from hub.pagecache import public_page
from hub.views_common import current_locale_code, me

bp = Blueprint("events", __name__)


def _viewer():
    return me() if current_user.is_authenticated else None


def _url(event: Event) -> str:
    return url_for(".event", handle=event.org.handle, event_id=event.id)


def _helpers() -> dict:
    locale = current_locale_code()
    return {"event_span": lambda e: format_span(e.starts_at, e.ends_at, e.timezone, locale),
            "event_day": lambda e: format_day(e.starts_at, e.timezone, locale),
            "osm_url": osm_url}


def _agenda(org: Organisation | None):
    past = request.args.get("when") == "past"
    after = request.args.get("after", "")[:100]
    page = queries.list_agenda(_viewer(), past=past, org=org, after=after)
    endpoint, args = (".org_agenda", {"handle": org.handle}) if org else (".agenda", {})
    when = "past" if past else None
    next_url = (url_for(endpoint, **args, when=when, after=page.next_cursor)
                if page.next_cursor else None)
    return render_template(
        "content/events/agenda.html", org=org, page=page, past=past, next_url=next_url,
        first_url=url_for(endpoint, **args, when=when) if after else None,
        upcoming_url=url_for(endpoint, **args), past_url=url_for(endpoint, **args, when="past"),
        may_publish=org is not None and services.may("publish", _viewer(), org),
        **_helpers())


@bp.get("/agenda")
@public_page
def agenda():
    return _agenda(None)


@bp.get("/@<handle>/agenda")
@public_page
def org_agenda(handle: str):
    return _agenda(get_organisation(handle))


@bp.get("/@<handle>/events/<int:event_id>")
@counts_views("event", "event_id")
@public_page
def event(handle: str, event_id: int):
    org = get_organisation(handle)
    viewer = _viewer()
    may_edit = services.may("edit_content", viewer, org)
    found = queries.get_event(org, event_id, viewer, may_edit=may_edit)
    return render_template("content/events/event.html", org=org, event=found,
                           may_edit=may_edit,
                           form=ConfirmForm(formdata=None) if may_edit else None, **_helpers())


def _editor_page(org: Organisation, form: EventForm, run, event=None):
    done, preview_html = preview_or_save(form, form.description, run,
                                         _("The event is saved."), _url)
    if done is not None:
        return done
    status = 400 if request.method == "POST" and preview_html is None else 200
    return render_template("content/events/edit.html", org=org, form=form, event=event,
                           preview_html=preview_html), status


@bp.route("/@<handle>/events/new", methods=["GET", "POST"])
@limits.writing
@login_required
def new(handle: str):
    org = get_organisation(handle)
    if not services.may("publish", me(), org):
        raise PermissionDenied(_("Only editors of the organisation may announce events."))
    form = EventForm(default_zone=me().timezone or "Europe/Paris")
    return _editor_page(org, form, lambda draft: services.create_event(me(), org, draft))


@bp.route("/@<handle>/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(handle: str, event_id: int):
    org = get_organisation(handle)
    if not services.may("edit_content", me(), org):
        raise PermissionDenied(_("Only editors of the organisation may edit events."))
    found = queries.get_event(org, event_id, me(), may_edit=True)
    form = EventForm(default_zone=found.timezone)
    if request.method == "GET":
        form.fill_from(found)

    def run(draft):
        services.update_event(me(), found, draft)
        return found

    return _editor_page(org, form, run, event=found)


@bp.post("/@<handle>/events/<int:event_id>/delete")
@login_required
def delete(handle: str, event_id: int):
    org = get_organisation(handle)
    if not services.may("edit_content", me(), org):
        raise PermissionDenied(_("Only editors of the organisation may delete events."))
    found = queries.get_event(org, event_id, me(), may_edit=True)
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))
    services.delete_event(me(), found)
    db.session.commit()
    flash(_("The event is deleted."), "success")
    return redirect(url_for(".org_agenda", handle=org.handle))


@dataclass
class OrgEvents:
    """The organisation page's agenda entry: its next events and how to print a date."""

    upcoming: list[Event]
    day: Callable[[Event], str]


def org_section_events(org: Organisation, viewer, limit: int = 5) -> OrgEvents:
    """Next events for ``content/events/_org_section.html`` (one query)."""
    return OrgEvents(queries.list_agenda(viewer, org=org, limit=limit).events,
                     _helpers()["event_day"])
