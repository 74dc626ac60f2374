"""Reads of events: the agenda (instance-wide or one organisation's) and an event page.

Upcoming means not over yet (an event in progress stays in the upcoming list), soonest
first; past means over, latest first. Both are keyset paginated on (starts_at, id) and
run one query whatever the number of events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from hub.content.comments.tree import decode_cursor, encode_cursor
from hub.content.models import Event
from hub.content.visibility import is_viewable, listed_clause
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond
from hub.models_base import utcnow

PAGE_SIZE = 30


@dataclass
class AgendaPage:
    events: list[Event]
    #: ``after`` value of the next page, None on the last one.
    next_cursor: str | None


def get_event(org: Any, event_id: int, viewer: Any, *, may_edit: bool = False) -> Event:
    """An event of ``org`` the viewer may open; editors also see hidden ones."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id, Event.org_id == org.id)
        .options(joinedload(Event.author), selectinload(Event.themes)))
    if event is None or not is_viewable(event, viewer, may_edit=may_edit):
        raise NotFound("event")
    return event


def list_agenda(viewer: Any, *, past: bool = False, org: Any = None, after: str = "",
                limit: int = PAGE_SIZE, now: datetime | None = None) -> AgendaPage:
    """Upcoming events soonest first, or past events latest first."""
    now = now or utcnow()
    query = (select(Event).where(listed_clause(Event, viewer))
             .options(joinedload(Event.org)))
    if org is not None:
        query = query.where(Event.org_id == org.id)
    cursor = decode_cursor(after, "di")
    if past:
        query = query.where(Event.ends_at < now)
        if cursor is not None:
            at, last_id = cursor
            query = query.where(beyond((Event.starts_at, Event.id), (at, last_id),
                                       descending=True))
        query = query.order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.where(Event.ends_at >= now)
        if cursor is not None:
            at, last_id = cursor
            query = query.where(beyond((Event.starts_at, Event.id), (at, last_id),
                                       descending=False))
        query = query.order_by(Event.starts_at, Event.id)
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].starts_at, rows[-1].id)
    return AgendaPage(rows, next_cursor)
