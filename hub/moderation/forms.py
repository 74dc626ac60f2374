"""Forms of moderation pages. The rules live in the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional


class CharterForm(FlaskForm):
    """The articles come as title_N / body_N pairs (any number, parsed by the view); this
    form carries the CSRF token and the note."""

    note = StringField(_l("What changed (shown to people asked to accept again)"),
                       validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""


class ReportForm(FlaskForm):
    # Choices (the current charter's articles) are set by the view.
    articles = SelectMultipleField(_l("Which article(s) of the charter does it break?"),
                                   coerce=int, validators=[Optional()])
    comment = TextAreaField(_l("What is wrong (optional if you chose an article)"),
                            validators=[Optional(), Length(max=2000)])
    email = StringField(_l("Your e-mail address, to be told the outcome (optional)"),
                        validators=[Optional(), Length(max=254)])
    #: Honeypot: people never see it; bots fill it in.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])


class ActionForm(FlaskForm):
    action = SelectField(_l("Action"), validators=[Optional()])
    reason = TextAreaField(_l("Reason (the person concerned reads it)"),
                           validators=[Optional(), Length(max=2000)])
    articles = SelectMultipleField(_l("Articles it breaks"), coerce=int,
                                   validators=[Optional()])
    warning = StringField(_l("Content warning (for “mark sensitive”)"),
                          validators=[Optional(), Length(max=200)])
    public_explanation = TextAreaField(_l("Explanation for the reporters (optional)"),
                                       validators=[Optional(), Length(max=2000)])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (moderators only)"),
                         validators=[Optional(), Length(max=5000)])


class AppealForm(FlaskForm):
    text = TextAreaField(_l("Why should this decision change?"),
                         validators=[Optional(), Length(max=3000)])


class DecisionForm(FlaskForm):
    decision = TextAreaField(_l("Your decision, explained (both sides read it)"),
                             validators=[Optional(), Length(max=3000)])


class WordFilterForm(FlaskForm):
    # No length validator: ``moderation.prevention`` says what is wrong, in one place.
    pattern = StringField(_l("Word, phrase or regular expression"), validators=[Optional()])
    is_regex = BooleanField(_l("This is a regular expression"))
    effect = SelectField(_l("Effect"), choices=[
        SelectChoice("refuse",
                     _l("Refuse: the text is not saved and the writer reads the message")),
        SelectChoice("hold", _l("Hold: the text waits for a moderator's approval")),
        SelectChoice("flag",
                     _l("Flag: the text is published and a case is opened for review")),
    ], default="flag")
    message = StringField(_l("Message shown when refused"), validators=[Optional()])


class FilterTestForm(FlaskForm):
    sample = TextAreaField(_l("Try a text against the filters"),
                           validators=[Optional(), Length(max=5000)])
