"""The ``send_email`` job and its mail backends (SMTP, .eml files, console)."""

from __future__ import annotations

import logging
import random
import smtplib
import ssl
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from hub.extensions import db
from hub.jobs import claim_row, due_rows
from hub.mail.models import EmailMessage
from hub.models_base import utcnow

log = logging.getLogger(__name__)


def build_mime(message: EmailMessage, sender: str, domain: str) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to_addr
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False)
    #: Stable per row, so a message sent twice after a crash is recognisable as one.
    mime["Message-ID"] = make_msgid(idstring=f"hub-{message.id}", domain=domain)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.body_text)
    return mime


def deliver(mime: MimeMessage) -> None:
    """Hand one message to the configured backend; raises on failure."""
    config = current_app.config
    backend = config["HUB_MAIL_BACKEND"]
    if backend == "console":
        log.info("e-mail to %s: %s\n%s", mime["To"], mime["Subject"], mime.get_content())
        return
    if backend == "file":
        outbox = Path(config["HUB_INSTANCE_PATH"]) / "outbox"
        outbox.mkdir(exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{mime['Message-ID'].strip('<>').split('@')[0]}.eml"
        (outbox / name).write_bytes(bytes(mime))
        return
    host, port = config["HUB_MAIL_SERVER"], config["HUB_MAIL_PORT"]
    if config["HUB_MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=30,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
    with smtp:
        if config["HUB_MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["HUB_MAIL_USERNAME"]:
            smtp.login(config["HUB_MAIL_USERNAME"], config["HUB_MAIL_PASSWORD"])
        smtp.send_message(mime)


def backoff(attempts: int) -> timedelta:
    """Exponential with jitter: about 30 s, 1 min, 2 min… capped at 6 hours."""
    base = min(30 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def send_email(message_id: int) -> None:
    """Job: claim the row, send it, record the outcome."""
    if not claim_row(EmailMessage, message_id):
        return
    message = db.session.get(EmailMessage, message_id)
    assert message is not None
    host = current_app.config["HUB_BASE_URL"].split("://", 1)[1].split("/")[0].split(":")[0]
    try:
        deliver(build_mime(message, current_app.config["HUB_MAIL_FROM"], host))
    except Exception as exc:  # any failure: retry later, or give up after the limit
        now = utcnow()
        message.locked_until = None
        message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        if message.attempts >= current_app.config["HUB_MAIL_MAX_ATTEMPTS"]:
            message.status = "failed"
            log.warning("e-mail %s (%s) given up: %s", message.id, message.kind, exc)
        else:
            message.next_attempt_at = now + backoff(message.attempts)
            log.info("e-mail %s (%s) failed, retry at %s: %s", message.id, message.kind,
                     message.next_attempt_at, exc)
        return
    db.session.execute(
        update(EmailMessage).where(EmailMessage.id == message_id)
        .values(status="sent", sent_at=utcnow(), locked_until=None, last_error="")
    )
    log.info("e-mail %s (%s) sent", message.id, message.kind)


def due_emails(now: datetime) -> Iterable[tuple[str, tuple[int]]]:
    return [("send_email", (row_id,)) for row_id in due_rows(EmailMessage, now)]
