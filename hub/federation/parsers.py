"""What peers send, as typed dataclasses: actors and activities.

Tolerant of omissions (a missing ``name``, ``icon`` or ``endpoints`` is an empty value,
a malformed optional URL is dropped) and strict on identity: an actor or activity without
an http(s) ``id``, a ``type`` or (activities) an ``actor`` raises ``ParseError``. A key
whose owner is not the actor, or that lives on another origin, is not the actor's key.
Embedded objects are kept as dicts for handlers to look at, never as facts: a handler
that needs one from another origin fetches it again.

Pure: no Flask, no database, no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hub.errors import ParseError
from hub.federation.vocab import as_list, first_id, has_type, id_of, ids, text_of

#: The longest id or URL kept (the width of the columns that store them).
MAX_URI = 2000
ACTOR_TYPES = ("Person", "Group", "Organization", "Application", "Service")


@dataclass(frozen=True)
class ParsedKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class ParsedActor:
    id: str
    type: str
    preferred_username: str = ""
    name: str = ""
    #: As sent: untrusted HTML, to be cleaned before it is stored or shown.
    summary: str = ""
    url: str = ""
    icon_url: str = ""
    inbox: str = ""
    shared_inbox: str = ""
    outbox: str = ""
    followers: str = ""
    following: str = ""
    featured: str = ""
    public_key: ParsedKey | None = None
    manually_approves_followers: bool = False
    also_known_as: tuple[str, ...] = ()
    moved_to: str = ""

    @property
    def host(self) -> str:
        return host_of(self.id)


@dataclass(frozen=True)
class ParsedActivity:
    id: str
    type: str
    actor: str
    #: An id, an embedded object (dict), or None.
    object: str | dict[str, Any] | None = None
    target: str | dict[str, Any] | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    #: Every object id, for activities about several (a Flag names an actor and posts).
    object_ids: tuple[str, ...] = ()
    #: As sent (a Flag's comment): untrusted text or HTML.
    content: str = ""

    @property
    def object_id(self) -> str | None:
        return id_of(self.object)

    @property
    def object_type(self) -> str | None:
        """The type of an embedded object; None when only its id was sent."""
        if isinstance(self.object, Mapping):
            return type_of(self.object)
        return None

    @property
    def target_id(self) -> str | None:
        return id_of(self.target)

    @property
    def host(self) -> str:
        return host_of(self.actor)


# -- helpers ---------------------------------------------------------------------------------


def host_of(uri: str) -> str:
    """The host of an http(s) URI, lower-cased, with a non-default port."""
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        return host
    return host if port in (None, default) else f"{host}:{port}"


def is_http_uri(value: Any) -> bool:
    """An absolute http(s) URI with a host, of a length we can store."""
    if not isinstance(value, str) or not value or len(value) > MAX_URI:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def same_origin(a: str, b: str) -> bool:
    return bool(a and b) and urlsplit(a).scheme == urlsplit(b).scheme and host_of(a) == host_of(b)


def type_of(obj: Mapping[str, Any]) -> str | None:
    """The first string ``type`` (a few peers send a list)."""
    for kind in as_list(obj.get("type")):
        if isinstance(kind, str) and kind:
            return kind
    return None


def _required_id(value: Any, what: str) -> str:
    found = id_of(value) if not isinstance(value, list) else first_id(value)
    if not found:
        raise ParseError(f"{what} has no id")
    if not is_http_uri(found):
        raise ParseError(f"{what} id is not an http(s) URL")
    return found


def _url(value: Any) -> str:
    """An optional URL: a string, a Link or a list of them (the text/html one preferred);
    "" when absent or not http(s)."""
    candidates: list[tuple[int, str]] = []
    for item in as_list(value):
        if isinstance(item, str):
            candidates.append((1, item))
        elif isinstance(item, Mapping):
            href = item.get("href") or item.get("url")
            if isinstance(href, str):
                html = str(item.get("mediaType", "")).startswith("text/html")
                candidates.append((0 if html else 1, href))
    for _rank, url in sorted(candidates, key=lambda c: c[0]):
        if is_http_uri(url):
            return url
    return ""


def _icon_url(value: Any) -> str:
    """``icon``: an Image (or several) whose ``url`` is a string or Link, or a bare URL."""
    for item in as_list(value):
        found = _url(item.get("url")) if isinstance(item, Mapping) else _url(item)
        if found:
            return found
    return ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _public_key(doc: Mapping[str, Any], actor_id: str) -> ParsedKey | None:
    """The actor's key: owned by the actor (an absent owner means the actor) and on its
    origin. GoToSocial names keys ``…/main-key`` without a fragment; some servers publish
    a list of keys (FEP-521a peers): the first one that qualifies is taken."""
    for item in as_list(doc.get("publicKey")):
        if not isinstance(item, Mapping):
            continue
        key_id, pem = item.get("id"), item.get("publicKeyPem")
        owner = id_of(item.get("owner")) or actor_id
        if (not is_http_uri(key_id) or not isinstance(pem, str) or "PUBLIC KEY" not in pem
                or owner != actor_id or not same_origin(key_id, actor_id)):
            continue
        return ParsedKey(id=key_id, owner=owner, pem=pem)
    return None


def _as_dict(doc: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise ParseError(f"{what} is not a JSON object")
    return doc


# -- actors ----------------------------------------------------------------------------------


def parse_actor(doc: Any) -> ParsedActor:
    """An actor document; ParseError unless it has an http(s) id and an actor type."""
    doc = _as_dict(doc, "actor")
    actor_id = _required_id(doc.get("id"), "actor")
    if not has_type(doc, *ACTOR_TYPES):
        raise ParseError(f"not an actor: {str(doc.get('type'))[:40]}")
    kind = next(k for k in as_list(doc["type"]) if k in ACTOR_TYPES)
    endpoints = doc.get("endpoints")
    shared = _url(endpoints.get("sharedInbox")) if isinstance(endpoints, Mapping) else ""
    return ParsedActor(
        id=actor_id,
        type=kind,
        preferred_username=_text(doc.get("preferredUsername")),
        name=text_of(doc, "name"),
        summary=text_of(doc, "summary"),
        url=_url(doc.get("url")),
        icon_url=_icon_url(doc.get("icon")),
        inbox=_url(doc.get("inbox")),
        shared_inbox=shared,
        outbox=_url(doc.get("outbox")),
        followers=_url(doc.get("followers")),
        following=_url(doc.get("following")),
        featured=_url(doc.get("featured")),
        public_key=_public_key(doc, actor_id),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        also_known_as=tuple(u for u in ids(doc.get("alsoKnownAs")) if is_http_uri(u)),
        moved_to=_url(id_of(doc.get("movedTo"))),
    )


def parse_key_document(doc: Any) -> ParsedKey | None:
    """A key served on its own (``Key`` / ``CryptographicKey`` with an ``owner``), as some
    servers answer a key id; None when ``doc`` is not one."""
    doc = _as_dict(doc, "key")
    key_id, owner, pem = doc.get("id"), id_of(doc.get("owner")), doc.get("publicKeyPem")
    if not (is_http_uri(key_id) and is_http_uri(owner) and isinstance(pem, str)):
        return None
    return ParsedKey(id=key_id, owner=owner, pem=pem)


# -- activities ------------------------------------------------------------------------------


def _object_or_id(value: Any) -> str | dict[str, Any] | None:
    """One object: the first of a list; an id string or an embedded object (kept whole)."""
    for item in as_list(value):
        if isinstance(item, str) and item:
            return item
        if isinstance(item, Mapping):
            return dict(item)
    return None


def parse_activity(doc: Any) -> ParsedActivity:
    """An activity; ParseError unless it has an http(s) id, a type and an actor."""
    doc = _as_dict(doc, "activity")
    activity_id = _required_id(doc.get("id"), "activity")
    kind = type_of(doc)
    if not kind:
        raise ParseError("activity has no type")
    if doc.get("actor") is None:
        raise ParseError("activity has no actor")
    actor = _required_id(doc.get("actor"), "actor")
    return ParsedActivity(
        id=activity_id,
        type=kind[:40],
        actor=actor,
        object=_object_or_id(doc.get("object")),
        target=_object_or_id(doc.get("target")),
        to=tuple(ids(doc.get("to"))),
        cc=tuple(ids(doc.get("cc"))),
        object_ids=tuple(i for i in ids(doc.get("object"))[:50] if is_http_uri(i)),
        content=_text(doc.get("content"))[:5000],
    )
