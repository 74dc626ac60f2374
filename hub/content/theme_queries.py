"""Reads about themes: the theme index, a theme's page, the most active themes.

Every list goes through ``visibility.listed_clause`` and loads what its template shows
(the organisation of each item) in the same query, so pages run a fixed number of
queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import joinedload

from hub.content.models import (
    Discussion,
    Event,
    Post,
    Resource,
    Tag,
    discussion_tag,
    event_tag,
    post_tag,
    resource_tag,
)
from hub.content.themes import theme_slug
from hub.content.visibility import listed_clause
from hub.errors import NotFound
from hub.extensions import db
from hub.orgs.models import org_theme

SECTION_SIZE = 10
KEYWORD_LIMIT = 60
ACTIVE_DAYS = 30


def find_theme(slug: str) -> Tag | None:
    """The theme for any spelling of its slug ("Écologie", "ECOLOGIE" → "ecologie")."""
    canonical = theme_slug(slug)
    if not canonical:
        return None
    return db.session.scalar(select(Tag).where(Tag.slug == canonical))


def get_theme(slug: str) -> Tag:
    tag = find_theme(slug)
    if tag is None:
        raise NotFound()
    return tag


def list_thesaurus() -> list[Tag]:
    """Every thesaurus theme, by label (the admin page and parent choices)."""
    return list(db.session.scalars(
        select(Tag).where(Tag.is_thesaurus.is_(True)).options(joinedload(Tag.parent))
        .order_by(Tag.label, Tag.id)))


@dataclass
class ThemeIndex:
    #: Top-level thesaurus themes, each with its sub-themes (any depth below, flattened).
    tree: list[tuple[Tag, list[Tag]]] = field(default_factory=list)
    #: The most used free keywords, with how many listed items carry them.
    keywords: list[tuple[Tag, int]] = field(default_factory=list)


def _tag_uses(viewer: Any, since: datetime | None = None) -> Any:
    """One row (tag_id) per listed item carrying a theme, optionally recent items only."""
    parts = []
    for model, table, column, date_column in (
            (Post, post_tag, "post_id", Post.published_at),
            (Resource, resource_tag, "resource_id", Resource.created_at),
            (Event, event_tag, "event_id", Event.created_at),
            (Discussion, discussion_tag, "discussion_id", Discussion.created_at)):
        part = (select(table.c.tag_id.label("tag_id"))
                .join(model, model.id == table.c[column])
                .where(listed_clause(model, viewer)))
        if since is not None:
            part = part.where(date_column >= since)
        parts.append(part)
    if since is None:
        parts.append(select(org_theme.c.tag_id.label("tag_id")))
    return union_all(*parts).subquery()


def _counted(uses: Any, statement: Select) -> Select:
    count = func.count().label("uses")
    return (statement.add_columns(count).join(uses, uses.c.tag_id == Tag.id)
            .group_by(Tag.id).order_by(count.desc(), Tag.slug))


def list_theme_index(viewer: Any, keyword_limit: int = KEYWORD_LIMIT) -> ThemeIndex:
    """The thesaurus grouped by parent, then the most used free keywords (two queries)."""
    thesaurus = list_thesaurus()
    by_id = {tag.id: tag for tag in thesaurus}

    def root(tag: Tag) -> Tag:
        seen = set()
        while tag.parent_id in by_id and tag.id not in seen:
            seen.add(tag.id)
            tag = by_id[tag.parent_id]
        return tag

    groups: dict[int, list[Tag]] = {}
    roots = []
    for tag in thesaurus:
        top = root(tag)
        if top is tag:
            roots.append(tag)
        else:
            groups.setdefault(top.id, []).append(tag)
    keywords = [(row[0], row[1]) for row in db.session.execute(_counted(
        _tag_uses(viewer), select(Tag).where(Tag.is_thesaurus.is_(False)))
        .limit(keyword_limit))]
    return ThemeIndex(tree=[(tag, groups.get(tag.id, [])) for tag in roots],
                      keywords=keywords)


def list_active_themes(viewer: Any, now: datetime, limit: int = 12,
                       days: int = ACTIVE_DAYS) -> list[tuple[Tag, int]]:
    """Themes most used by listed items of the last ``days`` days (one query)."""
    uses = _tag_uses(viewer, since=now - timedelta(days=days))
    return [(row[0], row[1]) for row in db.session.execute(
        _counted(uses, select(Tag)).limit(limit))]


@dataclass
class ThemePage:
    theme: Tag
    parent: Tag | None
    children: list[Tag]
    posts: list[Post]
    resources: list[Resource]
    events: list[Event]
    discussions: list[Discussion]


def _tagged(model: Any, table: Any, column: str, tag: Tag, viewer: Any) -> Select:
    return (select(model).join(table, table.c[column] == model.id)
            .where(table.c.tag_id == tag.id, listed_clause(model, viewer))
            .options(joinedload(model.org)))


def theme_page(tag: Tag, viewer: Any, now: datetime, size: int = SECTION_SIZE) -> ThemePage:
    """What a theme gathers across organisations: six queries whatever the rows."""
    posts = db.session.scalars(
        _tagged(Post, post_tag, "post_id", tag, viewer)
        .order_by(Post.published_at.desc(), Post.id.desc()).limit(size)).all()
    resources = db.session.scalars(
        _tagged(Resource, resource_tag, "resource_id", tag, viewer)
        .order_by(Resource.created_at.desc(), Resource.id.desc()).limit(size)).all()
    events = db.session.scalars(
        _tagged(Event, event_tag, "event_id", tag, viewer).where(Event.ends_at >= now)
        .order_by(Event.starts_at, Event.id).limit(size)).all()
    discussions = db.session.scalars(
        _tagged(Discussion, discussion_tag, "discussion_id", tag, viewer)
        .order_by(Discussion.last_activity_at.desc(), Discussion.id.desc()).limit(size)).all()
    children: list[Tag] = []
    parent: Tag | None = None
    if tag.is_thesaurus:
        children = list(db.session.scalars(
            select(Tag).where(Tag.parent_id == tag.id, Tag.is_thesaurus.is_(True))
            .order_by(Tag.label)))
        if tag.parent_id is not None:
            parent = db.session.get(Tag, tag.parent_id)
    return ThemePage(theme=tag, parent=parent, children=children, posts=list(posts),
                     resources=list(resources), events=list(events),
                     discussions=list(discussions))
