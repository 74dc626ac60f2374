"""Creating notifications, and the e-mails that go with them for those who want them.

Other packages call ``notify`` inside their own transaction; the e-mail is a row of the
mail outbox, sent by a job after commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.extensions import db
from hub.notifications.models import NOTIFICATION_KINDS, Notification, NotificationPreference

#: Kinds sent by e-mail unless the person turned them off.
EMAIL_BY_DEFAULT = frozenset({"mention", "invitation"})


def wants_email(account: Any, kind: str) -> bool:
    pref = db.session.get(NotificationPreference, (account.id, kind))
    return pref.by_email if pref is not None else kind in EMAIL_BY_DEFAULT


def notify(account: Any, kind: str, *, actor: Any = None, target_type: str = "",
           target_id: int | None = None, url: str = "", excerpt: str = "") -> Notification | None:
    """Tell ``account`` about something; nothing when they caused it themselves."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and actor.id == account.id:
        return None
    if getattr(account, "status", "active") != "active":
        return None
    note = Notification(account_id=account.id, kind=kind,
                        actor_id=actor.id if actor is not None else None,
                        target_type=target_type, target_id=target_id, url=url,
                        excerpt=excerpt[:300])
    db.session.add(note)
    db.session.flush()
    if account.email and wants_email(account, kind):
        from hub.mail.services import queue_email
        from hub.urls import external_url

        queue_email(account.email, "notification", account.locale or _default_locale(),
                    kind=kind, actor=actor, excerpt=note.excerpt,
                    link=external_url("main.home").rstrip("/") + url,
                    settings_link=external_url("notifications.preferences"))
    return note


def mark_all_read(account: Any) -> int:
    from hub.models_base import utcnow

    rows = db.session.scalars(select(Notification).where(
        Notification.account_id == account.id, Notification.read_at.is_(None))).all()
    now = utcnow()
    for row in rows:
        row.read_at = now
    return len(rows)


def _default_locale() -> str:
    from hub.admin.queries import instance_settings

    return instance_settings().default_locale
