"""The post form. Shapes and lengths only; the rules (who, when, which cover) live in
``hub.content.posts.services``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional

from hub.content.posts.schedule import DEFAULT_TIMEZONE, timezone_names, utc_to_local
from hub.content.posts.services import PostDraft

VISIBILITY_CHOICES = [
    SelectChoice("public", _l("Everyone")),
    SelectChoice("unlisted", _l("Anyone with the link (listed nowhere)")),
    SelectChoice("members", _l("Members of the organisation only")),
]

STATUS_CHOICES = [
    SelectChoice("draft", _l("Keep as a draft")),
    SelectChoice("scheduled", _l("Publish at the date and time below")),
    SelectChoice("published", _l("Publish now")),
]


def timezone_choices() -> list[SelectChoice]:
    """Called when a form is built, not at import (WTForms accepts a callable)."""
    return [SelectChoice(name, name.replace("_", " ")) for name in timezone_names()]


class PostForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=500)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=100_000)])
    themes = StringField(_l("Themes"), validators=[Optional(), Length(max=1000)])
    cover = FileField(_l("Cover image (PNG, JPEG, GIF or WebP)"))
    cover_alt = StringField(_l("Description of the cover image"),
                            validators=[Optional(), Length(max=300)])
    remove_cover = BooleanField(_l("Remove the current cover image"))
    visibility = SelectField(_l("Who may read it"), choices=VISIBILITY_CHOICES,
                             default="public")
    status = SelectField(_l("Publication"), choices=STATUS_CHOICES, default="draft")
    publish_date = DateField(_l("Date of publication"), validators=[Optional()])
    publish_time = TimeField(_l("Time of publication"), validators=[Optional()])
    timezone = SelectField(_l("Time zone"), choices=timezone_choices,
                           default=DEFAULT_TIMEZONE)

    def draft(self) -> PostDraft:
        return PostDraft(
            title=self.title.data or "", summary=self.summary.data or "",
            body=self.body.data or "", themes=self.themes.data or "",
            visibility=self.visibility.data or "", status=self.status.data or "",
            publish_date=self.publish_date.data, publish_time=self.publish_time.data,
            timezone=self.timezone.data or DEFAULT_TIMEZONE,
            cover_alt=self.cover_alt.data or "")

    def fill_from(self, post: Any) -> None:
        """Prefill from a post (GET of the edit page); times on the post's own clock."""
        self.title.data = post.title
        self.summary.data = post.summary
        self.body.data = post.body_source
        self.themes.data = ", ".join(tag.label for tag in post.themes)
        self.cover_alt.data = post.cover_alt
        self.visibility.data = post.visibility
        self.status.data = post.status
        self.timezone.data = post.timezone
        if post.publish_at is not None:
            local = utc_to_local(post.publish_at, post.timezone)
            self.publish_date.data = local.date()
            self.publish_time.data = local.time().replace(second=0, microsecond=0)


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (delete)."""


class PinForm(FlaskForm):
    pinned = SelectField(choices=[SelectChoice("1", _l("Pin")), SelectChoice("0", _l("Unpin"))])


class PreviewForm(FlaskForm):
    """POST /preview: the Markdown to render."""

    source = TextAreaField(validators=[Optional(), Length(max=100_000)])
