"""What peers send as content (``Note``, ``Article``, ``Page``, ``Event``…), as a dataclass.

The same tolerance as ``parsers``: omissions become empty values, malformed optional
fields are dropped, and identity is strict (an http(s) ``id``, a ``type`` and one
``attributedTo``, or ``ParseError``). HTML stays as sent: the caller cleans it with the one
sanitiser before storing. Mastodon, Mobilizon, Lemmy, GoToSocial, Pleroma and Fedify
documents all read here (``tests/data/ap/``).

Pure: no Flask, no database, no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.errors import ParseError
from hub.federation.parsers import _required_id, _url, is_http_uri, type_of
from hub.federation.vocab import as_list, first_id, id_of, ids, is_public, text_of

#: The types kept as content; anything else (``Question`` aside) is not shown here.
CONTENT_TYPES = ("Note", "Article", "Page", "Event", "Question")
MAX_ATTACHMENTS = 8


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str = ""
    name: str = ""


@dataclass(frozen=True)
class ParsedObject:
    id: str
    type: str
    attributed_to: str
    name: str = ""
    #: As sent: untrusted HTML.
    summary: str = ""
    content: str = ""
    url: str = ""
    in_reply_to: str = ""
    context: str = ""
    language: str = ""
    public: bool = False
    #: Listed (Public in ``to``) rather than unlisted (Public in ``cc`` only).
    listed: bool = False
    sensitive: bool = False
    published: datetime | None = None
    updated: datetime | None = None
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place_name: str = ""
    place_address: str = ""
    online_url: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()


def parse_time(value: Any) -> datetime | None:
    """An xsd:dateTime ("2026-11-24T10:00:00Z", with or without fraction or offset), in
    UTC; None when absent or unreadable. A date without zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _language(doc: Mapping[str, Any]) -> str:
    """From ``contentMap``'s first key ("fr", "fr-CA" → "fr"), else Mobilizon's or our
    ``language``; "" when unknown."""
    candidates: list[Any] = []
    mapped = doc.get("contentMap")
    if isinstance(mapped, Mapping):
        candidates.extend(mapped.keys())
    candidates.append(doc.get("language"))
    for value in candidates:
        if isinstance(value, Mapping):
            value = value.get("identifier")
        if isinstance(value, str):
            code = value.split("-")[0].strip().lower()
            if len(code) == 2 and code.isalpha():
                return code
    return ""


def _tags(doc: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hashtags: list[str] = []
    mentions: list[str] = []
    for tag in as_list(doc.get("tag")):
        if not isinstance(tag, Mapping):
            continue
        kind = type_of(tag)
        if kind == "Hashtag":
            name = tag.get("name")
            if isinstance(name, str) and name.strip("#").strip():
                label = name.strip().lstrip("#")[:100]
                if label not in hashtags:
                    hashtags.append(label)
        elif kind == "Mention":
            href = tag.get("href")
            if is_http_uri(href) and href not in mentions:
                mentions.append(href)
    return tuple(hashtags), tuple(mentions)


def _attachments(doc: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for item in as_list(doc.get("attachment")):
        if len(found) >= MAX_ATTACHMENTS:
            break
        if isinstance(item, str):
            url, media_type, name = (item if is_http_uri(item) else ""), "", ""
        elif isinstance(item, Mapping) and type_of(item) not in ("PropertyValue",):
            url = _url(item.get("url")) or (item["href"] if is_http_uri(item.get("href"))
                                             else "")
            media_type = item.get("mediaType") if isinstance(item.get("mediaType"), str) else ""
            name = item.get("name") if isinstance(item.get("name"), str) else ""
        else:
            continue
        if url:
            found.append(Attachment(url=url, media_type=media_type[:100], name=name[:300]))
    return tuple(found)


def _place(doc: Mapping[str, Any]) -> tuple[str, str]:
    """``location``: a Place (Mobilizon's, ours) with a name and a PostalAddress or text."""
    for item in as_list(doc.get("location")):
        if not isinstance(item, Mapping):
            continue
        name = item.get("name") if isinstance(item.get("name"), str) else ""
        address = item.get("address")
        if isinstance(address, Mapping):
            parts = [address.get(key) for key in ("streetAddress", "postalCode",
                                                  "addressLocality", "addressCountry")]
            address = ", ".join(p for p in parts if isinstance(p, str) and p.strip())
        elif not isinstance(address, str):
            address = ""
        return name[:300], address[:500]
    return "", ""


def _online_url(doc: Mapping[str, Any]) -> str:
    """An event's online link: Mobilizon (and we) send it as a ``Link`` attachment named
    "Website"; it is then taken out of the attachments."""
    if type_of(doc) != "Event":
        return ""
    for item in as_list(doc.get("attachment")):
        if not isinstance(item, Mapping) or type_of(item) != "Link":
            continue
        if str(item.get("name", "")).lower() == "website" and is_http_uri(item.get("href")):
            return item["href"]
    return ""


def parse_object(doc: Any) -> ParsedObject:
    """Read one content object; ``ParseError`` when it has no identity."""
    if not isinstance(doc, Mapping):
        raise ParseError("the object is not a JSON object")
    object_id = _required_id(doc.get("id"), "object")
    kind = type_of(doc)
    if not kind:
        raise ParseError("object without a type")
    author = first_id(doc.get("attributedTo"))
    if not author or not is_http_uri(author):
        raise ParseError("object without an attributedTo actor")
    hashtags, mentions = _tags(doc)
    attachments = _attachments(doc)
    place_name, place_address = _place(doc)
    online_url = _online_url(doc)
    if online_url:
        attachments = tuple(a for a in attachments if a.url != online_url)
    in_reply_to = first_id(doc.get("inReplyTo")) or ""
    context = id_of(doc.get("context")) or id_of(doc.get("conversation")) or ""
    to = tuple(ids(doc.get("to")))
    cc = tuple(ids(doc.get("cc")))
    public = is_public(doc)
    listed = is_public({"to": doc.get("to")})
    url = _url(doc.get("url"))
    return ParsedObject(
        id=object_id, type=kind, attributed_to=author,
        name=text_of(doc, "name")[:300], summary=text_of(doc, "summary"),
        content=text_of(doc, "content"), url=url or object_id,
        in_reply_to=in_reply_to if is_http_uri(in_reply_to) else "",
        context=context if is_http_uri(context) else "",
        language=_language(doc), public=public, listed=listed,
        sensitive=doc.get("sensitive") is True,
        published=parse_time(doc.get("published")), updated=parse_time(doc.get("updated")),
        hashtags=hashtags, mentions=mentions, attachments=attachments,
        starts_at=parse_time(doc.get("startTime")), ends_at=parse_time(doc.get("endTime")),
        place_name=place_name, place_address=place_address,
        online_url=online_url, to=to, cc=cc)
