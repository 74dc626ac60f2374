"""Reads of notifications: a person's list (keyset-paginated) and their unread count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from hub.extensions import db
from hub.keyset import beyond
from hub.notifications.models import Notification

PAGE_SIZE = 30
_CURSOR_FORMAT = "%Y%m%d%H%M%S%f"


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    #: "after" argument of the next (older) page, None on the last page.
    next_cursor: str | None


def encode_cursor(note: Notification) -> str:
    return f"{note.created_at.astimezone(UTC).strftime(_CURSOR_FORMAT)}-{note.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    stamp, _, raw_id = cursor.partition("-")
    if not raw_id.isdigit() or len(raw_id) > 18:
        return None
    try:
        when = datetime.strptime(stamp, _CURSOR_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return when, int(raw_id)


def list_notifications(account: Any, after: str = "", limit: int = PAGE_SIZE
                       ) -> NotificationPage:
    """Newest first on (created_at, id): no OFFSET, two queries whatever the page."""
    query = (select(Notification).where(Notification.account_id == account.id)
             .options(selectinload(Notification.actor))
             .order_by(Notification.created_at.desc(), Notification.id.desc())
             .limit(limit + 1))
    position = decode_cursor(after) if after else None
    if position is not None:
        when, last_id = position
        query = query.where(beyond((Notification.created_at, Notification.id),
                                   (when, last_id), descending=True))
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(rows, encode_cursor(rows[-1]) if more and rows else None)


def count_unread(account: Any) -> int:
    """One COUNT on the (account_id, read_at, created_at) index."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.account_id == account.id, Notification.read_at.is_(None))) or 0


def email_choices(account: Any) -> dict[str, bool]:
    """Per kind, whether the account gets it by e-mail (defaults filled in)."""
    from hub.notifications.models import NOTIFICATION_KINDS, NotificationPreference
    from hub.notifications.services import EMAIL_BY_DEFAULT

    rows = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.by_email)
        .where(NotificationPreference.account_id == account.id)).all())
    return {kind: rows.get(kind, kind in EMAIL_BY_DEFAULT) for kind in NOTIFICATION_KINDS}
