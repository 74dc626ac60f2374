"""Notifications page, opening and marking read, e-mail preferences, the unread count.

Thin: parse, call one service, commit once, redirect. None of these pages is cached: they
are personal, and only logged-in people reach them.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.errors import ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications import services
from hub.notifications.forms import ConfirmForm, PreferencesForm
from hub.notifications.queries import count_unread, email_choices, list_notifications
from hub.views_common import is_local_path, me

bp = Blueprint("notifications", __name__)


@bp.app_template_global()
def unread_notification_count() -> int:
    """For the header badge: one COUNT per request, and only for logged-in people (the
    template asks only then, so visitors' pages make no query and stay cacheable)."""
    if not current_user.is_authenticated:
        return 0
    if "_unread_notifications" not in g:
        g._unread_notifications = count_unread(me())
    return g._unread_notifications


@bp.get("/notifications")
@login_required
def index():
    after = request.args.get("after", "")[:60]
    page = list_notifications(me(), after=after)
    next_url = url_for(".index", after=page.next_cursor) if page.next_cursor else None
    return render_template("notifications/index.html", page=page, next_url=next_url,
                           first_url=url_for(".index") if after else None,
                           form=ConfirmForm(), now=utcnow())


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Mark read, then go where it points (a local path only; else back to the list)."""
    note = services.mark_read(me(), notification_id)
    db.session.commit()
    return redirect(note.url if is_local_path(note.url) else url_for(".index"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    _require_token()
    services.mark_read(me(), notification_id)
    db.session.commit()
    return redirect(_back())


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    _require_token()
    count = services.mark_all_read(me())
    db.session.commit()
    if count:
        flash(_("All your notifications are marked read."), "success")
    return redirect(url_for(".index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm()
    if request.method == "GET":
        form.fill_from(email_choices(me()))
    elif form.validate_on_submit():
        services.set_email_choices(me(), form.choices())
        db.session.commit()
        flash(_("Your e-mail choices are saved."), "success")
        return redirect(url_for(".preferences"))
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/preferences.html", form=form), status


def _require_token() -> None:
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired: please try again."))


def _back() -> str:
    target = request.form.get("next", "")
    return target if is_local_path(target) else url_for(".index")
