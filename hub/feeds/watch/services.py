"""Use cases of the collective watch: add, import, pause, resume and remove watched feeds.

Who may: the organisation's admins and instance admins (``manage_watch``). Every refusal
is raised before anything changes; services add and flush, the caller commits, and the
first poll of a new or resumed source is queued after that commit (``schedule_now``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from hub.content.resources.services import LIMITS, ResourceDraft
from hub.errors import Conflict, ValidationFailed
from hub.extensions import db
from hub.feeds.models import FeedSource, WatchItem
from hub.feeds.watch import queries
from hub.feeds.watch.opml import parse_opml
from hub.orgs.access import may, refusal
from hub.sanitize import plain_text

#: An organisation watches its members' and partners' sites: tens, not thousands.
MAX_SOURCES = 300
MAX_URL_LENGTH = 2000
MAX_OPML_BYTES = 1024 * 1024
#: The abstract pre-filled from a watch item stays an excerpt.
MAX_SHARED_ABSTRACT = 3000
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int


def may_manage(actor: Any, org: Any) -> bool:
    return may("manage_watch", actor, org)


# -- addresses --------------------------------------------------------------------------


def normalise_feed_url(raw: str) -> str:
    """The one spelling of a feed address, so the same feed is never watched twice.

    Pure. Scheme and host lower case, default port and fragment dropped, an empty path
    made "/". Refused: anything but http(s), credentials (they would be shown on pages and
    sent on every poll), blanks or control characters, and addresses over 2000 characters.
    """
    url = (raw or "").strip()
    if not url:
        raise ValidationFailed(_("Give the address of a feed."), field="url")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(_("This address is too long (%(limit)d characters at most).",
                                 limit=MAX_URL_LENGTH), field="url")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise ValidationFailed(_("A feed address has no spaces."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed(_("This is not a valid address."), field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValidationFailed(_("Only http:// and https:// addresses can be watched."),
                               field="url")
    if "@" in parts.netloc:
        raise ValidationFailed(_("A feed address must not contain a user name or a "
                                 "password."), field="url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationFailed(_("This address has no host name."), field="url")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    normal = f"{scheme}://{netloc}{parts.path or '/'}"
    if parts.query:
        normal += f"?{parts.query}"
    if len(normal) > MAX_URL_LENGTH:
        raise ValidationFailed(_("This address is too long (%(limit)d characters at most).",
                                 limit=MAX_URL_LENGTH), field="url")
    return normal


def _schedule(source_id: int) -> None:
    # Imported here: the poller registers its jobs at start-up and imports this package.
    from hub.feeds.watch.poll import schedule_now

    schedule_now(source_id)


def _room_left(org: Any) -> int:
    return MAX_SOURCES - queries.count_sources(org)


def _too_many() -> Conflict:
    return Conflict(_("An organisation can watch at most %(limit)d feeds. Remove some "
                      "before adding others.", limit=MAX_SOURCES), field="url")


# -- use cases --------------------------------------------------------------------------


def add_source(actor: Any, org: Any, url: str) -> FeedSource:
    """Watch one more feed; its first poll is queued once the caller commits."""
    if not may_manage(actor, org):
        raise refusal()
    normal = normalise_feed_url(url)
    if queries.find_source_by_url(org, normal) is not None:
        raise Conflict(_("This feed is already in the watch list."), field="url")
    if _room_left(org) <= 0:
        raise _too_many()
    source = FeedSource(org_id=org.id, url=normal, created_by_id=actor.id)
    try:
        with db.session.begin_nested():  # two admins adding the same feed at once
            db.session.add(source)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("This feed is already in the watch list."), field="url") from None
    _schedule(source.id)
    return source


def import_opml(actor: Any, org: Any, data: bytes) -> ImportResult:
    """Watch every feed an OPML file lists, in one transaction.

    Entries already watched, repeated or with an address we refuse are skipped; a file
    that is not OPML, too large, or would pass the limit of sources imports nothing.
    """
    if not may_manage(actor, org):
        raise refusal()
    if len(data) > MAX_OPML_BYTES:
        raise ValidationFailed(_("The file is larger than the limit of %(mb)d MB.",
                                 mb=MAX_OPML_BYTES // (1024 * 1024)), field="file")
    feeds = parse_opml(data)
    if not feeds:
        raise ValidationFailed(_("This OPML file lists no feed address (xmlUrl) starting "
                                 "with http:// or https://."), field="file")
    known = queries.source_urls(org)
    fresh: list[FeedSource] = []
    skipped = 0
    for feed in feeds:
        try:
            normal = normalise_feed_url(feed.xml_url)
        except ValidationFailed:
            skipped += 1
            continue
        if normal in known:
            skipped += 1
            continue
        known.add(normal)
        site = feed.html_url if len(feed.html_url) <= MAX_URL_LENGTH else ""
        fresh.append(FeedSource(org_id=org.id, url=normal, title=feed.title[:300],
                                site_url=site, created_by_id=actor.id))
    if len(fresh) > _room_left(org):
        raise Conflict(_("This file would bring the watch list past its limit of %(limit)d "
                         "feeds; nothing was imported.", limit=MAX_SOURCES), field="file")
    db.session.add_all(fresh)
    db.session.flush()
    for source in fresh:
        _schedule(source.id)
    return ImportResult(added=len(fresh), skipped=skipped)


def pause_source(actor: Any, org: Any, source_id: int) -> FeedSource:
    """Stop polling a feed; its items stay on the watch pages."""
    if not may_manage(actor, org):
        raise refusal()
    source = queries.get_source(org, source_id)
    source.status = "paused"
    return source


def resume_source(actor: Any, org: Any, source_id: int) -> FeedSource:
    """Poll a paused feed again, now, forgetting its past failures."""
    if not may_manage(actor, org):
        raise refusal()
    source = queries.get_source(org, source_id)
    source.status = "active"
    source.failures = 0
    source.error = ""
    _schedule(source.id)
    return source


def remove_source(actor: Any, org: Any, source_id: int) -> None:
    """Stop watching a feed; its items go with it (the foreign key cascades)."""
    if not may_manage(actor, org):
        raise refusal()
    source = queries.get_source(org, source_id)
    db.session.delete(source)
    db.session.flush()


# -- sharing an item ----------------------------------------------------------------------


def resource_draft(item: WatchItem) -> ResourceDraft:
    """What "share as resource" pre-fills in the resource form (pure over the item).

    The summary becomes plain text: the abstract is Markdown the member may edit, and
    clean HTML pasted there would show as tags.
    """
    abstract = plain_text(item.summary_html).strip()
    if len(abstract) > MAX_SHARED_ABSTRACT:
        abstract = abstract[:MAX_SHARED_ABSTRACT].rsplit(None, 1)[0] + "…"
    return ResourceDraft(
        kind="link", title=item.title[:LIMITS["title"]],
        source_url=item.link[:LIMITS["source_url"]], authors=item.author[:LIMITS["authors"]],
        date_published=item.published_at.strftime("%Y-%m-%d") if item.published_at else "",
        abstract=abstract)
