"""Feed writers: RSS 2.0, Atom 1.0, JSON Feed 1.1, iCalendar and OPML. Pure: no Flask,
database, network or clock.

Each writer turns the frozen values of ``entries.py`` into the bytes of one document.
Trees are built by libraries that escape (feedgen/lxml, ``json``, ``icalendar``,
``xml.etree``), never by pasting text together. Text is plain and may be hostile: the
control characters XML 1.0 forbids are dropped here, so a stray ``\\x0b`` in a title
costs a character rather than the whole feed.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from icalendar import Calendar as ICalendar
from icalendar import Event as IEvent
from icalendar import vDuration, vText
from lxml.etree import SubElement

from hub.content.events.timing import zone
from hub.feeds.entries import Calendar, CalendarEvent, Enclosure, Entry, Feed, Outline

MIMETYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
    "opml": "text/x-opml; charset=utf-8",
}
PRODID = "-//Maillage//NONSGML Maillage//EN"
GENERATOR = "Maillage"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
#: Words put in an event's DESCRIPTION; the shell passes translated ones.
ICAL_LABELS = {"online": "Online", "organiser": "Organised by"}
#: How often calendar clients should poll (RFC 7986 REFRESH-INTERVAL, Apple/Google TTL).
ICAL_REFRESH = timedelta(hours=1)

#: Characters XML 1.0 cannot carry (C0 controls but tab/newline/CR, lone surrogates,
#: U+FFFE/U+FFFF); iCalendar TEXT refuses the same controls.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')
_ICAL_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})


def _text(value: str) -> str:
    """``value`` without the characters XML and iCalendar cannot carry."""
    return _INVALID_CHARS.sub("", value) if value else ""


def _title(value: str, fallback: str) -> str:
    """A title that survives cleaning: feedgen refuses an empty one, so the URL stands in."""
    return _text(value).strip() or fallback


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- RSS 2.0 and Atom 1.0 (feedgen) -----------------------------------------------------


class _AtomEntry(BaseEntryExtension):
    """Writes what feedgen 1.0 cannot on an Atom ``<entry>``: ``xml:lang``, and links
    with their attributes (its entry-link loop drops rel, type and length)."""

    def __init__(self) -> None:
        self.language = ""
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry):
        if self.language:
            entry.set(_XML_LANG, self.language)
        for attrs in self.links:
            SubElement(entry, "link", attrs)
        return entry


def _rss_enclosure(entry: Entry) -> Enclosure | None:
    """RSS allows one enclosure: the attached file rather than the cover image."""
    files = [e for e in entry.enclosures if e.url != entry.image]
    return (files or list(entry.enclosures) or [None])[0]


def _generator(feed: Feed) -> FeedGenerator:
    fg = FeedGenerator()
    fg.generator(GENERATOR)
    fg.title(_title(feed.title, feed.url))
    if feed.language:
        fg.language(feed.language)
    return fg


def render_rss(feed: Feed) -> bytes:
    """RSS 2.0 with ``content:encoded`` for the full HTML and ``dc:creator`` for the
    author (RSS ``<author>`` must be an e-mail address, which we never publish)."""
    fg = _generator(feed)
    fg.load_extension("dc", atom=False, rss=True)
    # feedgen takes the channel <link> from the last link added: self first.
    fg.link(href=feed.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=feed.url, rel="alternate")
    # RSS readers show descriptions as HTML: plain text is escaped once more.
    fg.description(escape(_text(feed.description or feed.title), quote=False))
    fg.lastBuildDate(feed.updated)
    if feed.icon:
        fg.image(url=feed.icon, title=_text(feed.title), link=feed.url)
    for entry in feed.entries:
        fe = fg.add_entry(order="append")
        fe.guid(entry.id, permalink=False)
        fe.title(_title(entry.title, entry.url))
        fe.link(href=entry.url)
        if entry.summary:
            fe.description(escape(_text(entry.summary), quote=False))
        fe.content(_text(entry.content_html), type="html")
        if entry.author_name:
            fe.dc.dc_creator(_text(entry.author_name))
        if entry.language:
            fe.dc.dc_language(entry.language)
        if entry.categories:
            fe.category([{"term": _text(c)} for c in entry.categories])
        fe.published(entry.published)
        enclosure = _rss_enclosure(entry)
        if enclosure is not None:
            fe.enclosure(enclosure.url, str(enclosure.length), enclosure.type)
    return fg.rss_str()


def render_atom(feed: Feed) -> bytes:
    """Atom 1.0: summary as text, content as HTML, every enclosure as a link."""
    fg = _generator(feed)
    fg.register_extension("maillage", BaseExtension, _AtomEntry, atom=True, rss=False)
    fg.id(feed.id)
    fg.updated(feed.updated)
    fg.link(href=feed.url, rel="alternate", type="text/html")
    fg.link(href=feed.feed_url, rel="self", type="application/atom+xml")
    if feed.description:
        fg.subtitle(_text(feed.description))
    if feed.icon:
        fg.icon(feed.icon)
    # Atom wants an author on the feed or on every entry: the feed's owner stands in.
    fg.author(name=_text(feed.author_name or feed.title) or GENERATOR)
    for entry in feed.entries:
        fe = fg.add_entry(order="append")
        fe.id(entry.id)
        fe.title(_title(entry.title, entry.url))
        fe.updated(entry.updated)
        fe.published(entry.published)
        fe.maillage.language = entry.language
        fe.maillage.links = [{"rel": "alternate", "type": "text/html", "href": entry.url}] + [
            {"rel": "enclosure", "type": e.type, "length": str(e.length), "href": e.url}
            for e in entry.enclosures
        ]
        if entry.summary:
            fe.summary(_text(entry.summary), type="text")
        fe.content(_text(entry.content_html), type="html")
        if entry.author_name:
            author = {"name": _text(entry.author_name)}
            if entry.author_url:
                author["uri"] = entry.author_url
            fe.author(author)
        if entry.categories:
            fe.category([{"term": _text(c)} for c in entry.categories])
    return fg.atom_str()


# --- JSON Feed 1.1 ----------------------------------------------------------------------


def _json_item(entry: Entry) -> dict:
    item: dict = {
        "id": entry.id,
        "url": entry.url,
        "title": _text(entry.title),
        "content_html": _text(entry.content_html),
    }
    if entry.summary:
        item["summary"] = _text(entry.summary)
    if entry.image:
        item["image"] = entry.image
    item["date_published"] = _rfc3339(entry.published)
    item["date_modified"] = _rfc3339(entry.updated)
    if entry.author_name:
        author = {"name": _text(entry.author_name)}
        if entry.author_url:
            author["url"] = entry.author_url
        item["authors"] = [author]
    if entry.categories:
        item["tags"] = [_text(c) for c in entry.categories]
    if entry.language:
        item["language"] = entry.language
    if entry.enclosures:
        item["attachments"] = [
            {"url": e.url, "mime_type": e.type, "size_in_bytes": e.length}
            for e in entry.enclosures
        ]
    return item


def render_json(feed: Feed) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), UTF-8 without ``\\u`` escapes."""
    doc: dict = {
        "version": JSON_FEED_VERSION,
        "title": _text(feed.title),
        "home_page_url": feed.url,
        "feed_url": feed.feed_url,
    }
    if feed.description:
        doc["description"] = _text(feed.description)
    if feed.language:
        doc["language"] = feed.language
    if feed.icon:
        doc["icon"] = feed.icon
        doc["favicon"] = feed.icon
    if feed.author_name:
        doc["authors"] = [{"name": _text(feed.author_name), "url": feed.url}]
    doc["items"] = [_json_item(entry) for entry in feed.entries]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


_WRITERS: dict[str, Callable[[Feed], bytes]] = {
    "rss": render_rss, "atom": render_atom, "json": render_json,
}


def render(fmt: str, feed: Feed) -> bytes:
    """``feed`` written as ``fmt`` ("rss", "atom" or "json"); ValueError for anything else
    (routes only accept the three)."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown feed format {fmt!r}") from None
    return writer(feed)


# --- iCalendar --------------------------------------------------------------------------


def _event_description(event: CalendarEvent, labels: Mapping[str, str]) -> str:
    """The organiser's text, then the links a reader needs, one paragraph each.

    The organiser goes here, not in ORGANIZER: that property is a calendar address
    (``mailto:``) that clients offer to reply to, and we publish no e-mail address.
    The organiser's page is also given as CONTACT with an ALTREP link.
    """
    parts = [event.description.strip()]
    if event.online_url:
        parts.append(f"{labels['online']}: {event.online_url}")
    if event.organiser_name:
        organiser = f"{labels['organiser']}: {event.organiser_name}"
        if event.organiser_url:
            organiser += f" – {event.organiser_url}"
        parts.append(organiser)
    if event.url:
        parts.append(event.url)
    return "\n\n".join(p for p in parts if p)


def _ical_event(event: CalendarEvent, labels: Mapping[str, str]) -> IEvent:
    tz = zone(event.timezone) or UTC
    ev = IEvent()
    ev.add("uid", event.uid)
    ev.add("dtstamp", _utc(event.updated))
    ev.add("created", _utc(event.created))
    ev.add("last-modified", _utc(event.updated))
    ev.add("sequence", event.sequence)
    ev.add("dtstart", event.starts_at.astimezone(tz))
    ev.add("dtend", event.ends_at.astimezone(tz))
    ev.add("summary", _text(event.title))
    ev.add("description", _text(_event_description(event, labels)))
    if event.url:
        ev.add("url", event.url)
    status = event.status.upper()
    ev.add("status", status if status in _ICAL_STATUSES else "CONFIRMED")
    place = ", ".join(p for p in (event.place_name.strip(), event.address.strip()) if p)
    if place or event.online_url:
        ev.add("location", _text(place or event.online_url))
    if event.latitude is not None and event.longitude is not None:
        ev.add("geo", (event.latitude, event.longitude))
    if event.categories:
        ev.add("categories", [_text(c) for c in event.categories])
    if event.organiser_name:
        params = {"ALTREP": event.organiser_url} if event.organiser_url else {}
        ev.add("contact", _text(event.organiser_name), parameters=params)
    return ev


def render_ical(calendar: Calendar, *, labels: Mapping[str, str] = ICAL_LABELS) -> bytes:
    """An iCalendar (RFC 5545) subscription: one VEVENT per event, in its own time zone,
    with the VTIMEZONE each zone needs. ``icalendar`` escapes and folds lines."""
    cal = ICalendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # RFC 7986 NAME/DESCRIPTION, and the X-WR-* twins older clients read (as TEXT:
    # icalendar only escapes an X- property given as vText).
    if calendar.name:
        cal.add("name", _text(calendar.name))
        cal.add("x-wr-calname", vText(_text(calendar.name)))
    if calendar.description:
        cal.add("description", _text(calendar.description))
        cal.add("x-wr-caldesc", vText(_text(calendar.description)))
    if calendar.url:
        cal.add("url", calendar.url)
    cal.add("refresh-interval", ICAL_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(ICAL_REFRESH))
    for event in calendar.events:
        cal.add_component(_ical_event(event, labels))
    if calendar.events:
        # Zone rules only for the years the events span: a few lines instead of
        # 1970–2038, and the same bytes for the same events.
        years = [e.starts_at.year for e in calendar.events]
        years += [e.ends_at.year for e in calendar.events]
        first = max(1970, min(years) - 1)
        last = min(2100, max(years) + 2)
        cal.add_missing_timezones(first_date=date(first, 1, 1), last_date=date(last, 1, 1))
    return cal.to_ical()


# --- OPML -------------------------------------------------------------------------------


def render_opml(title: str, outlines: Sequence[Outline], created: datetime) -> bytes:
    """OPML 2.0 subscription list: one ``type="rss"`` outline per feed."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(_utc(created), usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    for outline in outlines:
        name = _text(outline.title)
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": _text(outline.xml_url),
                 "htmlUrl": _text(outline.html_url)}
        if outline.description:
            attrs["description"] = _text(outline.description)
        ET.SubElement(body, "outline", attrs)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- Links ------------------------------------------------------------------------------


def absolutize(html: str, base: str) -> str:
    """``html`` with root-relative ``href``/``src`` made absolute on ``base``'s origin, so
    links still work in a reader. Only for ``hub/sanitize.py`` output: there ``<`` and
    ``>`` occur only as tag delimiters and attributes are double-quoted, so a tag regex
    cannot mistake text (a code sample showing ``href="/x"``) for an attribute."""
    if '="/' not in html:
        return html
    parts = urlsplit(base)
    origin = escape(f"{parts.scheme}://{parts.netloc}")

    def fix(tag: re.Match) -> str:
        text = tag.group()
        return _ROOT_RELATIVE.sub(rf"\g<1>{origin}/", text) if '="/' in text else text

    return _TAG.sub(fix, html)
