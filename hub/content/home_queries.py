"""What the home page shows: the latest public content across organisations.

Queries the models directly with ``visibility.listed_clause``; each list loads its
organisations in the same query, so the page runs a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hub.content.models import Event, Post, Resource, Tag
from hub.content.theme_queries import list_active_themes
from hub.content.visibility import listed_clause
from hub.extensions import db


@dataclass
class HomeContent:
    posts: list[Post]
    resources: list[Resource]
    events: list[Event]
    themes: list[tuple[Tag, int]]


def home_content(viewer: Any, now: datetime, size: int = 6) -> HomeContent:
    """Latest posts and resources, upcoming events, most active themes (four queries)."""
    posts = db.session.scalars(
        select(Post).where(listed_clause(Post, viewer)).options(joinedload(Post.org))
        .order_by(Post.published_at.desc(), Post.id.desc()).limit(size)).all()
    resources = db.session.scalars(
        select(Resource).where(listed_clause(Resource, viewer))
        .options(joinedload(Resource.org))
        .order_by(Resource.created_at.desc(), Resource.id.desc()).limit(size)).all()
    events = db.session.scalars(
        select(Event).where(listed_clause(Event, viewer), Event.ends_at >= now)
        .options(joinedload(Event.org))
        .order_by(Event.starts_at, Event.id).limit(size)).all()
    return HomeContent(posts=list(posts), resources=list(resources), events=list(events),
                       themes=list_active_themes(viewer, now))
