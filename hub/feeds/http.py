"""Conditional answers for feeds: validators that cost one row, whatever the data.

The ETag is derived from the instance's content version (bumped in the transaction of every
write that changes what visitors see, see ``hub/pagecache.py``) and the feed's URL; the
Last-Modified from the time of that bump. Neither reads a single item, so a 304 costs the
same for 100 or 100,000 posts. A body is built once per version and URL and then kept in
this process: readers polling the same feed cost a dictionary lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, request

from hub.feeds.build import MIMETYPES
from hub.pagecache import LRU

#: Readers may reuse a feed this long without asking (seconds).
MAX_AGE = 60
MAX_ENTRIES = 512
MAX_BODY = 2 * 1024 * 1024


def init_app(app) -> None:
    app.extensions["hub_feeds"] = LRU(MAX_ENTRIES)


def _bodies() -> LRU:
    return current_app.extensions["hub_feeds"]


def clear() -> None:
    _bodies().clear()


_STATE = None


def _state_query():
    """Built once: a textual statement skips the ORM's statement compilation and caching,
    which cost more than the query itself on a 304."""
    global _STATE
    if _STATE is None:
        from sqlalchemy import Integer, text

        from hub.models_base import UTCDateTime

        _STATE = text("SELECT content_version, content_changed_at FROM instance_settings "
                      "WHERE id = 1").columns(content_version=Integer,
                                              content_changed_at=UTCDateTime)
    return _STATE


def _state() -> tuple[int | None, datetime | None]:
    """The content version and when it moved: two columns, no ORM object."""
    from hub.extensions import db

    row = db.session.execute(_state_query()).first()
    if row is None:  # before `maillage init`
        return None, None
    return row[0], row[1]


def _not_modified_since(changed: datetime | None) -> bool:
    since = request.if_modified_since
    if changed is None or since is None:
        return False
    return changed.replace(microsecond=0) <= since.astimezone(UTC)


def _last_modified(changed: datetime | None, now: datetime) -> datetime | None:
    """None while the second of the last change is not over: HTTP dates count whole
    seconds, so a second change in that second would otherwise keep the same date."""
    if changed is None or now - changed < timedelta(seconds=1):
        return None
    return changed.replace(microsecond=0)


def conditional(fmt: str, build: Callable[[], bytes], *, filename: str = "") -> Response:
    """Answer 304 from the validators alone, else the body (built at most once per version).

    ``build`` also looks up what the URL names and may abort (404, a redirect): it runs
    only on a miss. A 304 or a kept body needs no lookup, because every change that would
    make the URL answer otherwise (a deletion, a rename, a hide) moves the content version.
    """
    version, changed = _state()
    key = (version, request.full_path, fmt)
    etag = hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest()
    now = datetime.now(UTC)
    last_modified = _last_modified(changed, now)
    if version is not None:
        # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
        if request.if_none_match:
            fresh = request.if_none_match.contains_weak(etag)
        else:
            fresh = last_modified is not None and _not_modified_since(changed)
        if fresh:
            return _finish(Response(status=304), etag, last_modified, fmt, filename)
    body = _bodies().get(key) if version is not None else None
    if body is None:
        body = build()
        if version is not None and len(body) <= MAX_BODY:
            _bodies().put(key, body)
    response = Response(body, content_type=MIMETYPES[fmt])
    return _finish(response, etag, last_modified, fmt, filename)


def _finish(response: Response, etag: str, last_modified: datetime | None, fmt: str,
            filename: str) -> Response:
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"  # partner sites read feeds in JS
    if filename and response.status_code == 200:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
