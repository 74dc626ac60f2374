"""Forms of the admin area. The rules (who may, what is allowed) live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

#: The highest upload size limit admins may set, in megabytes.
MAX_UPLOAD_MB = 1000

# Language names are written in their own language, never translated.
LOCALE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("en", "English")]

#: Each registration mode with the sentence that explains it on the settings page.
REGISTRATION_CHOICES = [
    SelectChoice("open", _l("Open")),
    SelectChoice("approval", _l("Approval required")),
    SelectChoice("invitation", _l("Invitation only")),
    SelectChoice("closed", _l("Closed")),
]
REGISTRATION_HINTS = {
    "open": _l("Anyone can create an account; it opens once the e-mail address is confirmed."),
    "approval": _l("Anyone can ask for an account and says why; an administrator approves "
                   "or rejects each request."),
    "invitation": _l("Only people who received an invitation from an administrator or an "
                     "organisation can create an account."),
    "closed": _l("Nobody can create an account; existing accounts keep working."),
}
ORG_CREATION_CHOICES = [
    SelectChoice("anyone", _l("Anyone with an active account")),
    SelectChoice("admins", _l("Instance administrators only")),
]
ROLE_CHOICES = [
    SelectChoice("user", _l("user")),
    SelectChoice("moderator", _l("moderator")),
    SelectChoice("admin", _l("admin")),
]


class SettingsForm(FlaskForm):
    name = StringField(_l("Instance name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    contact_email = EmailField(_l("Contact e-mail"),
                               validators=[Optional(), Email(), Length(max=254)])
    default_locale = SelectField(_l("Default language"), choices=LOCALE_CHOICES)
    registration_mode = RadioField(_l("Registrations"), choices=REGISTRATION_CHOICES)
    org_creation = RadioField(_l("Who may found organisations"), choices=ORG_CREATION_CHOICES)
    max_upload_mb = IntegerField(_l("Upload size limit (MB)"),
                                 validators=[Optional(), NumberRange(min=1, max=MAX_UPLOAD_MB)])
    new_account_holds = IntegerField(
        _l("Contributions of a new account held for approval"),
        validators=[Optional(), NumberRange(min=0, max=100)])
    appeal_days = IntegerField(_l("Days to appeal a moderation decision"),
                               validators=[Optional(), NumberRange(min=1, max=365)])


class ActionForm(FlaskForm):
    """A button that changes one account or invitation: nothing but the CSRF token."""


class SuspendForm(ActionForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class RoleForm(ActionForm):
    role = SelectField(_l("Instance role"), choices=ROLE_CHOICES)


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"),
                       validators=[DataRequired(), Email(), Length(max=254)])


class ProviderForm(FlaskForm):
    """An OpenID Connect provider (discovery URL) or a plain OAuth2 one (three endpoints)."""

    slug = StringField(_l("Short name (in addresses)"),
                       validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Button label"), validators=[DataRequired(), Length(max=100)])
    discovery_url = URLField(_l("OpenID Connect discovery URL"),
                             validators=[Optional(), Length(max=500)])
    authorize_url = URLField(_l("Authorization endpoint (plain OAuth2)"),
                             validators=[Optional(), Length(max=500)])
    token_url = URLField(_l("Token endpoint (plain OAuth2)"),
                         validators=[Optional(), Length(max=500)])
    userinfo_url = URLField(_l("Userinfo endpoint"), validators=[Optional(), Length(max=500)])
    issuer = StringField(_l("Issuer (plain OAuth2, optional)"),
                         validators=[Optional(), Length(max=500)])
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=255)])
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(), Length(max=300)])
    scopes = StringField(_l("Scopes"), default="openid profile email",
                         validators=[DataRequired(), Length(max=255)])
    claim_subject = StringField(_l("Claim with the stable user id"), default="sub",
                                validators=[DataRequired(), Length(max=60)])
    claim_handle = StringField(_l("Claim proposing the handle"), default="preferred_username",
                               validators=[DataRequired(), Length(max=60)])
    claim_name = StringField(_l("Claim with the display name"), default="name",
                             validators=[DataRequired(), Length(max=60)])
    claim_email = StringField(_l("Claim with the e-mail"), default="email",
                              validators=[DataRequired(), Length(max=60)])
    allow_signup = BooleanField(_l("New accounts may be created through this provider"),
                                default=True)
    trust_email = BooleanField(_l("E-mail addresses it asserts as verified count as "
                                  "confirmed"))
    is_enabled = BooleanField(_l("Enabled (shown on the login page)"), default=True)


class ProviderModeForm(FlaskForm):
    provider_only = BooleanField(_l("Provider only: local passwords work for administrators "
                                    "only"))


class ThemeForm(FlaskForm):
    """A thesaurus theme; the parent choices are set by the view (the thesaurus itself)."""

    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=60)])
    label_fr = StringField(_l("Label in French"), validators=[Optional(), Length(max=60)])
    label_en = StringField(_l("Label in English"), validators=[Optional(), Length(max=60)])
    parent_id = SelectField(_l("Parent theme"), coerce=int, choices=[], validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class DomainPolicyForm(FlaskForm):
    # No other validator: ``federation.policies`` says what is wrong, in one place.
    domain = StringField(_l("Domain"), validators=[Optional()])
    severity = SelectField(_l("Policy"), choices=[
        SelectChoice("block", _l("Block: nothing is exchanged with it, either way")),
        SelectChoice("limit", _l("Limit: its content is kept but never listed")),
        SelectChoice("reject_media", _l("Reject media: no file or image link of it is kept")),
        SelectChoice("allow", _l("Allow: federates with it when the allow-list mode is on")),
    ], default="block")
    reject_media = BooleanField(_l("Also reject its media"))
    public_reason = StringField(_l("Public reason"), validators=[Optional()])
    private_note = TextAreaField(_l("Private note (administrators only)"),
                                 validators=[Optional()])


class DomainImportForm(FlaskForm):
    file = FileField(_l("Block list (Mastodon’s domain_blocks.csv, or one domain a line)"))


class AllowlistForm(FlaskForm):
    """The allow-list switch: the wanted state comes as ``enabled`` (1 or 0)."""


class ConfirmDomainForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""
