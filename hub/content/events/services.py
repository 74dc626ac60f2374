"""Announcing events: creation by editors, edits, cancellation (a status), soft deletion.

Services add and flush; the caller commits. Times arrive as a local date and time in a
chosen IANA zone and are stored in UTC beside the zone (``timing``). Every refusal is
raised before anything changes; search documents follow every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from flask_babel import gettext as _

from hub.accounts.models import Account
from hub.content.events.timing import is_https_url, to_utc, valid_coordinates, zone
from hub.content.models import EVENT_STATUSES, Event
from hub.content.search.index import sync
from hub.content.themes import resolve_themes, split_labels
from hub.content.visibility import member_org_ids
from hub.content.writing import mentioned_accounts, render_content
from hub.errors import ValidationFailed
from hub.extensions import db
from hub.federation.publishing import content_changed
from hub.models_base import utcnow
from hub.moderation.charter import require_charter
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import screen_edit
from hub.notifications.services import notify
from hub.orgs.access import may, refusal
from hub.orgs.models import Organisation
from hub.urls import local_path

EVENT_VISIBILITIES = ("public", "members")
MAX_DESCRIPTION = 50_000


@dataclass(frozen=True)
class EventDraft:
    title: str
    start_date: date | None
    start_time: time | None
    end_date: date | None
    end_time: time | None
    timezone: str = "Europe/Paris"
    description: str = ""
    place_name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""
    themes: str = ""
    status: str = "confirmed"
    visibility: str = "public"


_refuse = refusal


def _check_times(draft: EventDraft):
    if zone(draft.timezone) is None:
        raise ValidationFailed(_("Choose a time zone from the list."), field="timezone")
    if draft.start_date is None or draft.start_time is None:
        raise ValidationFailed(_("Give the date and time it starts."), field="start_date")
    if draft.end_date is None or draft.end_time is None:
        raise ValidationFailed(_("Give the date and time it ends."), field="end_date")
    starts_at = to_utc(draft.start_date, draft.start_time, draft.timezone)
    ends_at = to_utc(draft.end_date, draft.end_time, draft.timezone)
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must come after the start."), field="end_date")
    return starts_at, ends_at


def _check_place(draft: EventDraft) -> str:
    problem = valid_coordinates(draft.latitude, draft.longitude)
    if problem == "pair":
        raise ValidationFailed(_("Give both latitude and longitude, or neither."),
                               field="latitude")
    if problem == "latitude":
        raise ValidationFailed(_("Latitude must be between -90 and 90."), field="latitude")
    if problem == "longitude":
        raise ValidationFailed(_("Longitude must be between -180 and 180."), field="longitude")
    url = draft.online_url.strip()
    if url and not is_https_url(url):
        raise ValidationFailed(_("The online link must start with https://."),
                               field="online_url")
    return url


def _apply(event: Event, draft: EventDraft) -> Any:
    title = draft.title.strip()
    if not title:
        raise ValidationFailed(_("The title is required."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("The title is 200 characters at most."), field="title")
    if len(draft.description) > MAX_DESCRIPTION:
        raise ValidationFailed(_("The description is too long."), field="description")
    if draft.status not in EVENT_STATUSES:
        raise ValidationFailed(_("Choose a status."), field="status")
    if draft.visibility not in EVENT_VISIBILITIES:
        raise ValidationFailed(_("Choose who may see it."), field="visibility")
    starts_at, ends_at = _check_times(draft)
    online_url = _check_place(draft)
    rendered = render_content(draft.description.strip())
    event.title = title
    event.description_source = draft.description.strip()
    event.description_html = rendered.html
    event.starts_at, event.ends_at, event.timezone = starts_at, ends_at, draft.timezone
    event.place_name = draft.place_name.strip()[:200]
    event.address = draft.address.strip()[:300]
    event.latitude, event.longitude = draft.latitude, draft.longitude
    event.online_url = online_url
    event.status = draft.status
    event.visibility = draft.visibility
    event.themes = resolve_themes([*split_labels(draft.themes), *rendered.tags])
    return rendered


def create_event(actor: Account, org: Organisation, draft: EventDraft) -> Event:
    """Editors and above announce an event of their organisation."""
    if not may("publish", actor, org):
        raise _refuse()
    require_charter(actor)
    event = Event(org_id=org.id, org=org, author_id=actor.id)
    rendered = _apply(event, draft)
    event.created_at = event.updated_at = utcnow()
    db.session.add(event)
    db.session.flush()
    if not hold_if_needed(actor, "event", event):
        _notify_mentions(actor, event, rendered)
    sync("event", event)
    content_changed("event", event)
    return event


def update_event(actor: Account, event: Event, draft: EventDraft) -> None:
    if event.deleted_at is not None or not may("edit_content", actor, event.org):
        raise _refuse()
    _apply(event, draft)
    event.updated_at = event.edited_at = utcnow()
    screen_edit(actor, "event", event)
    sync("event", event)
    content_changed("event", event)


def delete_event(actor: Account, event: Event) -> None:
    if event.deleted_at is not None or not may("edit_content", actor, event.org):
        raise _refuse()
    event.deleted_at = utcnow()
    sync("event", event)
    content_changed("event", event)


def _notify_mentions(actor: Account, event: Event, rendered: Any) -> None:
    path = local_path("events.event", handle=event.org.handle, event_id=event.id)
    for account in mentioned_accounts(rendered):
        if event.visibility == "members" and event.org_id not in member_org_ids(account):
            continue
        notify(account, "mention", actor=actor, target_type="event", target_id=event.id,
               url=path, excerpt=event.title)
