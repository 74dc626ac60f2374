"""Themes: one slug per theme whatever the case and accents, rows created on first use.

"Écologie", "ecologie" and "#ÉCOLOGIE" are one theme (slug "ecologie"); the label kept is
the first one written. Thesaurus themes (curated by admins) are the same rows with
``is_thesaurus`` set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select

from hub.content.models import Tag
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
