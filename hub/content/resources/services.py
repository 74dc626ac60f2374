"""Use cases of the catalogue: share, edit, delete, re-share, folders. They flush; the
caller commits once.

Every refusal is a PermissionDenied (403) or a ValidationFailed (400, with the field)
raised before anything changes; an uploaded file is written last, once the metadata is
known to be good, and removed again if it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.content.models import VISIBILITIES, Folder, Resource, Shelf
from hub.content.resources import files, queries
from hub.content.resources.catalogue import (
    DOC_TYPES,
    LANGUAGES,
    LICENCES,
    parse_publication_date,
)
from hub.content.resources.extract import EXTRACTABLE
from hub.content.search.index import fold, sync
from hub.content.themes import MAX_THEMES, resolve_themes, split_labels, theme_slug
from hub.content.visibility import is_listed
from hub.content.writing import mentioned_accounts, render_content
from hub.errors import Conflict, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation.publishing import content_changed
from hub.models_base import utcnow
from hub.moderation.charter import require_charter
from hub.moderation.holding import hold_if_needed
from hub.moderation.prevention import refuse_if_filtered, screen_edit
from hub.orgs.access import may, refusal
from hub.orgs.models import Organisation

KINDS = ("link", "file", "note")
RESOURCE_VISIBILITIES = tuple(v for v in VISIBILITIES if v != "unlisted")
URL_RE = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
#: Folder slugs that would shadow the library's own addresses.
RESERVED_SLUGS = frozenset({"new", "folders", "shelves"})
LIMITS = {"title": 300, "publisher": 200, "authors": 2000, "source_url": 2000,
          "abstract": 20_000, "body": 100_000, "keywords": 1000}


def files_folder() -> Path:
    """Where uploaded files live: ``<instance>/files``."""
    return Path(current_app.config["HUB_INSTANCE_PATH"]) / "files"


def upload_limit_bytes() -> int:
    from hub.admin.queries import instance_settings

    return (instance_settings().max_upload_mb or 20) * 1024 * 1024


@dataclass(frozen=True)
class ResourceDraft:
    """What a member fills in; the same shape for sharing and editing."""

    kind: str = "link"
    title: str = ""
    authors: str = ""
    publisher: str = ""
    date_published: str = ""
    language: str = ""
    doc_type: str = ""
    licence: str = ""
    abstract: str = ""
    source_url: str = ""
    body: str = ""
    #: Slugs of thesaurus themes ticked in the form.
    themes: tuple[str, ...] = ()
    #: Free keywords, comma-separated.
    keywords: str = ""
    visibility: str = "public"
    folder_id: int | None = None


@dataclass(frozen=True)
class Upload:
    stream: IO[bytes]
    filename: str


# -- who may --------------------------------------------------------------------------------


def may_share(actor: Any, org: Organisation) -> bool:
    return may("share_resource", actor, org)


def may_manage_library(actor: Any, org: Organisation) -> bool:
    return may("manage_library", actor, org)


def may_edit_resource(actor: Any, resource: Resource) -> bool:
    """Its author, the editors of its organisation and instance admins."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if resource.author_id is not None and resource.author_id == actor.id:
        return True
    return may("edit_content", actor, resource.org)


_refuse = refusal


# -- sharing and editing --------------------------------------------------------------------


def share_resource(actor: Any, org: Organisation, draft: ResourceDraft,
                   upload: Upload | None = None) -> Resource:
    """A member shares a link, a file or a note into their organisation's library."""
    if not may_share(actor, org):
        raise _refuse()
    require_charter(actor)
    if draft.kind not in KINDS:
        raise ValidationFailed(_("Choose a link, a file or a note."), field="kind")
    folder = _folder_of(org, draft.folder_id)
    resource = Resource(org_id=org.id, author_id=actor.id, kind=draft.kind)
    resource.org = org
    _apply(resource, draft)
    refuse_if_filtered(actor, "resource", resource)  # before a file is stored for nothing
    if draft.kind == "file":
        if upload is None or not upload.filename:
            raise ValidationFailed(_("Choose a file to upload."), field="file")
        stored = files.store_upload(upload.stream, upload.filename, files_folder(),
                                    upload_limit_bytes())
        _attach(resource, stored)
    db.session.add(resource)
    db.session.flush()
    db.session.add(Shelf(org_id=org.id, resource_id=resource.id,
                         folder_id=folder.id if folder else None, shared_by_id=actor.id))
    _queue_work_if_needed(resource)
    held = hold_if_needed(actor, "resource", resource)
    sync("resource", resource)
    if not held:
        _notify_mentions(actor, resource)
    content_changed("resource", resource)
    return resource


def update_resource(actor: Any, resource: Resource, draft: ResourceDraft,
                    upload: Upload | None = None) -> Resource:
    """Correct a resource's metadata (and replace its file); its kind stays."""
    if resource.deleted_at is not None or not may_edit_resource(actor, resource):
        raise _refuse()
    old_url = resource.source_url
    _apply(resource, draft, kind=resource.kind)
    screen_edit(actor, "resource", resource)
    if resource.kind == "file" and upload is not None and upload.filename:
        stored = files.store_upload(upload.stream, upload.filename, files_folder(),
                                    upload_limit_bytes())
        old_path = resource.file_path
        _attach(resource, stored)
        files.remove_file(old_path, files_folder())
        resource.file_text = ""
        _queue_work_if_needed(resource)
    elif resource.kind == "link" and resource.source_url != old_url:
        _queue_work_if_needed(resource)
    now = utcnow()
    resource.updated_at = now
    resource.edited_at = now
    sync("resource", resource)
    content_changed("resource", resource)
    return resource


def delete_resource(actor: Any, resource: Resource) -> None:
    """Soft delete: the row stays (comments and shelves keep a target), shown nowhere."""
    if resource.deleted_at is not None or not may_edit_resource(actor, resource):
        raise _refuse()
    resource.deleted_at = utcnow()
    sync("resource", resource)
    content_changed("resource", resource)


def _apply(resource: Resource, draft: ResourceDraft, kind: str | None = None) -> None:
    kind = kind or draft.kind
    for name, limit in LIMITS.items():
        if len(getattr(draft, name)) > limit:
            raise ValidationFailed(_("Use at most %(n)d characters.", n=limit), field=name)
    source_url = draft.source_url.strip()
    if source_url and not URL_RE.match(source_url):
        raise ValidationFailed(_("Give a web address starting with https:// or http://."),
                               field="source_url")
    if kind == "link" and not source_url:
        raise ValidationFailed(_("Give the address of the link."), field="source_url")
    title = " ".join(draft.title.split())
    if kind == "note" and not draft.body.strip():
        raise ValidationFailed(_("Write the note."), field="body")
    if not title:
        if kind == "note":
            raise ValidationFailed(_("The title is required."), field="title")
        if kind == "link":
            # A placeholder the link job replaces with the page's own title.
            title = source_url
        elif resource.file_name:
            title = resource.file_name
    try:
        date_published, year = parse_publication_date(draft.date_published)
    except ValueError:
        raise ValidationFailed(_("Write the date as YYYY, YYYY-MM or YYYY-MM-DD."),
                               field="date_published") from None
    for name, allowed in (("language", LANGUAGES), ("doc_type", DOC_TYPES),
                          ("licence", LICENCES)):
        value = getattr(draft, name)
        if value and value not in allowed:
            raise ValidationFailed(_("Choose one of the values offered."), field=name)
    if draft.visibility not in RESOURCE_VISIBILITIES:
        raise ValidationFailed(_("Choose who may see it."), field="visibility")
    thesaurus = {tag.slug: tag for tag in queries.list_thesaurus()}
    unknown = [slug for slug in draft.themes if slug not in thesaurus]
    if unknown:
        raise ValidationFailed(_("Choose themes from the list."), field="themes")
    abstract = render_content(draft.abstract)
    body = render_content(draft.body) if kind == "note" else None
    labels = [thesaurus[slug].label for slug in draft.themes]
    labels += split_labels(draft.keywords)
    labels += list(abstract.tags) + (list(body.tags) if body else [])
    resource.kind = kind
    resource.title = title[:300]
    resource.title_key = make_title_key(resource.title)
    resource.authors = "\n".join(line.strip() for line in draft.authors.splitlines()
                                 if line.strip())
    resource.publisher = draft.publisher.strip()
    resource.date_published = date_published
    resource.year = year
    resource.language = draft.language
    resource.doc_type = draft.doc_type
    resource.licence = draft.licence
    resource.abstract_source = draft.abstract
    resource.abstract_html = abstract.html
    resource.source_url = source_url
    resource.body_source = draft.body if kind == "note" else ""
    resource.body_html = body.html if body else ""
    resource.visibility = draft.visibility
    resource.themes = resolve_themes(labels, limit=MAX_THEMES)


def make_title_key(title: str) -> str:
    """What the catalogue sorts titles on: folded, without leading punctuation."""
    return fold(title).strip(" \"'«»“”‘’([¿¡").strip()[:300]


def _attach(resource: Resource, stored: files.StoredFile) -> None:
    resource.file_path = stored.path
    resource.file_type = stored.mime
    resource.file_size = stored.size
    resource.file_name = stored.download_name[:255]
    if not resource.title:
        resource.title = stored.download_name.rsplit(".", 1)[0][:300]
        resource.title_key = make_title_key(resource.title)


def _queue_work_if_needed(resource: Resource) -> None:
    """Link metadata and text extraction are done by the ``resource_work`` job."""
    from hub.jobs import jobs

    wanted = (resource.kind == "link"
              or (resource.kind == "file" and resource.file_type.split(";")[0] in EXTRACTABLE))
    if not wanted:
        resource.job_status = ""
        return
    resource.job_status = "pending"
    resource.job_error = ""
    resource.attempts = 0
    resource.next_attempt_at = utcnow()
    resource.locked_until = None
    db.session.flush()
    jobs.after_commit("resource_work", resource.id)


def _notify_mentions(actor: Any, resource: Resource) -> None:
    from hub.notifications.services import notify_mentions

    # A members-only resource would tell outsiders what they may not read: public only.
    if resource.visibility != "public":
        return
    text = f"{resource.abstract_source}\n{resource.body_source}"
    if "@" not in text:
        return
    accounts = mentioned_accounts(render_content(text))
    notify_mentions(actor, accounts, target_type="resource", target_id=resource.id,
                    url=f"/library/{resource.id}", excerpt=resource.title)


# -- shelves: "add to our library" ----------------------------------------------------------


def add_to_library(actor: Any, org: Organisation, resource: Resource,
                   folder_id: int | None = None) -> Shelf:
    """An editor keeps another organisation's resource on its own shelves."""
    if not may_manage_library(actor, org):
        raise _refuse()
    if not is_listed(resource, actor) or resource.visibility != "public":
        # Members-only resources stay with the organisation whose members may see them.
        raise PermissionDenied(_("Only public resources can be added to another library."))
    if queries.find_shelf(org.id, resource.id) is not None:
        raise Conflict(_("This resource is already in the library of %(name)s.",
                         name=org.name))
    folder = _folder_of(org, folder_id)
    shelf = Shelf(org_id=org.id, resource_id=resource.id, shared_by_id=actor.id,
                  folder_id=folder.id if folder else None)
    db.session.add(shelf)
    db.session.flush()
    return shelf


def remove_shelf(actor: Any, shelf: Shelf) -> None:
    """Take a re-shared resource off an organisation's shelves; the resource stays."""
    if not may_manage_library(actor, shelf.org):
        raise _refuse()
    if shelf.org_id == shelf.resource.org_id:
        raise Conflict(_("This organisation shared the resource: delete the resource "
                         "instead."))
    db.session.delete(shelf)
    db.session.flush()


def move_shelf(actor: Any, shelf: Shelf, folder_id: int | None) -> None:
    if not may_manage_library(actor, shelf.org):
        raise _refuse()
    folder = _folder_of(shelf.org, folder_id)
    shelf.folder_id = folder.id if folder else None
    db.session.flush()


def _folder_of(org: Organisation, folder_id: int | None) -> Folder | None:
    if not folder_id:
        return None
    folder = db.session.get(Folder, folder_id)
    if folder is None or folder.org_id != org.id:
        raise ValidationFailed(_("Choose a folder of this organisation."), field="folder_id")
    return folder


# -- folders --------------------------------------------------------------------------------


def create_folder(actor: Any, org: Organisation, name: str, description: str = "") -> Folder:
    if not may_manage_library(actor, org):
        raise _refuse()
    name = _folder_name(name)
    folder = Folder(org_id=org.id, name=name, slug=_free_slug(org, name),
                    description=description.strip()[:2000])
    db.session.add(folder)
    db.session.flush()
    return folder


def rename_folder(actor: Any, folder: Folder, name: str, description: str = "") -> Folder:
    if not may_manage_library(actor, folder.org):
        raise _refuse()
    name = _folder_name(name)
    if name != folder.name:
        folder.name = name
        folder.slug = _free_slug(folder.org, name, exclude=folder.id)
    folder.description = description.strip()[:2000]
    db.session.flush()
    return folder


def delete_folder(actor: Any, folder: Folder) -> None:
    """The folder goes; its shelves stay in the library, out of any folder."""
    if not may_manage_library(actor, folder.org):
        raise _refuse()
    db.session.execute(update(Shelf).where(Shelf.folder_id == folder.id)
                       .values(folder_id=None))
    db.session.delete(folder)
    db.session.flush()


def _folder_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("The name is required."), field="name")
    if len(name) > 120:
        raise ValidationFailed(_("Use at most %(n)d characters.", n=120), field="name")
    return name


def _free_slug(org: Organisation, name: str, exclude: int | None = None) -> str:
    base = theme_slug(name)[:100] or "folder"
    if base in RESERVED_SLUGS:
        base = f"{base}-folder"
    taken = set(db.session.scalars(select(Folder.slug).where(
        Folder.org_id == org.id, Folder.slug.like(f"{base}%"),
        Folder.id != (exclude or 0))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
