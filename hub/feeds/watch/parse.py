"""Reading an external feed: RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed 1.0/1.1.

Pure: no Flask, database or network; the caller fetched the bytes. What comes out is
ready to store: titles and authors plain text cut to their column sizes, links absolute
http(s) URLs, every ``*_html`` clean HTML from ``hub.sanitize``, dates aware UTC.
A document that is not a feed, or XML too broken to yield a single usable item, raises
``FeedError`` with a short English message the organisation's admins will see.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.urls import resolve_relative_uris

from hub.errors import ParseError
from hub.sanitize import clean_html, plain_text

#: Column sizes of ``FeedSource`` and ``WatchItem`` (hub/feeds/models.py).
TITLE_MAX = 300
AUTHOR_MAX = 200
URL_MAX = 2000
#: Longer guids are cut before hashing: no real feed has one, and the hash stays stable.
GUID_MAX = 2000
#: Raw text is cut before cleaning, so a hostile megabyte-long title costs nothing.
RAW_TEXT_MAX = 5000

#: feedparser's "bozo" reasons that do not make a feed unreadable: a charset header
#: contradicting the prolog (RFC 3023 makes text/xml us-ascii), or a feed served as
#: text/html or text/plain, which many SPIP and WordPress sites do.
BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
#: "jo@example.org (Jo Martin)", "Jo Martin <jo@example.org>" or a bare address.
RSS_AUTHOR = re.compile(r"^(?:\S+@\S+\s*\((?P<name>.*)\)|(?P<name2>[^<>]*?)\s*<\S+@\S+>|\S+@\S+)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FeedError(ParseError):
    """The document is not a feed we can read (its message says why)."""


@dataclass(frozen=True)
class ParsedItem:
    #: The item's id (Atom id, RSS guid, JSON Feed id), else its link; "" when it has neither.
    guid: str
    link: str
    title: str
    author: str
    #: Empty when the feed's summary is only a copy of the full content.
    summary_html: str
    content_html: str
    published_at: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    site_url: str
    items: tuple[ParsedItem, ...]


def parse_feed(body: bytes, *, url: str, content_type: str = "",
               max_items: int = 200) -> ParsedFeed:
    """Parse ``body`` fetched from ``url`` (the base of relative links); keep the first
    ``max_items`` usable items, in the feed's order (newest first in practice)."""
    if not body.strip():
        raise FeedError("not a feed: the document is empty")
    start = body.lstrip()[:3].lstrip(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
    if start.startswith(b"{"):
        return _parse_json_feed(body, url, max_items)
    if "json" in content_type.lower() and not start.startswith(b"<"):
        raise FeedError("not a feed: malformed JSON")
    return _parse_xml_feed(body, url, content_type, max_items)


# -- RSS and Atom ---------------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, content_type: str, max_items: int) -> ParsedFeed:
    # A BytesIO, never the bytes themselves: feedparser opens a str or bytes argument as a
    # file name or URL when it can ("/etc/passwd" would be read from disk).
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    version = parsed.get("version") or ""
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and isinstance(problem, BENIGN_BOZO):
        problem = None
    if not version:
        if problem is not None:
            raise FeedError(f"not a feed: the document is not well-formed XML "
                            f"({_describe(problem)})")
        raise FeedError("not a feed: no RSS or Atom root element")
    feed = parsed.get("feed", {})
    atom = version.startswith("atom")
    default_author = _author(feed, atom=True) if atom else ""
    items = []
    for entry in parsed.get("entries", []):
        item = _xml_item(entry, url, default_author, atom=atom)
        if item is not None:
            items.append(item)
            if len(items) >= max_items:
                break
    # feedparser's loose parser recovers from much (a bare "&" in a SPIP title): keep what
    # it found, but refuse a broken document that gave nothing usable.
    if problem is not None and not items:
        raise FeedError(f"malformed XML: {_describe(problem)}")
    return ParsedFeed(title=_text(feed.get("title", ""), TITLE_MAX),
                      site_url=_link(feed.get("link", ""), url),
                      items=tuple(items))


def _xml_item(entry: Any, base: str, default_author: str, *, atom: bool
              ) -> ParsedItem | None:
    link = _link(entry.get("link", ""), base)
    guid = _str(entry.get("id"))[:GUID_MAX].strip() or link
    title = _text(entry.get("title", ""), TITLE_MAX)
    if not (guid or link or title):
        return None
    contents = [c for c in entry.get("content", []) if _str(c.get("value")).strip()]
    content = _str(contents[0].get("value")) if contents else ""
    summary = _str(entry.get("summary", ""))
    if summary.strip() == content.strip():
        summary = ""
    return ParsedItem(
        guid=guid, link=link, title=title,
        author=_author(entry, atom=atom) or default_author,
        summary_html=_html(summary), content_html=_html(content),
        # dict.get: feedparser's own ``get`` maps a missing "updated" to "published", with
        # a DeprecationWarning.
        published_at=_struct_date(dict.get(entry, "published_parsed"))
        or _struct_date(dict.get(entry, "updated_parsed")),
    )


def _author(node: Any, *, atom: bool) -> str:
    """The author's name. RSS writes "email (Name)" and feedparser splits it wrongly when
    the top-level domain is longer than four letters, so that form is read here; a bare
    e-mail address is not shown."""
    detail = node.get("author_detail") or {}
    raw = _str(node.get("author")).strip()
    if atom or not raw:
        return _text(_str(detail.get("name")), AUTHOR_MAX)
    if match := RSS_AUTHOR.match(raw):
        raw = match.group("name") or match.group("name2") or ""
    return _text(raw, AUTHOR_MAX)


def _struct_date(value: Any) -> datetime | None:
    """feedparser's dates are ``time.struct_time`` in UTC."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _describe(problem: BaseException) -> str:
    return (str(problem) or type(problem).__name__).replace("<unknown>:", "line ")[:200]


# -- JSON Feed (https://www.jsonfeed.org/version/1.1/) ---------------------------------


def _parse_json_feed(body: bytes, url: str, max_items: int) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FeedError("malformed JSON: not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"malformed JSON: {str(exc)[:150]}") from None
    if not isinstance(data, dict) or not JSON_FEED_VERSION.match(_str(data.get("version"))):
        raise FeedError("not a feed: JSON without a JSON Feed version")
    entries = data.get("items")
    if not isinstance(entries, list):
        raise FeedError("not a feed: a JSON Feed without items")
    default_author = _json_author(data)
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        item = _json_item(entry, url, default_author)
        if item is not None:
            items.append(item)
            if len(items) >= max_items:
                break
    return ParsedFeed(title=_text(_str(data.get("title")), TITLE_MAX),
                      site_url=_link(_str(data.get("home_page_url")), url),
                      items=tuple(items))


def _json_item(entry: dict[str, Any], base: str, default_author: str) -> ParsedItem | None:
    link = _link(_str(entry.get("url")), base) or _link(_str(entry.get("external_url")), base)
    raw_id = entry.get("id")
    # 1.0 allowed numbers as ids; booleans are not ids.
    guid = (str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool)
            else "")[:GUID_MAX].strip() or link
    title = _text(_str(entry.get("title")), TITLE_MAX)
    if not (guid or link or title):
        return None
    content = _str(entry.get("content_html"))
    if content.strip():
        content = resolve_relative_uris(content[:RAW_TEXT_MAX * 40], base, "utf-8",
                                        "text/html")
    else:
        content = _text_to_html(_str(entry.get("content_text")))
    summary = _text_to_html(_str(entry.get("summary")))  # plain text in JSON Feed
    return ParsedItem(
        guid=guid, link=link, title=title,
        author=_json_author(entry) or default_author,
        summary_html=_html(summary), content_html=_html(content),
        published_at=_iso_date(entry.get("date_published"))
        or _iso_date(entry.get("date_modified")),
    )


def _json_author(node: dict[str, Any]) -> str:
    authors = node.get("authors")  # 1.1
    candidates = authors if isinstance(authors, list) else [node.get("author")]  # 1.0
    names = [_text(_str(a.get("name")), AUTHOR_MAX) for a in candidates if isinstance(a, dict)]
    return _text(", ".join(n for n in names if n), AUTHOR_MAX)


def _iso_date(value: Any) -> datetime | None:
    """RFC 3339 as the spec says; RFC 822 as some generators write anyway."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (the sanitiser then turns bare URLs into links)."""
    paragraphs = re.split(r"\n\s*\n", text[:RAW_TEXT_MAX * 40].strip())
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                   for p in paragraphs if p.strip())


# -- shared ---------------------------------------------------------------------------


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(value: Any, limit: int) -> str:
    """Plain text on one line: tags stripped, entities decoded, whitespace collapsed."""
    text = plain_text(_CONTROL.sub("", _str(value)[:RAW_TEXT_MAX]))
    return " ".join(text.split())[:limit].strip()


def _html(value: str) -> str:
    # No images: the watch pages must not make visitors fetch from other servers.
    return clean_html(_CONTROL.sub("", value), images=False).strip() if value.strip() else ""


def _link(value: str, base: str) -> str:
    """An absolute http(s) URL, or "" (a javascript: or too long link is dropped)."""
    value = _CONTROL.sub("", value).strip()
    if not value:
        return ""
    try:
        absolute = urljoin(base, value)
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(absolute) > URL_MAX:
        return ""
    return absolute
