"""Creating notifications, marking them read, and who wants which kind by e-mail.

Other packages call ``notify`` (or ``notify_mentions``) inside their own transaction; the
e-mail is a row of the mail outbox (``queue_email``), sent by the ``send_email`` job after
commit. Services here take the acting account and never touch the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from hub.errors import NotFound
from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications.models import NOTIFICATION_KINDS, Notification, NotificationPreference

#: Kinds sent by e-mail unless the person turned them off.
EMAIL_BY_DEFAULT = frozenset({"mention", "invitation", "moderation", "outcome", "appeal"})
EXCERPT_CHARS = 300


def wants_email(account: Any, kind: str) -> bool:
    pref = db.session.get(NotificationPreference, (account.id, kind))
    return pref.by_email if pref is not None else kind in EMAIL_BY_DEFAULT


def excerpt_of(html: str, limit: int = 200) -> str:
    """A short plain-text excerpt of clean HTML, cut on a word."""
    from hub.sanitize import plain_text

    text = " ".join(plain_text(html).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut + "…"


def notify(account: Any, kind: str, *, actor: Any = None, target_type: str = "",
           target_id: int | None = None, url: str = "", excerpt: str = "",
           send_email: bool = True) -> Notification | None:
    """Tell ``account`` about something; nothing when they caused it themselves.

    ``url`` is a local path ("/@org/news/3#comment-7"). ``send_email=False`` when the
    caller already mails the person (an invitation carries its own link).
    """
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and actor.id == account.id:
        return None
    if getattr(account, "status", "active") != "active":
        return None
    note = Notification(account_id=account.id, kind=kind,
                        actor_id=actor.id if actor is not None else None,
                        target_type=target_type, target_id=target_id, url=url[:300],
                        excerpt=excerpt[:EXCERPT_CHARS])
    db.session.add(note)
    db.session.flush()
    if send_email and account.email and wants_email(account, kind):
        from flask import current_app

        from hub.mail.services import queue_email
        from hub.urls import external_url

        # ``url`` is a path as url_for gives it (script root included): keep only the
        # scheme and host of the base URL.
        base = urlsplit(current_app.config["HUB_BASE_URL"])
        queue_email(account.email, "notification", account.locale or _default_locale(),
                    note_kind=kind, actor=actor, excerpt=note.excerpt,
                    link=f"{base.scheme}://{base.netloc}{url or '/'}",
                    settings_link=external_url("notifications.preferences"))
    return note


def notify_mentions(actor: Any, accounts: Iterable[Any], *, target_type: str, target_id: int,
                    url: str, excerpt: str, skip: Iterable[int] = ()) -> set[int]:
    """Notify each mentioned account once (``writing.mentioned_accounts``); returns the ids
    told, so a caller can skip them for a "reply" notification of the same text."""
    told: set[int] = set(skip)
    for account in accounts:
        if account.id in told:
            continue
        told.add(account.id)
        notify(account, "mention", actor=actor, target_type=target_type, target_id=target_id,
               url=url, excerpt=excerpt)
    return told - set(skip)


def mark_read(account: Any, notification_id: int) -> Notification:
    """Mark one of the account's notifications read; someone else's is NotFound."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.account_id != account.id:
        raise NotFound("notification")
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return note


def mark_all_read(account: Any) -> int:
    """One UPDATE, whatever the number of unread notifications."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.account_id == account.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def set_email_choices(account: Any, choices: Mapping[str, bool]) -> None:
    """Store the account's choice for every kind (kinds not given are turned off)."""
    unknown = set(choices) - set(NOTIFICATION_KINDS)
    if unknown:
        raise ValueError(f"unknown notification kinds {sorted(unknown)!r}")
    existing = {pref.kind: pref for pref in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.account_id == account.id))}
    for kind in NOTIFICATION_KINDS:
        wanted = bool(choices.get(kind, False))
        pref = existing.get(kind)
        if pref is None:
            db.session.add(NotificationPreference(account_id=account.id, kind=kind,
                                                  by_email=wanted))
        else:
            pref.by_email = wanted
    db.session.flush()


def _default_locale() -> str:
    from hub.admin.queries import instance_settings

    return instance_settings().default_locale
