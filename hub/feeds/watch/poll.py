"""The ``poll_feed_source`` job: fetch a watched feed, store its new items.

Durable as in ``hub.jobs``: the ``FeedSource`` row is the truth (``next_poll_at``,
``locked_until``, ``attempts``). The sweeper ``due_sources`` queues every active source
that is due and not held; the job claims its row with one atomic UPDATE (so a source
queued twice is polled once), asks with a conditional GET through the one outbound
client (its SSRF guard checks every redirect hop), parses with ``parse.parse_feed`` and
inserts the items it has not seen. Every failure is written on the row — ``failures``,
a short ``error`` the organisation's admins see, a backed-off ``next_poll_at`` — and after
``HUB_WATCH_MAX_FAILURES`` in a row (at once for 410 Gone) the source is paused. A poll
never raises out of the job: a feed that keeps failing must not break anything else.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urljoin

from flask import current_app
from sqlalchemy import delete, or_, select, update

from hub.errors import FetchError
from hub.extensions import db
from hub.feeds.models import FeedSource, WatchItem
from hub.feeds.watch.parse import FeedError, ParsedFeed, ParsedItem, parse_feed
from hub.models_base import utcnow

log = logging.getLogger(__name__)

JOB_NAME = "poll_feed_source"
MAX_REDIRECTS = 3
#: Items kept per source, newest first; older ones are deleted after each poll.
MAX_ITEMS_PER_SOURCE = 500
#: Items read from one document (feeds list the newest first).
MAX_ITEMS_PER_POLL = 200
MAX_BACKOFF = timedelta(days=1)
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
          "application/json;q=0.8, */*;q=0.1")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


class PollFailure(Exception):
    """An answer that is not a feed we can use ("HTTP 500"); ``pause`` for 410 Gone."""

    def __init__(self, message: str, *, pause: bool = False) -> None:
        super().__init__(message)
        self.pause = pause


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["HUB_JOB_LEASE_SECONDS"])


def _interval() -> timedelta:
    return timedelta(minutes=current_app.config["HUB_WATCH_INTERVAL_MINUTES"])


# -- scheduling -------------------------------------------------------------------------


def due_sources(now: datetime) -> Iterable[tuple[str, tuple[int]]]:
    """Sweeper: active sources due and not held, pushed one lease ahead so a long backlog
    is not queued again at every sweep."""
    ids = list(db.session.scalars(
        select(FeedSource.id)
        .where(FeedSource.status == "active", FeedSource.next_poll_at <= now,
               or_(FeedSource.locked_until.is_(None), FeedSource.locked_until < now))
        .order_by(FeedSource.next_poll_at).limit(500)))
    if ids:
        db.session.execute(update(FeedSource).where(FeedSource.id.in_(ids))
                           .values(next_poll_at=now + _lease()))
    return [(JOB_NAME, (source_id,)) for source_id in ids]


def schedule_now(source_id: int) -> None:
    """Poll the source as soon as a worker is free (a source just added or resumed).

    Does not commit: the job is queued when the caller's transaction commits, and the
    sweep finds the source anyway if that enqueue is lost.
    """
    from hub.jobs import jobs

    source = db.session.get(FeedSource, source_id)
    if source is None:
        return
    source.next_poll_at = utcnow()
    jobs.after_commit(JOB_NAME, source_id)


def claim_source(source_id: int, now: datetime | None = None) -> bool:
    """Take the row for one lease; False when paused, held, or not due. Commits.

    "Due" allows one lease of slack, because the sweep pushes ``next_poll_at`` one lease
    ahead when it queues the job; a second job queued for a source polled a moment ago
    finds ``next_poll_at`` a whole interval away and does nothing.
    """
    now = now or utcnow()
    lease = _lease()
    result = db.session.execute(
        update(FeedSource)
        .where(FeedSource.id == source_id, FeedSource.status == "active",
               FeedSource.next_poll_at <= now + lease,
               or_(FeedSource.locked_until.is_(None), FeedSource.locked_until < now))
        .values(locked_until=now + lease, attempts=FeedSource.attempts + 1,
                next_poll_at=now + lease))
    db.session.commit()
    return result.rowcount == 1


def backoff(failures: int) -> timedelta:
    """The interval doubled at each failure in a row, at most a day, with a little jitter."""
    wait = min(_interval() * 2 ** max(failures, 0), MAX_BACKOFF)
    return min(wait * random.uniform(0.9, 1.1), MAX_BACKOFF)


# -- the job ----------------------------------------------------------------------------


def poll_source(source_id: int) -> None:
    """Job: claim the source, poll it, record the outcome on its row, commit."""
    if not claim_source(source_id):
        return
    source = db.session.get(FeedSource, source_id)
    if source is None:
        return
    now = utcnow()
    try:
        new = _poll(source, now)
    except (FetchError, FeedError, PollFailure) as exc:
        db.session.rollback()
        _record_failure(source_id, _describe(exc), now,
                        pause=isinstance(exc, PollFailure) and exc.pause)
    except Exception as exc:  # a bug must not keep the source locked or polled in a loop
        log.exception("feed source %s: poll failed unexpectedly", source_id)
        db.session.rollback()
        _record_failure(source_id, f"internal error ({type(exc).__name__})", now)
    else:
        db.session.commit()
        if new:
            log.info("feed source %s: %d new item(s)", source_id, new)


def _poll(source: FeedSource, now: datetime) -> int:
    """One conditional GET, following up to three redirects; returns the new item count."""
    from hub.federation.client import BlockedAddress, fetch, make_session

    config = current_app.config
    headers = {"Accept": ACCEPT}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    url, permanent = source.url, True
    session = make_session(allow_private=config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = fetch(session, "GET", url, timeout=config["HUB_WATCH_TIMEOUT_SECONDS"],
                             max_bytes=config["HUB_WATCH_MAX_BYTES"], headers=headers)
            status = response.status_code
            if status not in REDIRECTS:
                break
            location = response.headers.get("Location")
            if not location:
                raise PollFailure(f"HTTP {status} without a Location")
            permanent = permanent and status in PERMANENT_REDIRECTS
            url = urljoin(url, location)  # each hop goes through the guard again
        else:
            raise PollFailure(f"more than {MAX_REDIRECTS} redirects")
    except BlockedAddress as exc:
        raise PollFailure(f"refused: {exc}") from exc  # "<host> resolves to a private address"
    finally:
        session.close()

    if status == 410:
        raise PollFailure("HTTP 410: the feed is gone", pause=True)
    if status != 304 and not 200 <= status < 300:
        raise PollFailure(f"HTTP {status}")
    new = 0
    if status != 304:
        parsed = parse_feed(response.content, url=url,
                            content_type=response.headers.get("Content-Type", ""),
                            max_items=MAX_ITEMS_PER_POLL)
        new = _store(source, parsed, now)
        source.etag = _validator(response.headers.get("ETag"), 300)
        source.last_modified = _validator(response.headers.get("Last-Modified"), 100)
    else:  # a 304 may carry fresher validators
        source.etag = _validator(response.headers.get("ETag"), 300) or source.etag
        source.last_modified = (_validator(response.headers.get("Last-Modified"), 100)
                                or source.last_modified)
    if permanent and url != source.url:
        _move(source, url)
    source.failures = 0
    source.error = ""
    source.last_polled_at = source.last_success_at = now
    source.next_poll_at = now + _interval()
    source.locked_until = None
    return new


def _record_failure(source_id: int, message: str, now: datetime, *, pause: bool = False
                    ) -> None:
    source = db.session.get(FeedSource, source_id)
    if source is None:
        return
    source.failures += 1
    source.error = message[:500]
    source.last_polled_at = now
    source.locked_until = None
    source.next_poll_at = now + backoff(source.failures)
    if pause or source.failures >= current_app.config["HUB_WATCH_MAX_FAILURES"]:
        source.status = "paused"
    db.session.commit()
    log.info("feed source %s: poll failed (%d in a row%s): %s", source_id, source.failures,
             ", paused" if source.status == "paused" else "", source.error)


def _describe(exc: Exception) -> str:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, FeedError) and not message.startswith(("not a feed", "malformed")):
        return f"not a feed: {message}"
    return message


def _validator(value: str | None, limit: int) -> str:
    """A validator too long for its column is dropped, never cut (a cut ETag never matches)."""
    value = (value or "").strip()
    return value if len(value) <= limit else ""


def _move(source: FeedSource, url: str) -> None:
    """Follow a permanent redirect, unless another source of the organisation has the URL."""
    if len(url) > 2000:
        return
    taken = db.session.scalar(select(FeedSource.id).where(
        FeedSource.org_id == source.org_id, FeedSource.url == url,
        FeedSource.id != source.id))
    if taken is None:
        log.info("feed source %s moved permanently to %s", source.id, url)
        source.url = url


# -- storing items ----------------------------------------------------------------------


def _key(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _guid_key(item: ParsedItem) -> str:
    # parse_feed gives the link as guid when the item has no id; an item with neither is
    # known by its title.
    return _key(item.guid or item.link or f"title:{item.title}")


def _store(source: FeedSource, parsed: ParsedFeed, now: datetime) -> int:
    """Insert the items not seen before (same guid, or same link), keep the newest ones."""
    if not source.title and parsed.title:
        source.title = parsed.title
    if not source.site_url and parsed.site_url:
        source.site_url = parsed.site_url
    items = [(item, _guid_key(item), _key(item.link) if item.link else "")
             for item in parsed.items]
    if not items:
        return 0
    guid_keys = {g for _, g, _ in items}
    link_keys = {k for _, _, k in items if k}
    seen_guids: set[str] = set()
    seen_links: set[str] = set()
    for guid_key, link_key in db.session.execute(
            select(WatchItem.guid_key, WatchItem.link_key)
            .where(WatchItem.source_id == source.id,
                   or_(WatchItem.guid_key.in_(guid_keys), WatchItem.link_key.in_(link_keys)))):
        seen_guids.add(guid_key)
        if link_key:
            seen_links.add(link_key)
    fresh = []
    for item, guid_key, link_key in items:  # in the feed's order: its first copy wins
        if guid_key in seen_guids or (link_key and link_key in seen_links):
            continue
        seen_guids.add(guid_key)
        if link_key:
            seen_links.add(link_key)
        fresh.append((item, guid_key, link_key))
    # Stored oldest first, so that among undated items (all dated "now") the feed's first,
    # its newest, gets the highest id and is listed first.
    for item, guid_key, link_key in reversed(fresh):
        published = item.published_at
        db.session.add(WatchItem(
            source_id=source.id, org_id=source.org_id, guid_key=guid_key, link_key=link_key,
            guid=item.guid[:500], link=item.link, title=item.title, author=item.author,
            summary_html=item.summary_html, content_html=item.content_html,
            # A date in the future would pin the item on top of the watch page.
            published_at=min(published, now) if published else now, fetched_at=now))
    if fresh:
        db.session.flush()
        _trim(source.id)
    return len(fresh)


def _trim(source_id: int) -> None:
    old = (select(WatchItem.id).where(WatchItem.source_id == source_id)
           .order_by(WatchItem.published_at.desc(), WatchItem.id.desc())
           .offset(MAX_ITEMS_PER_SOURCE))
    db.session.execute(delete(WatchItem).where(WatchItem.id.in_(old.scalar_subquery())),
                       execution_options={"synchronize_session": False})
