"""Comment forms: shapes and lengths only; the services decide who may write what."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from hub.content.comments.services import MAX_BODY


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment (Markdown)"),
                         validators=[DataRequired(), Length(max=MAX_BODY)])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (delete)."""
