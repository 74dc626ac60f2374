"""Account forms. Field rules that need the database live in services, not here."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

# SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices (a warning, which the
# test suite turns into an error: every page with one of these forms answered 500).
LOCALE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("en", "English")]


class RegisterForm(FlaskForm):
    handle = StringField(_l("Handle"), validators=[DataRequired(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    motivation = TextAreaField(_l("Why do you want to join?"),
                               validators=[Optional(), Length(max=2000)])
    invitation = StringField(validators=[Optional(), Length(max=200)])
    charter = BooleanField(_l("I have read and I accept the charter"))
    #: Honeypot: people never see it; bots fill it in.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])


class LoginForm(FlaskForm):
    login = StringField(_l("Handle or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Stay logged in on this device"))


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])


def timezone_choices() -> list[SelectChoice]:
    """IANA time zones, read when a form is built (not at import)."""
    from zoneinfo import available_timezones

    return [SelectChoice(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    bio = TextAreaField(_l("About you (Markdown)"), validators=[Optional(), Length(max=5000)])
    locale = SelectField(_l("Preferred language"),
                         choices=[SelectChoice("", _l("As my browser says")), *LOCALE_CHOICES])
    timezone = SelectField(_l("Time zone"), choices=timezone_choices,
                           default="Europe/Paris")
    avatar = FileField(_l("Avatar (PNG, JPEG, GIF or WebP)"))
    remove_avatar = BooleanField(_l("Remove the current avatar"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])


class ChangeEmailForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    email = EmailField(_l("New e-mail"), validators=[DataRequired(), Email(), Length(max=254)])


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    content = SelectField(_l("What I published"), choices=[
        SelectChoice("keep", _l("Keep it, shown as from a deleted account")),
        SelectChoice("delete", _l("Delete it with my account")),
    ])
    confirm = BooleanField(_l("I understand that this cannot be undone"),
                           validators=[DataRequired()])


class ChooseHandleForm(FlaskForm):
    """First sign-in through an identity provider: the handle, and the charter."""

    handle = StringField(_l("Handle"), validators=[DataRequired(), Length(max=40)])
    charter = BooleanField(_l("I accept the instance charter"))


class UnlinkForm(FlaskForm):
    """A button that removes one linked identity: nothing but the CSRF token."""
