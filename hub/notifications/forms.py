"""Notification forms: the e-mail choices per kind, and CSRF-only buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (mark read, mark all read)."""


class PreferencesForm(FlaskForm):
    """One box per kind: receive it by e-mail as well."""

    mention = BooleanField(_l("When someone mentions me"))
    reply = BooleanField(_l("When someone replies to my post or comment"))
    discussion = BooleanField(_l("New comments in discussions I follow"))
    invitation = BooleanField(_l("When I am invited to an organisation"))
    moderation = BooleanField(_l("When moderators act on my account or my content"))
    outcome = BooleanField(_l("When a report I made is settled"))
    case = BooleanField(_l("New cases in the moderation queue (moderators)"))
    appeal = BooleanField(_l("Appeals: new ones to decide, and decisions on mine"))

    def fill_from(self, choices: dict[str, bool]) -> None:
        for kind, wanted in choices.items():
            getattr(self, kind).data = wanted

    def choices(self) -> dict[str, bool]:
        from hub.notifications.models import NOTIFICATION_KINDS

        return {kind: bool(getattr(self, kind).data) for kind in NOTIFICATION_KINDS}
