"""Reads of what came from the network: the objects followed actors published.

Lists page with a keyset on (published_at, id), newest first, and load each object's
actor in the same query. Unlisted objects are shown by their own page only, as at their
origin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hub.content.posts.queries import decode_cursor, encode_cursor
from hub.errors import NotFound
from hub.extensions import db
from hub.federation.models import RemoteObject
from hub.keyset import beyond

PAGE_SIZE = 20
KINDS = ("post", "resource", "event", "note")


@dataclass(frozen=True)
class NetworkPage:
    items: list[RemoteObject]
    next_cursor: str | None


def network_items(*, kind: str = "", theme: str = "", before: str = "",
                  limit: int = PAGE_SIZE) -> NetworkPage:
    """One page of listed remote objects, with their actors (one query)."""
    stmt = (select(RemoteObject).where(RemoteObject.visibility == "public")
            .options(joinedload(RemoteObject.actor)))
    if kind in KINDS:
        stmt = stmt.where(RemoteObject.kind == kind)
    if theme:
        stmt = stmt.where(RemoteObject.themes.contains(f" {theme} ", autoescape=True))
    cursor = decode_cursor(before)
    if cursor is not None:
        stmt = stmt.where(beyond((RemoteObject.published_at, RemoteObject.id), cursor,
                                 descending=True))
    rows = list(db.session.scalars(
        stmt.order_by(RemoteObject.published_at.desc(), RemoteObject.id.desc())
        .limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id)
    return NetworkPage(rows, next_cursor)


def get_remote_object(object_id: int) -> RemoteObject:
    row = db.session.scalar(select(RemoteObject).where(RemoteObject.id == object_id)
                            .options(joinedload(RemoteObject.actor)))
    if row is None:
        raise NotFound("remote object")
    return row


def attachments_of(row: RemoteObject) -> list[dict[str, Any]]:
    try:
        found = json.loads(row.attachments or "[]")
    except ValueError:
        return []
    from hub.federation.remote_media import cached_image

    shown = []
    for a in found:
        if isinstance(a, dict) and str(a.get("url", "")).startswith(("https://", "http://")):
            image = (cached_image(a["url"])
                     if str(a.get("type") or "").startswith("image/") else None)
            shown.append({**a, "image": image})  # the local copy of an image, once fetched
    return shown
