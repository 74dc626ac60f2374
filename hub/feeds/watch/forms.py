"""Forms of the watch's admin page. Shapes only; the rules live in ``services``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import URLField
from wtforms.validators import Optional


class SourceForm(FlaskForm):
    # No other validator: the service says what is wrong, in one place, for every caller.
    url = URLField(_l("Address of the feed (RSS, Atom or JSON Feed)"), validators=[Optional()])


class OpmlForm(FlaskForm):
    file = FileField(_l("OPML file"))


class ConfirmForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""
