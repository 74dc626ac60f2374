"""ActivityStreams vocabulary: contexts, media types, and tolerant accessors.

Pure: no Flask, database or network. Only the ActivityStreams and security contexts are
named by URL; every extension term (Mastodon's, Mobilizon's, schema.org's) is defined
inline, so no peer — and no code of ours — ever has to fetch a JSON-LD context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
#: The two contexts referenced by URL; nothing else ever is.
CONTEXTS = (AS_CONTEXT, SECURITY_CONTEXT)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

#: The media type of every document served (with ``; charset=utf-8`` on responses).
ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
AS_PROFILE = AS_CONTEXT
CONTENT_TYPE = f"{ACTIVITY_JSON}; charset=utf-8"

# -- inline term definitions, grouped by what uses them -------------------------------------

#: Actors: Mastodon's extensions (toot:) and schema.org's PropertyValue for profile fields.
ACTOR_TERMS: Mapping[str, Any] = {
    "toot": "http://joinmastodon.org/ns#",
    "schema": "http://schema.org#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "discoverable": "toot:discoverable",
    "suspended": "toot:suspended",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
#: Objects: hashtags (an as: term the AS context does not define).
OBJECT_TERMS: Mapping[str, Any] = {
    "Hashtag": "as:Hashtag",
}
#: Events, as Mobilizon writes and reads them (its converter reads the literal key
#: "ical:status", so the ``ical`` prefix is defined and the key kept prefixed).
EVENT_TERMS: Mapping[str, Any] = {
    "mz": "https://joinmobilizon.org/ns#",
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "sc": "http://schema.org#",
    "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
    "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
    "joinMode": "mz:joinMode",
    "PostalAddress": "sc:PostalAddress",
    "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
    "streetAddress": "sc:streetAddress",
}
#: Catalogue resources: the Dublin Core fields documentalists use, as schema.org terms.
RESOURCE_TERMS: Mapping[str, Any] = {
    "schema": "http://schema.org#",
    "creator": "schema:creator",
    "publisher": "schema:publisher",
    "datePublished": "schema:datePublished",
    "inLanguage": "schema:inLanguage",
    "license": {"@id": "schema:license", "@type": "@id"},
    "genre": "schema:genre",
}


def context(*term_sets: Mapping[str, Any]) -> list[Any]:
    """The ``@context`` of a document: the two contexts, then the inline terms it uses
    (merged, keys sorted so the output is the same whatever the call order)."""
    terms: dict[str, Any] = {}
    for term_set in term_sets:
        terms.update(term_set)
    if not terms:
        return list(CONTEXTS)
    return [*CONTEXTS, {key: terms[key] for key in sorted(terms)}]


# -- tolerant accessors, for parsers of what peers send ---------------------------------------


def as_list(value: Any) -> list[Any]:
    """One or many: None → [], a list → itself, anything else → [it]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The id of "an id or an object with one" (a Link's ``href`` when it has no id)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) and found else None
    return None


def first_id(value: Any) -> str | None:
    """The first id in "one or many, ids or objects" (Mastodon reads ``attributedTo`` so)."""
    for item in as_list(value):
        found = id_of(item)
        if found:
            return found
    return None


def ids(value: Any) -> list[str]:
    """Every id in "one or many, ids or objects", in order, without repeats."""
    seen: list[str] = []
    for item in as_list(value):
        found = id_of(item)
        if found and found not in seen:
            seen.append(found)
    return seen


def has_type(obj: Any, *types: str) -> bool:
    """Whether ``obj``'s ``type`` (one or many) is one of ``types``."""
    if not isinstance(obj, Mapping):
        return False
    return any(kind in types for kind in as_list(obj.get("type")) if isinstance(kind, str))


def text_of(obj: Mapping[str, Any], key: str) -> str:
    """A natural-language property (``name``, ``summary``, ``content``) or the first value of
    its ``…Map`` twin; "" when absent or not text."""
    value = obj.get(key)
    if isinstance(value, str):
        return value
    mapped = obj.get(f"{key}Map")
    if isinstance(mapped, Mapping):
        for text in mapped.values():
            if isinstance(text, str):
                return text
    return ""


def is_public(obj: Mapping[str, Any]) -> bool:
    """Addressed to everyone (``to`` or ``cc`` holds Public, in any of its spellings)."""
    spellings = {PUBLIC, "as:Public", "Public"}
    return any(item in spellings for key in ("to", "cc") for item in ids(obj.get(key)))
