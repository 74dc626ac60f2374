"""Themes: one slug per theme whatever the case and accents, rows created on first use.

"Écologie", "ecologie" and "#ÉCOLOGIE" are one theme (slug "ecologie"); the label kept is
the first one written. Thesaurus themes (curated by admins) are the same rows with
``is_thesaurus`` set; instance administrators manage them here (``save_theme``,
``promote_keyword``), each change recorded in the admin log.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.content.models import Tag
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db

MAX_THEMES = 12


def theme_slug(label: str) -> str:
    """Lower case, no accents, words joined by "-": the key themes match on."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60]


def split_labels(text: str) -> list[str]:
    """Comma-separated labels from a form field ("#" allowed before each)."""
    return [raw.strip().lstrip("#").strip()[:60] for raw in text.split(",") if raw.strip()]


def resolve_themes(labels: Iterable[str], limit: int = MAX_THEMES) -> list[Tag]:
    """Tag rows for these labels, created when new; duplicates by slug dropped."""
    wanted: dict[str, str] = {}
    for label in labels:
        slug = theme_slug(label)
        if slug and slug not in wanted:
            wanted[slug] = label.strip().lstrip("#")[:60]
        if len(wanted) >= limit:
            break
    if not wanted:
        return []
    existing = {tag.slug: tag for tag in db.session.scalars(
        select(Tag).where(Tag.slug.in_(list(wanted))))}
    tags = []
    for slug, label in wanted.items():
        tag = existing.get(slug)
        if tag is None:
            tag = Tag(slug=slug, label=label)
            db.session.add(tag)
            existing[slug] = tag
        tags.append(tag)
    return tags


def theme_label(tag: Tag, locale: str) -> str:
    """The label in the reader's language for thesaurus themes, else the label written."""
    if locale == "fr" and tag.label_fr:
        return tag.label_fr
    if locale == "en" and tag.label_en:
        return tag.label_en
    return tag.label


# -- the thesaurus (instance administrators) ------------------------------------------------


@dataclass(frozen=True)
class ThemeDraft:
    label: str
    label_fr: str = ""
    label_en: str = ""
    parent_id: int | None = None
    description: str = ""


def _require_admin(actor: Any) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only instance administrators may manage the thesaurus."))


def _check_parent(tag: Tag | None, parent_id: int | None) -> Tag | None:
    """The parent theme, refused when missing, free, the theme itself or below it."""
    if parent_id is None:
        return None
    parent = db.session.get(Tag, parent_id)
    if parent is None or not parent.is_thesaurus:
        raise ValidationFailed(_("Choose a parent theme from the thesaurus."), field="parent_id")
    seen: set[int] = set()
    node: Tag | None = parent
    while node is not None and node.id not in seen:
        if tag is not None and node.id == tag.id:
            raise ValidationFailed(_("A theme cannot be placed under itself or one of its "
                                     "sub-themes."), field="parent_id")
        seen.add(node.id)
        node = node.parent
    return parent


def save_theme(actor: Any, tag_id: int | None, draft: ThemeDraft) -> Tag:
    """Create a thesaurus theme (or take in the free keyword of the same slug), or edit one.

    The slug never changes on edit: #theme links already written point to it.
    """
    _require_admin(actor)
    label = draft.label.strip()[:60]
    slug = theme_slug(label)
    if not slug:
        raise ValidationFailed(_("The label needs at least one letter or digit."), field="label")
    if tag_id is None:
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is not None and tag.is_thesaurus:
            raise ValidationFailed(_("The thesaurus already has this theme."), field="label")
        action = "theme.create" if tag is None else "theme.promote"
        if tag is None:
            tag = Tag(slug=slug, label=label)
            db.session.add(tag)
    else:
        tag = db.session.get(Tag, tag_id)
        if tag is None or not tag.is_thesaurus:
            raise NotFound(_("This theme is not in the thesaurus."))
        action = "theme.update"
    parent = _check_parent(tag if tag_id is not None else None, draft.parent_id)
    tag.label = label
    tag.label_fr = draft.label_fr.strip()[:60]
    tag.label_en = draft.label_en.strip()[:60]
    tag.description = draft.description.strip()[:5000]
    tag.parent = parent
    tag.is_thesaurus = True
    db.session.flush()
    _record(actor, action, tag)
    return tag


def promote_keyword(actor: Any, tag_id: int) -> Tag:
    """Put a free keyword into the thesaurus, as it is (labels can be edited after)."""
    _require_admin(actor)
    tag = db.session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(_("This theme does not exist."))
    if tag.is_thesaurus:
        raise ValidationFailed(_("The thesaurus already has this theme."))
    tag.is_thesaurus = True
    db.session.flush()
    _record(actor, "theme.promote", tag)
    return tag


def _record(actor: Any, action: str, tag: Tag) -> None:
    from hub.admin.services import record_action

    record_action(actor, action, "tag", tag.id, slug=tag.slug)
