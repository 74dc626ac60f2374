"""Forms of the catalogue. Shapes and lengths only; the rules live in ``services``."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from hub.content.resources.catalogue import DOC_TYPES, LANGUAGES, LICENCES
from hub.content.resources.services import LIMITS, ResourceDraft
from hub.content.themes import theme_label

KIND_CHOICES = [
    SelectChoice("link", _l("A link to a page or a document online")),
    SelectChoice("file", _l("A file (PDF, OpenDocument, Word, Excel, image, text)")),
    SelectChoice("note", _l("A note written here")),
]
VISIBILITY_CHOICES = [
    SelectChoice("public", _l("Public: anyone, in the catalogue and search")),
    SelectChoice("members", _l("Members of the organisation only")),
]


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(values: dict, empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty),
            *(SelectChoice(code, label) for code, label in values.items())]


class ResourceForm(FlaskForm):
    kind = RadioField(_l("What do you share?"), choices=KIND_CHOICES, default="link",
                      validate_choice=False)
    source_url = StringField(_l("Address (URL)"),
                             validators=[Optional(), Length(max=LIMITS["source_url"])])
    file = FileField(_l("File"))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=LIMITS["title"])])
    body = TextAreaField(_l("Note (Markdown)"),
                         validators=[Optional(), Length(max=LIMITS["body"])])
    authors = TextAreaField(_l("Authors"),
                            validators=[Optional(), Length(max=LIMITS["authors"])])
    publisher = StringField(_l("Publisher"),
                            validators=[Optional(), Length(max=LIMITS["publisher"])])
    date_published = StringField(_l("Date of publication"),
                                 validators=[Optional(), Length(max=10)])
    language = SelectField(_l("Language"), choices=[], validate_choice=False)
    doc_type = SelectField(_l("Type of document"), choices=[], validate_choice=False)
    licence = SelectField(_l("Licence"), choices=[], validate_choice=False)
    themes = CheckboxesField(_l("Themes"), choices=[], validate_choice=False)
    keywords = StringField(_l("Keywords"),
                           validators=[Optional(), Length(max=LIMITS["keywords"])])
    abstract = TextAreaField(_l("Abstract (Markdown)"),
                             validators=[Optional(), Length(max=LIMITS["abstract"])])
    visibility = RadioField(_l("Who may see it"), choices=VISIBILITY_CHOICES,
                            default="public", validate_choice=False)
    folder_id = SelectField(_l("Folder"), choices=[], validate_choice=False)

    def setup(self, thesaurus, folders, *, editing: bool = False) -> None:
        """Fill the choices that depend on the instance and the organisation."""
        self.language.choices = _choices(LANGUAGES, str(_l("Not given")))
        self.doc_type.choices = _choices(DOC_TYPES, str(_l("Not given")))
        self.licence.choices = _choices(LICENCES, str(_l("Not given")))
        # Thesaurus themes in the reader's language, as the resource page shows them.
        locale = str(get_locale())
        self.themes.choices = [SelectChoice(tag.slug, theme_label(tag, locale))
                               for tag in thesaurus]
        self.folder_id.choices = [SelectChoice("", _l("No folder")),
                                  *(SelectChoice(str(f.id), f.name) for f in folders)]
        if editing:
            del self.kind
            del self.folder_id

    def draft(self, kind: str | None = None) -> ResourceDraft:
        folder = getattr(self, "folder_id", None)
        raw_folder = folder.data if folder is not None else ""
        return ResourceDraft(
            kind=kind or (self.kind.data or ""),
            title=self.title.data or "", authors=self.authors.data or "",
            publisher=self.publisher.data or "", date_published=self.date_published.data or "",
            language=self.language.data or "", doc_type=self.doc_type.data or "",
            licence=self.licence.data or "", abstract=self.abstract.data or "",
            source_url=self.source_url.data or "", body=self.body.data or "",
            themes=tuple(self.themes.data or ()), keywords=self.keywords.data or "",
            visibility=self.visibility.data or "",
            folder_id=int(raw_folder) if raw_folder and str(raw_folder).isdigit() else None)

    def fill_from(self, resource, thesaurus_slugs: set[str]) -> None:
        self.title.data = resource.title
        self.source_url.data = resource.source_url
        self.body.data = resource.body_source
        self.authors.data = resource.authors
        self.publisher.data = resource.publisher
        self.date_published.data = resource.date_published
        self.language.data = resource.language
        self.doc_type.data = resource.doc_type
        self.licence.data = resource.licence
        self.themes.data = [t.slug for t in resource.themes if t.slug in thesaurus_slugs]
        self.keywords.data = ", ".join(t.label for t in resource.themes
                                       if t.slug not in thesaurus_slugs)
        self.abstract.data = resource.abstract_source
        self.visibility.data = resource.visibility


class FolderForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class AddToLibraryForm(FlaskForm):
    org_id = SelectField(_l("Into the library of"), choices=[], validate_choice=False)


class MoveShelfForm(FlaskForm):
    folder_id = SelectField(_l("Folder"), choices=[], validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""
