"""Reads of the catalogue: resources, shelves, folders. They own eager loading and visibility.

Every list runs a fixed number of queries whatever the number of rows (relationships are
loaded with ``selectinload``/``joinedload``), and pages with keyset cursors, never OFFSET.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from hub.content.models import Folder, Resource, Shelf, Tag, resource_tag
from hub.content.visibility import listed_clause
from hub.errors import NotFound
from hub.extensions import db
from hub.keyset import beyond
from hub.orgs.models import Membership, Organisation

PAGE_SIZE = 30
SORTS = ("newest", "title")
EDITOR_ROLES = ("editor", "admin", "owner")


# -- single items --------------------------------------------------------------------------


def find_resource(resource_id: int) -> Resource | None:
    return db.session.scalar(
        select(Resource).where(Resource.id == resource_id)
        .options(joinedload(Resource.org), joinedload(Resource.author),
                 selectinload(Resource.themes)))


def get_resource(resource_id: int) -> Resource:
    """The resource (deleted ones included: callers check visibility); NotFound if none."""
    resource = find_resource(resource_id)
    if resource is None:
        raise NotFound("resource")
    return resource


def get_shelf(org: Organisation, shelf_id: int) -> Shelf:
    shelf = db.session.scalar(select(Shelf).where(Shelf.id == shelf_id, Shelf.org_id == org.id)
                              .options(joinedload(Shelf.resource)))
    if shelf is None:
        raise NotFound("shelf")
    return shelf


def find_shelf(org_id: int, resource_id: int) -> Shelf | None:
    return db.session.scalar(select(Shelf).where(Shelf.org_id == org_id,
                                                 Shelf.resource_id == resource_id))


def get_folder(org: Organisation, folder_id: int) -> Folder:
    folder = db.session.scalar(select(Folder).where(Folder.id == folder_id,
                                                    Folder.org_id == org.id))
    if folder is None:
        raise NotFound("folder")
    return folder


def get_folder_by_slug(org: Organisation, slug: str) -> Folder:
    folder = db.session.scalar(select(Folder).where(Folder.org_id == org.id,
                                                    Folder.slug == slug))
    if folder is None:
        raise NotFound("folder")
    return folder


def list_folders(org: Organisation) -> list[Folder]:
    return list(db.session.scalars(
        select(Folder).where(Folder.org_id == org.id).order_by(Folder.name, Folder.id)))


def list_shelves_of(resource: Resource) -> list[Shelf]:
    """The organisations that keep a resource, the sharer's first."""
    rows = db.session.scalars(
        select(Shelf).where(Shelf.resource_id == resource.id)
        .options(joinedload(Shelf.org), joinedload(Shelf.folder), joinedload(Shelf.shared_by))
        .order_by(Shelf.created_at, Shelf.id))
    return sorted(rows, key=lambda s: (s.org_id != resource.org_id, s.created_at, s.id))


def list_editable_orgs(account: Any) -> list[Organisation]:
    """Organisations whose library the account manages (editor and above)."""
    if account is None or not getattr(account, "is_authenticated", False):
        return []
    return list(db.session.scalars(
        select(Organisation).join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.account_id == account.id, Membership.role.in_(EDITOR_ROLES))
        .order_by(Organisation.name_key, Organisation.id)))


def list_thesaurus() -> list[Tag]:
    return list(db.session.scalars(
        select(Tag).where(Tag.is_thesaurus.is_(True)).order_by(Tag.slug)))


# -- cursors ------------------------------------------------------------------------------


def encode_cursor(*parts: str) -> str:
    """An opaque cursor: the sort key and id of the last row shown."""
    raw = "\x1f".join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str] | None:
    """The parts of a cursor, or None for one we did not make (it is then ignored)."""
    if not cursor or len(cursor) > 1000:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    parts = raw.split("\x1f")
    if len(parts) != size or not parts[-1].isdigit():
        return None
    return parts


# -- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFilters:
    theme: str = ""
    #: Organisation handle key: resources on its shelves (own and re-shared).
    org_id: int | None = None
    language: str = ""
    doc_type: str = ""
    year: int | None = None
    licence: str = ""
    sort: str = "newest"

    @property
    def active(self) -> bool:
        return bool(self.theme or self.org_id or self.language or self.doc_type
                    or self.year or self.licence)


@dataclass(frozen=True)
class CataloguePage:
    resources: list[Resource]
    next_cursor: str | None
    filters: CatalogueFilters = field(default_factory=CatalogueFilters)


def list_catalogue(viewer: Any, filters: CatalogueFilters, after: str = "",
                   limit: int = PAGE_SIZE) -> CataloguePage:
    """Resources the viewer may see, filtered and sorted, one keyset page."""
    query = (select(Resource).where(listed_clause(Resource, viewer))
             .options(joinedload(Resource.org), selectinload(Resource.themes)))
    if filters.theme:
        query = query.where(exists().where(
            resource_tag.c.resource_id == Resource.id,
            resource_tag.c.tag_id == select(Tag.id).where(Tag.slug == filters.theme)
            .scalar_subquery()))
    if filters.org_id is not None:
        query = query.where(exists().where(Shelf.resource_id == Resource.id,
                                           Shelf.org_id == filters.org_id))
    for column, value in ((Resource.language, filters.language),
                          (Resource.doc_type, filters.doc_type),
                          (Resource.licence, filters.licence)):
        if value:
            query = query.where(column == value)
    if filters.year is not None:
        query = query.where(Resource.year == filters.year)
    if filters.sort == "title":
        parts = decode_cursor(after, 2)
        if parts is not None:
            key, last_id = parts[0], int(parts[1])
            query = query.where(beyond((Resource.title_key, Resource.id), (key, last_id),
                                       descending=False))
        query = query.order_by(Resource.title_key, Resource.id)
    else:
        parts = decode_cursor(after, 2)
        if parts is not None:
            try:
                at = datetime.fromisoformat(parts[0])
            except ValueError:
                at = None
            if at is not None and at.tzinfo is not None:
                last_id = int(parts[1])
                query = query.where(beyond((Resource.created_at, Resource.id), (at, last_id),
                                           descending=True))
        query = query.order_by(Resource.created_at.desc(), Resource.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = (encode_cursor(last.title_key, str(last.id)) if filters.sort == "title"
                       else encode_cursor(last.created_at.isoformat(), str(last.id)))
    return CataloguePage(rows, next_cursor, filters)


@dataclass(frozen=True)
class FilterChoices:
    organisations: list[Organisation]
    themes: list[Tag]
    years: list[int]


def catalogue_choices(viewer: Any) -> FilterChoices:
    """What the catalogue's filters offer: three queries, whatever the catalogue's size."""
    orgs = list(db.session.scalars(
        select(Organisation).where(Organisation.id.in_(select(Shelf.org_id).distinct()))
        .order_by(Organisation.name_key, Organisation.id)))
    themes = list(db.session.scalars(
        select(Tag).where(or_(Tag.is_thesaurus.is_(True),
                              Tag.id.in_(select(resource_tag.c.tag_id).distinct())))
        .order_by(Tag.slug).limit(300)))
    years = list(db.session.scalars(
        select(Resource.year).where(Resource.year.is_not(None), listed_clause(Resource, viewer))
        .distinct().order_by(Resource.year.desc())))
    return FilterChoices(orgs, themes, [y for y in years if y is not None])


# -- an organisation's library -------------------------------------------------------------


@dataclass(frozen=True)
class LibraryPage:
    shelves: list[Shelf]
    next_cursor: str | None


def list_library(org: Organisation, viewer: Any, folder: Folder | None = None,
                 after: str = "", limit: int = PAGE_SIZE) -> LibraryPage:
    """The shelves of an organisation (own and re-shared resources), newest first."""
    query = (select(Shelf).join(Resource, Resource.id == Shelf.resource_id)
             .where(Shelf.org_id == org.id, listed_clause(Resource, viewer))
             .options(contains_eager(Shelf.resource).options(
                 joinedload(Resource.org), selectinload(Resource.themes)),
                 joinedload(Shelf.folder)))
    if folder is not None:
        query = query.where(Shelf.folder_id == folder.id)
    parts = decode_cursor(after, 2)
    if parts is not None:
        try:
            at = datetime.fromisoformat(parts[0])
        except ValueError:
            at = None
        if at is not None and at.tzinfo is not None:
            last_id = int(parts[1])
            query = query.where(beyond((Shelf.created_at, Shelf.id), (at, last_id),
                                       descending=True))
    query = query.order_by(Shelf.created_at.desc(), Shelf.id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at.isoformat(), str(rows[-1].id))
    return LibraryPage(rows, next_cursor)


def latest_on_shelves(org: Organisation, viewer: Any, limit: int = 5) -> list[Shelf]:
    """The newest resources of an organisation's library, for its page (two queries)."""
    return list_library(org, viewer, limit=limit).shelves
