"""ActivityStreams documents of Maillage's actors, objects and collections.

Pure: no Flask, database, network or clock. Each function turns a small frozen snapshot
(built from rows by ``snapshots.py``) into the dict that is served and delivered; the same
snapshot always gives the same document, key for key (golden-tested in
tests/unit/test_ap_serializers.py against tests/data/ap/golden/).

Interop decisions, with the peer behaviour behind each:

- **Who an organisation's content is attributed to.** Mastodon keeps a fetched object
  only under the *first* ``attributedTo`` (``FetchRemoteStatusService``), and a delivered
  one under the ``Create``'s actor. Posts are the organisation's news, delivered by its
  ``Group``, so the ``Group`` comes first and the author ``Person`` second, written as
  typed objects as PeerTube does (``[{type: Person}, {type: Group}]`` for a video in a
  channel) — Mastodon reads the first id, Lemmy picks the ``Person`` out of such a list.
  ``audience`` names the ``Group`` as FEP-1b12 (Lemmy) expects.
- **Events** carry a single ``attributedTo`` URL: Mobilizon's converter resolves it as one
  actor and cannot read a list. Mobilizon extensions: ``timezone``, ``isOnline``,
  ``ical:status`` (read by Mobilizon under that literal key), the online link as a
  ``Link`` attachment named "Website" with ``mediaType`` text/html (what Mobilizon writes
  and reads back), ``location`` as a ``Place`` with a schema.org ``PostalAddress``.
- **Comments** are ``Note``s of their author (a remote reply shows under a person), with
  ``inReplyTo`` the parent comment or the commented object, ``context`` the commented
  object (FEP-7888: one context per thread) and ``audience`` the organisation.
- **Mentions** of known actors (``hub/federation/mentions.py``) are ``Mention`` tags of posts
  and comments, and the mentioned are in ``cc``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.federation.vocab import (
    ACTOR_TERMS,
    EVENT_TERMS,
    OBJECT_TERMS,
    PUBLIC,
    RESOURCE_TERMS,
    context,
)

_NOT_WORD = re.compile(r"[^\w]+")

# -- snapshots --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    url: str
    media_type: str
    #: Alternative text ("" when none was given).
    name: str = ""


@dataclass(frozen=True)
class Theme:
    """A theme as a ``Hashtag``: its label and its page."""

    label: str
    href: str


@dataclass(frozen=True)
class Actor:
    """A local account (``Person``) or organisation (``Group``). Its endpoints follow from
    ``id`` (``{id}/inbox``, ``{id}/outbox``…), as the federation conventions fix them."""

    id: str
    handle: str
    name: str
    #: Clean HTML (account bio, organisation description) or "".
    summary_html: str
    published: datetime
    public_key_pem: str
    shared_inbox: str
    icon: Image | None = None
    image: Image | None = None
    #: Profile fields shown by Mastodon, as (name, value HTML) pairs.
    fields: tuple[tuple[str, str], ...] = ()
    #: Suspended accounts keep their identity and key but show nothing else (as Mastodon).
    suspended: bool = False
    #: Follow requests wait for approval (the account's or organisation's setting).
    approves_followers: bool = False


@dataclass(frozen=True)
class Instance:
    """The instance's own ``Application`` actor, which signs the instance's fetches."""

    id: str
    host: str
    name: str
    summary_html: str
    #: The home page.
    url: str
    public_key_pem: str
    shared_inbox: str
    icon: Image | None = None


@dataclass(frozen=True)
class PostSnapshot:
    id: str
    #: The organisation's ``Group`` id; ``author_id`` the ``Person`` id, None when gone.
    org_id: str
    author_id: str | None
    title: str
    #: Plain text, escaped here.
    summary: str
    #: Clean HTML with absolute links.
    content_html: str
    #: "public" or "unlisted" (nothing else is ever served).
    visibility: str
    published: datetime
    updated: datetime | None = None
    themes: tuple[Theme, ...] = ()
    cover: Image | None = None
    #: (actor id, "@handle@host") of the actors it mentions.
    mentions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CommentSnapshot:
    id: str
    #: The ``Person`` who wrote it, or the organisation when the account is gone.
    attributed_to: str
    org_id: str
    content_html: str
    #: The parent comment, or the commented object for a top-level comment.
    in_reply_to: str
    #: The commented object: the thread's root.
    context: str
    visibility: str
    published: datetime
    updated: datetime | None = None
    mentions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EventSnapshot:
    id: str
    org_id: str
    title: str
    content_html: str
    starts_at: datetime
    ends_at: datetime
    #: IANA zone the organiser gave the times in.
    timezone: str
    #: "confirmed", "tentative" or "cancelled".
    status: str
    published: datetime
    updated: datetime | None = None
    place_name: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""
    themes: tuple[Theme, ...] = ()
    visibility: str = "public"


@dataclass(frozen=True)
class Attachment:
    """A resource's file (``Document``) or link (``Link``)."""

    url: str
    media_type: str
    name: str


@dataclass(frozen=True)
class ResourceSnapshot:
    id: str
    org_id: str
    author_id: str | None
    title: str
    #: Clean HTML: the abstract (``summary``) and a note's body (``content``).
    abstract_html: str
    content_html: str
    visibility: str
    published: datetime
    updated: datetime | None = None
    file: Attachment | None = None
    link: Attachment | None = None
    #: Dublin Core: dc:creator (one per author), publisher, date as given ("2024-03"),
    #: ISO 639-1 language, licence URL, document type.
    creators: tuple[str, ...] = ()
    publisher: str = ""
    date_published: str = ""
    language: str = ""
    licence_url: str = ""
    doc_type: str = ""
    themes: tuple[Theme, ...] = ()


@dataclass(frozen=True)
class DiscussionSnapshot:
    id: str
    org_id: str
    author_id: str | None
    title: str
    content_html: str
    visibility: str
    published: datetime
    updated: datetime | None = None
    themes: tuple[Theme, ...] = ()


@dataclass(frozen=True)
class CollectionPage:
    """One page of an ordered collection, newest first."""

    id: str
    part_of: str
    items: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    next: str | None = None
    prev: str | None = None


# -- small pieces -----------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, "Z": what Mastodon writes and every peer parses."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def local_rfc3339(moment: datetime, zone_name: str) -> str:
    """Wall-clock time in the event's zone with its offset ("2025-06-01T18:00:00+02:00"),
    as Mobilizon writes event times; UTC when the zone is unknown."""
    try:
        zone: Any = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    text = moment.astimezone(zone).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if zone is UTC else text


def _image(image: Image) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "Image", "mediaType": image.media_type, "url": image.url}
    if image.name:
        doc["name"] = image.name
    return doc


def _hashtags(themes: Sequence[Theme]) -> list[dict[str, Any]]:
    return [{"type": "Hashtag", "href": theme.href, "name": f"#{_hashtag_name(theme.label)}"}
            for theme in themes]


def _hashtag_name(label: str) -> str:
    """Mastodon keeps hashtags as one word of letters, digits and "_": "Économie sociale"
    → "ÉconomieSociale", "Droits de l'enfant" → "DroitsDeLEnfant"."""
    words = [word for word in _NOT_WORD.split(label) if word]
    if not words:
        return ""
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def followers_of(actor_id: str) -> str:
    return f"{actor_id}/followers"


def addressing(visibility: str, actor_id: str, *extra_cc: str) -> dict[str, list[str]]:
    """``to``/``cc`` as Mastodon reads them: public → to Public, cc followers; unlisted →
    to followers, cc Public. Members-only content is never serialised."""
    followers = followers_of(actor_id)
    if visibility == "public":
        return {"to": [PUBLIC], "cc": [followers, *extra_cc]}
    if visibility == "unlisted":
        return {"to": [followers], "cc": [PUBLIC, *extra_cc]}
    raise ValueError(f"{visibility!r} content is never federated")


def _attribution(org_id: str, author_id: str | None) -> list[dict[str, str]]:
    """The organisation first (Mastodon keeps the first), then the author (see the module
    docstring)."""
    attributed = [{"type": "Group", "id": org_id}]
    if author_id:
        attributed.append({"type": "Person", "id": author_id})
    return attributed


def _dates(doc: dict[str, Any], published: datetime, updated: datetime | None) -> None:
    doc["published"] = rfc3339(published)
    if updated is not None:
        doc["updated"] = rfc3339(updated)


def without_context(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document to embed in another (only the outermost one carries ``@context``)."""
    return {key: value for key, value in doc.items() if key != "@context"}


# -- actors -----------------------------------------------------------------------------------


def _actor(kind: str, actor: Actor) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": context(ACTOR_TERMS),
        "id": actor.id,
        "type": kind,
        "preferredUsername": actor.handle,
        "name": actor.handle if actor.suspended else actor.name,
    }
    if actor.summary_html and not actor.suspended:
        doc["summary"] = actor.summary_html
    doc["url"] = actor.id
    doc.update({
        "inbox": f"{actor.id}/inbox",
        "outbox": f"{actor.id}/outbox",
        "followers": followers_of(actor.id),
        "following": f"{actor.id}/following",
        "featured": f"{actor.id}/featured",
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "manuallyApprovesFollowers": actor.approves_followers,
        "discoverable": not actor.suspended,
        "published": rfc3339(actor.published),
        "publicKey": {"id": f"{actor.id}#main-key", "owner": actor.id,
                      "publicKeyPem": actor.public_key_pem},
    })
    if actor.suspended:
        doc["suspended"] = True
        return doc
    if actor.icon is not None:
        doc["icon"] = _image(actor.icon)
    if actor.image is not None:
        doc["image"] = _image(actor.image)
    if actor.fields:
        doc["attachment"] = [{"type": "PropertyValue", "name": name, "value": value}
                             for name, value in actor.fields]
    return doc


def account_to_person(actor: Actor) -> dict[str, Any]:
    return _actor("Person", actor)


def org_to_group(actor: Actor) -> dict[str, Any]:
    return _actor("Group", actor)


def instance_to_application(instance: Instance) -> dict[str, Any]:
    """The instance actor, named after the host as Mastodon's is."""
    doc: dict[str, Any] = {
        "@context": context(ACTOR_TERMS),
        "id": instance.id,
        "type": "Application",
        "preferredUsername": instance.host,
        "name": instance.name,
    }
    if instance.summary_html:
        doc["summary"] = instance.summary_html
    doc.update({
        "url": instance.url,
        "inbox": f"{instance.id}/inbox",
        "outbox": f"{instance.id}/outbox",
        "followers": followers_of(instance.id),
        "following": f"{instance.id}/following",
        "endpoints": {"sharedInbox": instance.shared_inbox},
        # Instances that subscribe to this one's catalogue follow this actor: public content
        # only, so the subscription is accepted at once.
        "manuallyApprovesFollowers": False,
        "discoverable": False,
        "publicKey": {"id": f"{instance.id}#main-key", "owner": instance.id,
                      "publicKeyPem": instance.public_key_pem},
    })
    if instance.icon is not None:
        doc["icon"] = _image(instance.icon)
    return doc


# -- objects ----------------------------------------------------------------------------------


def post_to_article(post: PostSnapshot) -> dict[str, Any]:
    """A news post. Mastodon shows an ``Article`` from its ``name``, ``summary``, and
    ``url`` (and ``content`` in recent versions), so the summary is always filled."""
    doc: dict[str, Any] = {
        "@context": context(OBJECT_TERMS),
        "id": post.id,
        "type": "Article",
        "attributedTo": _attribution(post.org_id, post.author_id),
        "audience": post.org_id,
        "name": post.title,
    }
    if post.summary:
        doc["summary"] = escape(post.summary, quote=False)
    doc.update({"content": post.content_html, "mediaType": "text/html", "url": post.id})
    _dates(doc, post.published, post.updated)
    doc.update(addressing(post.visibility, post.org_id))
    doc["tag"] = _hashtags(post.themes)
    _mention(doc, post.mentions)
    if post.cover is not None:
        doc["image"] = _image(post.cover)
        doc["attachment"] = [_image(post.cover)]
    return doc


def comment_to_note(comment: CommentSnapshot) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": context(OBJECT_TERMS),
        "id": comment.id,
        "type": "Note",
        "attributedTo": comment.attributed_to,
        "inReplyTo": comment.in_reply_to,
        "context": comment.context,
        "audience": comment.org_id,
        "content": comment.content_html,
        "mediaType": "text/html",
        "url": comment.id,
    }
    _dates(doc, comment.published, comment.updated)
    extra = () if comment.attributed_to == comment.org_id else (comment.org_id,)
    doc.update(addressing(comment.visibility, comment.attributed_to, *extra))
    _mention(doc, comment.mentions)
    return doc


def _mention(doc: dict[str, Any], mentions: Sequence[tuple[str, str]]) -> None:
    """``Mention`` tags, and the mentioned in ``cc`` (Mastodon notifies them so)."""
    if not mentions:
        return
    doc["tag"] = [*doc.get("tag", []),
                  *({"type": "Mention", "href": href, "name": name} for href, name in mentions)]
    cc = list(doc.get("cc", []))
    doc["cc"] = cc + [href for href, _name in mentions if href not in cc]


def _place(event: EventSnapshot) -> dict[str, Any] | None:
    if not (event.place_name or event.address or event.latitude is not None):
        return None
    place: dict[str, Any] = {"type": "Place", "name": event.place_name or event.address}
    if event.address:
        place["address"] = {"type": "PostalAddress", "streetAddress": event.address}
    if event.latitude is not None and event.longitude is not None:
        place["latitude"] = event.latitude
        place["longitude"] = event.longitude
    return place


def event_to_event(event: EventSnapshot) -> dict[str, Any]:
    """An ``Event`` Mobilizon reads (see the module docstring for its extensions)."""
    doc: dict[str, Any] = {
        "@context": context(OBJECT_TERMS, EVENT_TERMS),
        "id": event.id,
        "type": "Event",
        # One URL: Mobilizon resolves attributedTo as a single actor.
        "attributedTo": event.org_id,
        "audience": event.org_id,
        "name": event.title,
        "content": event.content_html,
        "mediaType": "text/html",
        "url": event.id,
        "startTime": local_rfc3339(event.starts_at, event.timezone),
        "endTime": local_rfc3339(event.ends_at, event.timezone),
        "timezone": event.timezone,
        "ical:status": event.status.upper(),
        # Participation is not handled here (no Join support): "restricted" makes
        # Mobilizon hold a participation as pending instead of confirming it; Mobilizon
        # 5's "external" mode would fit better once older versions (which reject unknown
        # modes) are gone.
        "joinMode": "restricted",
        "isOnline": bool(event.online_url),
    }
    place = _place(event)
    if place is not None:
        doc["location"] = place
    if event.online_url:
        doc["attachment"] = [{"type": "Link", "href": event.online_url,
                              "mediaType": "text/html", "name": "Website"}]
    _dates(doc, event.published, event.updated)
    doc.update(addressing(event.visibility, event.org_id))
    doc["tag"] = _hashtags(event.themes)
    return doc


def resource_to_page(resource: ResourceSnapshot) -> dict[str, Any]:
    """A catalogue resource: a ``Page`` with the file (``Document``) or the link (``Link``)
    attached, and its Dublin Core metadata as schema.org terms (creator, publisher,
    datePublished, inLanguage, license, genre)."""
    doc: dict[str, Any] = {
        "@context": context(OBJECT_TERMS, RESOURCE_TERMS),
        "id": resource.id,
        "type": "Page",
        "attributedTo": _attribution(resource.org_id, resource.author_id),
        "audience": resource.org_id,
        "name": resource.title,
    }
    if resource.abstract_html:
        doc["summary"] = resource.abstract_html
    content = resource.content_html or resource.abstract_html
    if content:
        doc.update({"content": content, "mediaType": "text/html"})
    doc["url"] = resource.id
    _dates(doc, resource.published, resource.updated)
    doc.update(addressing(resource.visibility, resource.org_id))
    doc["tag"] = _hashtags(resource.themes)
    attachments: list[dict[str, Any]] = []
    if resource.file is not None:
        attachments.append({"type": "Document", "url": resource.file.url,
                            "mediaType": resource.file.media_type, "name": resource.file.name})
    if resource.link is not None:
        attachments.append({"type": "Link", "href": resource.link.url,
                            "mediaType": resource.link.media_type, "name": resource.link.name})
    if attachments:
        doc["attachment"] = attachments
    if resource.creators:
        doc["creator"] = list(resource.creators)
    for key, value in (("publisher", resource.publisher),
                       ("datePublished", resource.date_published),
                       ("inLanguage", resource.language), ("license", resource.licence_url),
                       ("genre", resource.doc_type)):
        if value:
            doc[key] = value
    return doc


def discussion_to_page(discussion: DiscussionSnapshot) -> dict[str, Any]:
    """A discussion: a ``Page`` in the organisation's ``Group``, as Lemmy threads are."""
    doc: dict[str, Any] = {
        "@context": context(OBJECT_TERMS),
        "id": discussion.id,
        "type": "Page",
        "attributedTo": _attribution(discussion.org_id, discussion.author_id),
        "audience": discussion.org_id,
        "name": discussion.title,
        "content": discussion.content_html,
        "mediaType": "text/html",
        "url": discussion.id,
    }
    _dates(doc, discussion.published, discussion.updated)
    doc.update(addressing(discussion.visibility, discussion.org_id))
    doc["tag"] = _hashtags(discussion.themes)
    return doc


def tombstone(object_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted object's URL serves (with 410 Gone)."""
    return {"@context": context(), "id": object_id, "type": "Tombstone",
            "formerType": former_type, "deleted": rfc3339(deleted)}


# -- collections and activities ---------------------------------------------------------------


def page_url(collection_id: str, **params: str) -> str:
    """A page of a collection: ``{id}?page=true`` plus a cursor, parameters sorted."""
    return f"{collection_id}?{urlencode(sorted({'page': 'true', **params}.items()))}"


def ordered_collection(collection_id: str, total_items: int, *,
                       first: str | None = None, last: str | None = None,
                       items: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """An ``OrderedCollection``: paged (``first``/``last``) or with its items inline."""
    doc: dict[str, Any] = {"@context": context(), "id": collection_id,
                           "type": "OrderedCollection", "totalItems": total_items}
    if first is not None:
        doc["first"] = first
    if last is not None:
        doc["last"] = last
    if items is not None:
        doc["orderedItems"] = [without_context(item) for item in items]
        doc["@context"] = _merged_context(items)
    return doc


def ordered_collection_page(page: CollectionPage) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": _merged_context(page.items), "id": page.id,
                           "type": "OrderedCollectionPage", "partOf": page.part_of}
    if page.next is not None:
        doc["next"] = page.next
    if page.prev is not None:
        doc["prev"] = page.prev
    doc["orderedItems"] = [without_context(item) for item in page.items]
    return doc


def _merged_context(items: Sequence[Mapping[str, Any]]) -> list[Any]:
    """One ``@context`` holding the inline terms of every embedded item."""
    terms: list[Mapping[str, Any]] = []
    for item in items:
        for part in item.get("@context", ()):
            if isinstance(part, Mapping):
                terms.append(part)
    return context(*terms)


def wrap_create(obj: Mapping[str, Any], actor_id: str) -> dict[str, Any]:
    """The ``Create`` that publishes ``obj`` (for the outbox and for delivery): same
    audience as the object, its id the object's with ``#create``."""
    doc: dict[str, Any] = {
        "@context": obj.get("@context", context()),
        "id": f"{obj['id']}#create",
        "type": "Create",
        "actor": actor_id,
        "published": obj.get("published"),
        "to": list(obj.get("to", ())),
        "cc": list(obj.get("cc", ())),
        "object": without_context(obj),
    }
    if doc["published"] is None:
        del doc["published"]
    return doc
