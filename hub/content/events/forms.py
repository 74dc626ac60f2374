"""Event forms: shapes and lengths only; the services check times, places and roles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FloatField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional

from hub.content.events.services import MAX_DESCRIPTION, EventDraft
from hub.content.events.timing import local, time_zones

STATUS_CHOICES = [
    SelectChoice("confirmed", _l("Confirmed")),
    SelectChoice("tentative", _l("Tentative")),
    SelectChoice("cancelled", _l("Cancelled")),
]
VISIBILITY_CHOICES = [
    SelectChoice("public", _l("Everyone")),
    SelectChoice("members", _l("Members of the organisation only")),
]


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description (Markdown)"),
                                validators=[Optional(), Length(max=MAX_DESCRIPTION)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    end_time = TimeField(_l("End time"), validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), choices=[], validate_choice=False)
    place_name = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=300)])
    latitude = FloatField(_l("Latitude"), validators=[Optional()])
    longitude = FloatField(_l("Longitude"), validators=[Optional()])
    online_url = StringField(_l("Online link"), validators=[Optional(), Length(max=2000)])
    themes = StringField(_l("Themes"), validators=[Optional(), Length(max=1000)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="confirmed")
    visibility = SelectField(_l("Who may see it"), choices=VISIBILITY_CHOICES,
                             default="public")
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Publish"))

    def __init__(self, *args, default_zone: str = "Europe/Paris", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = list(time_zones())
        if not self.timezone.data or self.timezone.data == "None":
            self.timezone.data = default_zone

    def draft(self) -> EventDraft:
        return EventDraft(
            title=self.title.data or "", description=self.description.data or "",
            start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.end_date.data, end_time=self.end_time.data,
            timezone=self.timezone.data or "", place_name=self.place_name.data or "",
            address=self.address.data or "", latitude=self.latitude.data,
            longitude=self.longitude.data, online_url=self.online_url.data or "",
            themes=self.themes.data or "", status=self.status.data or "",
            visibility=self.visibility.data or "")

    def fill_from(self, event) -> None:
        """Prefill from an event, times shown in its own zone."""
        start, end = local(event.starts_at, event.timezone), local(event.ends_at, event.timezone)
        self.title.data = event.title
        self.description.data = event.description_source
        self.start_date.data, self.start_time.data = start.date(), start.time()
        self.end_date.data, self.end_time.data = end.date(), end.time()
        self.timezone.data = event.timezone
        self.place_name.data = event.place_name
        self.address.data = event.address
        self.latitude.data, self.longitude.data = event.latitude, event.longitude
        self.online_url.data = event.online_url
        self.themes.data = ", ".join(tag.label for tag in event.themes)
        self.status.data = event.status
        self.visibility.data = event.visibility


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (delete)."""
