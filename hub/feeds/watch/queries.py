"""Reads of the collective watch: an organisation's sources, and the items polled from them.

Every watch item is public (it was published on the open web), and so are items of paused
sources: pausing stops polling, it hides nothing. Lists page with a keyset on
(published_at, id), newest first, and load each item's source (and, instance-wide, its
organisation) in the same query, so a page costs one query whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from hub.content.posts.queries import decode_cursor, encode_cursor
from hub.errors import NotFound
from hub.extensions import db
from hub.feeds.models import FeedSource, WatchItem
from hub.keyset import beyond

PAGE_SIZE = 30


@dataclass(frozen=True)
class WatchPage:
    items: list[WatchItem]
    #: Where the next (older) page starts; None on the last page.
    next_cursor: str | None


def _page(stmt: Any, before: str, limit: int) -> WatchPage:
    cursor = decode_cursor(before)
    if cursor is not None:
        stmt = stmt.where(beyond((WatchItem.published_at, WatchItem.id), cursor,
                                 descending=True))
    rows = list(db.session.scalars(
        stmt.order_by(WatchItem.published_at.desc(), WatchItem.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id)
    return WatchPage(rows, next_cursor)


def org_watch_items(org: Any, before: str = "", limit: int = PAGE_SIZE) -> WatchPage:
    """One page of an organisation's watch, with each item's source (one query)."""
    stmt = (select(WatchItem).where(WatchItem.org_id == org.id)
            .options(joinedload(WatchItem.source)))
    return _page(stmt, before, limit)


def instance_watch_items(before: str = "", limit: int = PAGE_SIZE) -> WatchPage:
    """One page of every organisation's watch, with source and organisation (one query)."""
    stmt = select(WatchItem).options(joinedload(WatchItem.source).joinedload(FeedSource.org))
    return _page(stmt, before, limit)


def find_watch_item(item_id: int) -> WatchItem | None:
    """A watch item with its source, for "share as resource"; None when it is gone."""
    return db.session.scalar(select(WatchItem).where(WatchItem.id == item_id)
                             .options(joinedload(WatchItem.source)))


def org_sources(org: Any) -> list[FeedSource]:
    """The organisation's watched feeds, newest first, for its admins (one query)."""
    return list(db.session.scalars(
        select(FeedSource).where(FeedSource.org_id == org.id)
        .order_by(FeedSource.created_at.desc(), FeedSource.id.desc())))


def get_source(org: Any, source_id: int) -> FeedSource:
    source = db.session.scalar(select(FeedSource).where(
        FeedSource.id == source_id, FeedSource.org_id == org.id))
    if source is None:
        raise NotFound("feed source")
    return source


def find_source_by_url(org: Any, url: str) -> FeedSource | None:
    return db.session.scalar(select(FeedSource).where(
        FeedSource.org_id == org.id, FeedSource.url == url))


def source_urls(org: Any) -> set[str]:
    """Addresses already watched by the organisation (an OPML import skips them)."""
    return set(db.session.scalars(select(FeedSource.url).where(FeedSource.org_id == org.id)))


def count_sources(org: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(FeedSource)
                             .where(FeedSource.org_id == org.id)) or 0


def failing_sources(org: Any) -> list[FeedSource]:
    """Sources whose last poll failed (or that were paused after failing), for the admins'
    warning at the top of the watch page (one query)."""
    return list(db.session.scalars(
        select(FeedSource).where(FeedSource.org_id == org.id, FeedSource.error != "")
        .order_by(FeedSource.id)))
