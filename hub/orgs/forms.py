"""Organisation forms. Rules that need the database (handles, roles, who may do what) live
in services; these only check shapes and lengths."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from hub.orgs.services import OrgDraft

#: Most powerful first, as people read a list of roles.
ROLE_CHOICES = [
    SelectChoice("owner", _l("owner")),
    SelectChoice("admin", _l("admin")),
    SelectChoice("editor", _l("editor")),
    SelectChoice("member", _l("member")),
]


class OrgFieldsForm(FlaskForm):
    """What an organisation says about itself; shared by founding and editing."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description (Markdown)"),
                                validators=[Optional(), Length(max=20000)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    contact_email = EmailField(_l("Contact e-mail"),
                               validators=[Optional(), Email(), Length(max=254)])
    address = TextAreaField(_l("Postal address"), validators=[Optional(), Length(max=300)])
    latitude = FloatField(_l("Latitude"), validators=[Optional()])
    longitude = FloatField(_l("Longitude"), validators=[Optional()])
    themes = StringField(_l("Themes"), validators=[Optional(), Length(max=1000)])

    def draft(self) -> OrgDraft:
        return OrgDraft(
            name=self.name.data or "", summary=self.summary.data or "",
            description=self.description.data or "", website=self.website.data or "",
            contact_email=self.contact_email.data or "", address=self.address.data or "",
            latitude=self.latitude.data, longitude=self.longitude.data,
            themes=self.themes.data or "")

    def fill_from(self, org) -> None:
        """Prefill from an organisation (GET of the edit page)."""
        self.name.data = org.name
        self.summary.data = org.summary
        self.description.data = org.description_source
        self.website.data = org.website
        self.contact_email.data = org.contact_email
        self.address.data = org.address
        self.latitude.data = org.latitude
        self.longitude.data = org.longitude
        self.themes.data = ", ".join(tag.label for tag in org.themes)


class NewOrgForm(OrgFieldsForm):
    handle = StringField(_l("Handle"), validators=[DataRequired(), Length(max=40)])


class EditOrgForm(OrgFieldsForm):
    logo = FileField(_l("Logo (PNG, JPEG, GIF or WebP)"))
    remove_logo = BooleanField(_l("Remove the current logo"))
    banner = FileField(_l("Banner (PNG, JPEG, GIF or WebP; shown 1500 × 500)"))
    remove_banner = BooleanField(_l("Remove the current banner"))


class InviteForm(FlaskForm):
    who = StringField(_l("Handle or e-mail address"),
                      validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="member")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class TransferForm(FlaskForm):
    account_id = SelectField(_l("New owner"), coerce=int, choices=[], validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (remove, revoke, leave)."""


class InvitationAnswerForm(FlaskForm):
    action = SelectField(choices=[SelectChoice("accept", _l("Accept")),
                                  SelectChoice("decline", _l("Decline"))])
