"""Writing e-mails to the outbox. Sending is the job in ``hub.mail.sender``."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale

from hub.extensions import db
from hub.jobs import jobs
from hub.mail.models import EmailMessage


def queue_email(to_addr: str, kind: str, locale: str, **context: Any) -> EmailMessage:
    """Render ``templates/mail/<kind>.txt`` in ``locale`` and store it; sent after commit.

    The template's first line is the subject.
    """
    with force_locale(locale):
        text = render_template(f"mail/{kind}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    message = EmailMessage(to_addr=to_addr, kind=kind, subject=subject.strip()[:200],
                           body_text=body.strip() + "\n")
    db.session.add(message)
    db.session.flush()
    jobs.after_commit("send_email", message.id)
    return message
