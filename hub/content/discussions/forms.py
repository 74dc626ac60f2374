"""Discussion forms: shapes and lengths only; the services decide who may do what."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hub.content.discussions.services import MAX_BODY, DiscussionDraft

VISIBILITY_CHOICES = [
    SelectChoice("public", _l("Everyone")),
    SelectChoice("members", _l("Members of the organisation only")),
]


class DiscussionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("First message (Markdown)"),
                         validators=[DataRequired(), Length(max=MAX_BODY)])
    themes = StringField(_l("Themes"), validators=[Optional(), Length(max=1000)])
    visibility = SelectField(_l("Who may read it"), choices=VISIBILITY_CHOICES,
                             default="public")
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Publish"))

    def draft(self) -> DiscussionDraft:
        return DiscussionDraft(title=self.title.data or "", body=self.body.data or "",
                               themes=self.themes.data or "",
                               visibility=self.visibility.data or "public")

    def fill_from(self, discussion) -> None:
        self.title.data = discussion.title
        self.body.data = discussion.body_source
        self.themes.data = ", ".join(tag.label for tag in discussion.themes)
        self.visibility.data = discussion.visibility


class ModerateForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (delete, follow)."""
