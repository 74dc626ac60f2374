"""Keeps ``search_document`` in step with the content, in the writing transaction.

Services call ``sync(kind, obj)`` after every change (creation, edit, publication,
deletion, moderation). Only what is *listed* for someone is indexed: drafts, scheduled,
unlisted, deleted and hidden items have no document, so no search can leak them;
members-only items are indexed with ``visibility="members"`` and matched only for
members of their organisation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from hub.content.models import SearchDocument
from hub.extensions import db
from hub.models_base import utcnow
from hub.sanitize import plain_text

#: Text kept per document: enough for long PDFs' opening pages, bounded for the index.
MAX_BODY_CHARS = 200_000

#: Tables and columns of the full-text index that the migration creates by hand beside
#: ``search_document`` (FTS5, its shadow tables and the ``fts_key`` column and index on
#: SQLite; the tsvector column and its GIN index on PostgreSQL). The models do not
#: declare them, so the drift check and autogenerate must not see them.
SEARCH_INDEX_NAMES = frozenset({"search_vector", "ix_search_document_vector", "fts_key",
                                "ix_search_document_fts_key"})
SEARCH_INDEX_TABLE_PREFIX = "search_document_fts"


def is_search_index_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Is this database object part of the hand-made full-text index?"""
    if not name:
        return False
    if type_ == "table":
        return name.startswith(SEARCH_INDEX_TABLE_PREFIX)
    if type_ in ("column", "index"):
        return parent_names.get("table_name") == "search_document" and name in SEARCH_INDEX_NAMES
    return False


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: everything but the full-text index."""
    return not is_search_index_name(name, type_, parent_names)


def fold(text: str) -> str:
    """Lower case without accents: what the index stores and queries are matched on."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@dataclass(frozen=True)
class DocumentFields:
    org_id: int | None
    visibility: str
    language: str
    title: str
    body: str
    themes: str
    sort_at: datetime


def _listed(obj: Any) -> bool:
    if getattr(obj, "deleted_at", None) is not None or getattr(obj, "hidden_at", None):
        return False
    if getattr(obj, "status", "published") not in ("published", "confirmed", "tentative",
                                                   "cancelled"):
        return False
    return getattr(obj, "visibility", "public") in ("public", "members")


def _themes(obj: Any) -> str:
    return " ".join(tag.slug for tag in getattr(obj, "themes", []) or [])


def fields_for(kind: str, obj: Any) -> DocumentFields | None:
    """What to index for an item, or None when it must not be found."""
    if kind == "organisation":
        return DocumentFields(obj.id, "public", "", obj.name,
                              f"{obj.summary}\n{plain_text(obj.description_html)}",
                              _themes(obj), obj.created_at or utcnow())
    if not _listed(obj):
        return None
    if kind == "post":
        body = f"{obj.summary}\n{plain_text(obj.body_html)}"
        return DocumentFields(obj.org_id, obj.visibility, "", obj.title, body, _themes(obj),
                              obj.published_at or obj.created_at)
    if kind == "resource":
        body = "\n".join(part for part in (
            obj.authors, obj.publisher, plain_text(obj.abstract_html),
            plain_text(obj.body_html), obj.file_text) if part)
        return DocumentFields(obj.org_id, obj.visibility, obj.language, obj.title, body,
                              _themes(obj), obj.created_at)
    if kind == "discussion":
        return DocumentFields(obj.org_id, obj.visibility, "", obj.title,
                              plain_text(obj.body_html), _themes(obj), obj.created_at)
    if kind == "comment":
        return DocumentFields(obj.org_id, obj.visibility, "", "", plain_text(obj.body_html),
                              "", obj.created_at)
    if kind == "event":
        body = "\n".join(part for part in (
            plain_text(obj.description_html), obj.place_name, obj.address) if part)
        return DocumentFields(obj.org_id, obj.visibility, "", obj.title, body, _themes(obj),
                              obj.starts_at)
    raise ValueError(f"unknown search kind {kind!r}")


def sync(kind: str, obj: Any) -> None:
    """Create, update or remove the search document of one item (flushes)."""
    db.session.flush()
    fields = fields_for(kind, obj)
    doc = db.session.scalar(select(SearchDocument).where(
        SearchDocument.kind == kind, SearchDocument.object_id == obj.id))
    if fields is None:
        if doc is not None:
            db.session.delete(doc)
            db.session.flush()
        return
    if doc is None:
        doc = SearchDocument(kind=kind, object_id=obj.id)
        db.session.add(doc)
    doc.org_id = fields.org_id
    doc.visibility = fields.visibility
    doc.language = fields.language
    doc.title = fields.title[:300]
    doc.body = fields.body[:MAX_BODY_CHARS]
    doc.themes = fields.themes[:700]
    doc.sort_at = fields.sort_at
    db.session.flush()


def remove(kind: str, object_ids: list[int]) -> None:
    """Drop documents in bulk (an organisation or an account deleted)."""
    if object_ids:
        db.session.execute(delete(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.object_id.in_(object_ids)))
