"""What a feed or a calendar holds, ready to be written in any format.

Queries (``hub/feeds/queries.py``) turn rows into these frozen values; the writers
(``hub/feeds/build.py``) are pure functions of them. Every URL here is absolute, every
date timezone-aware UTC, every ``*_html`` clean HTML from ``hub/sanitize.py`` with
absolute links, every other text plain (the writers escape it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int
    type: str


@dataclass(frozen=True)
class Entry:
    #: Stable across edits: a tag URI (RFC 4151) such as ``tag:hub.example,2026-11-23:post:12``.
    id: str
    url: str
    title: str
    content_html: str
    summary: str
    published: datetime
    updated: datetime
    author_name: str
    author_url: str = ""
    #: Theme labels.
    categories: tuple[str, ...] = ()
    #: Attached file, cover image.
    enclosures: tuple[Enclosure, ...] = ()
    #: Cover image URL (JSON Feed ``image``), also among the enclosures.
    image: str = ""
    language: str = ""


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    #: The HTML page this feed follows.
    url: str
    #: This feed's own URL (rel="self").
    feed_url: str
    description: str
    language: str
    updated: datetime
    entries: tuple[Entry, ...]
    icon: str = ""
    author_name: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    #: Stable across edits, e.g. ``event-12@hub.example``.
    uid: str
    url: str
    title: str
    #: Plain text.
    description: str
    starts_at: datetime
    ends_at: datetime
    #: IANA name the organiser chose; DTSTART/DTEND are written in it.
    timezone: str
    status: str  # "confirmed", "tentative" or "cancelled"
    created: datetime
    updated: datetime
    #: Bumped by each edit (RFC 5545 SEQUENCE).
    sequence: int = 0
    place_name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""
    categories: tuple[str, ...] = ()
    organiser_name: str = ""
    organiser_url: str = ""


@dataclass(frozen=True)
class Calendar:
    #: Stable id of the calendar (``PRODID`` stays the software's).
    name: str
    description: str
    url: str
    events: tuple[CalendarEvent, ...]


@dataclass(frozen=True)
class Outline:
    """One feed in an OPML file."""

    title: str
    xml_url: str
    html_url: str
    description: str = ""
