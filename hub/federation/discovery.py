"""Discovery documents: WebFinger (RFC 7033) JRDs, host-meta (RFC 6415) and NodeInfo 2.0/2.1.

Pure: no Flask, database, network or clock. The shell (``discovery_views.py``) reads the
rows and the settings, and passes small values in; the same values always give the same
document.

Interop decisions:

- **Hosts with a port.** The ``acct:`` host is the authority of HUB_BASE_URL, port included
  when it is not the scheme's default (``acct:alice@localhost:8000``), as Fedify and
  GoToSocial write it; a default port is dropped on both sides before comparing, and the
  host is compared case-insensitively. A resource naming our host *without* its explicit
  port is not ours: two instances on one host (loopback tests) must never answer for each
  other. (Mastodon derives the WebFinger domain from an actor id's host without its port,
  so it cannot follow actors of an instance on a non-default port whatever we answer.)
- **The instance actor** answers to ``acct:{hostname}@{host}`` (its ``preferredUsername``
  is the host name, as Mastodon's instance actor is named after its domain), to
  ``acct:{host}@{host}`` (Mastodon's form when its domain carries a port) and to its id.
- **Handles** are matched case-insensitively and a leading "@" is tolerated
  (``acct:@Alice@host``, or no scheme at all: ``alice@host``), as people paste them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import quoteattr

# -- media types and link relations -----------------------------------------------------------

JRD_CONTENT_TYPE = "application/jrd+json; charset=utf-8"
XRD_CONTENT_TYPE = "application/xrd+xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
ACTIVITY_JSON = "application/activity+json"

REL_SELF = "self"
REL_PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
REL_AVATAR = "http://webfinger.net/rel/avatar"
REL_SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"
REL_LRDD = "lrdd"
XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0"

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
NodeInfoVersion = Literal["2.0", "2.1"]
NODEINFO_VERSIONS: tuple[NodeInfoVersion, ...] = ("2.1", "2.0")

SOFTWARE_NAME = "maillage"
#: Where the source code and the project's home page live; None until the project is
#: published (NodeInfo 2.1 makes both optional, so they are left out rather than invented).
SOFTWARE_REPOSITORY: str | None = None
SOFTWARE_HOMEPAGE: str | None = None

#: We publish RSS and Atom feeds of every organisation, theme and account, and read them
#: (an organisation's collective watch, "veille"). JSON Feed and iCalendar have no value
#: in NodeInfo's closed lists.
SERVICES_INBOUND = ("atom1.0", "rss2.0")
SERVICES_OUTBOUND = ("atom1.0", "rss2.0")

#: Longest resource parameter looked at; longer ones are malformed (handles are ≤ 30).
MAX_RESOURCE_LENGTH = 1000
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: RFC 3986 scheme; "alice@host:8000" has none ("@" cannot be in one).
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


class ResourceError(ValueError):
    """A WebFinger ``resource`` that is not a URI we can read (HTTP 400)."""


# -- hosts ------------------------------------------------------------------------------------


def _authority(hostname: str, port: int | None, scheme: str) -> str:
    """host[:port], lower-cased, without the scheme's default port."""
    hostname = hostname.lower().rstrip(".")
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return hostname
    return f"{hostname}:{port}"


def host_of(base_url: str) -> str:
    """The ``acct:`` host of the instance: HUB_BASE_URL's authority (see module docstring)."""
    parts = urlsplit(base_url)
    return _authority(parts.hostname or "", parts.port, parts.scheme)


def instance_username(base_url: str) -> str:
    """The instance actor's ``preferredUsername``: the host name, without port."""
    return (urlsplit(base_url).hostname or "").lower()


def acct_uri(username: str, base_url: str) -> str:
    return f"acct:{username}@{host_of(base_url)}"


def _same_host(authority: str, base_url: str) -> bool:
    """Does ``authority`` (host[:port], as found in an acct: URI) name this instance?"""
    scheme = urlsplit(base_url).scheme
    try:
        parts = urlsplit(f"//{authority}")
        port = parts.port
    except ValueError:  # "host:notaport"
        return False
    if not parts.hostname or parts.username is not None or parts.path:
        return False
    return _authority(parts.hostname, port, scheme) == host_of(base_url)


# -- WebFinger resources ----------------------------------------------------------------------


@dataclass(frozen=True)
class HandleResource:
    """An account or an organisation, by handle as asked (the shell resolves which)."""

    handle: str


@dataclass(frozen=True)
class InstanceResource:
    """The instance's own ``Application`` actor."""


Resource = HandleResource | InstanceResource


def parse_resource(resource: str | None, base_url: str) -> Resource | None:
    """What a WebFinger ``resource`` asks for, or None when it is not one of ours (404).

    Raises ``ResourceError`` for a missing or unreadable resource (400). Accepted:
    ``acct:handle@host`` (or ``handle@host``, ``@handle@host``), the profile URL
    ``{base}/@handle``, and the instance actor (``acct:{hostname}@{host}``, ``{base}/actor``).
    """
    if resource is None:
        raise ResourceError("missing resource")
    resource = resource.strip()
    if not resource or len(resource) > MAX_RESOURCE_LENGTH:
        raise ResourceError("empty or overlong resource")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in resource):
        raise ResourceError("resource with spaces or control characters")
    found = _SCHEME_RE.match(resource)
    scheme = found.group(1).lower() if found else ""
    if scheme in _DEFAULT_PORTS:
        return _parse_url(resource, base_url)
    if scheme == "acct":
        return _parse_acct(resource[len("acct:"):], base_url)
    if not scheme and "@" in resource:  # "alice@host", "@alice@host", as people paste them
        return _parse_acct(resource, base_url)
    if scheme:
        return None  # another URI scheme (mailto:, did:…): a URI, but never one of ours
    raise ResourceError("resource is not a URI")


def _parse_acct(value: str, base_url: str) -> Resource | None:
    value = value.removeprefix("@")
    username, at, host = value.rpartition("@")
    if not at or not username or not host or "@" in username or "/" in host:
        raise ResourceError("acct: resource without user@host")
    if not _same_host(host, base_url):
        return None
    username = unquote(username)  # RFC 7565 allows percent-encoding in the user part
    if username.lower() in {instance_username(base_url), host_of(base_url)}:
        return InstanceResource()
    return HandleResource(username)


def _parse_url(url: str, base_url: str) -> Resource | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ResourceError("unreadable URL") from None
    if not parts.hostname:
        raise ResourceError("URL without a host")
    base = urlsplit(base_url)
    if (parts.scheme.lower() != base.scheme.lower() or parts.username is not None
            or _authority(parts.hostname, port, parts.scheme.lower()) != host_of(base_url)
            or parts.query):
        return None
    prefix = base.path.rstrip("/")
    path = unquote(parts.path)
    if not path.startswith(prefix + "/"):
        return None
    path = path[len(prefix):]
    if path == "/actor":
        return InstanceResource()
    if path.startswith("/@"):
        handle = path[2:].removesuffix("/")
        if handle and "/" not in handle and "@" not in handle:
            return HandleResource(handle)
    return None


# -- WebFinger documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class Avatar:
    url: str
    media_type: str


@dataclass(frozen=True)
class WebfingerSubject:
    """What a JRD says about one actor; every URL absolute."""

    #: The ``acct:`` URI (``acct_uri``).
    subject: str
    actor_id: str
    #: The HTML page (the actor id itself for accounts and organisations).
    profile_url: str
    avatar: Avatar | None = None
    #: ``{uri}`` template of the remote-interaction page, when the instance has one.
    subscribe_template: str | None = None


def webfinger_links(subject: WebfingerSubject) -> list[dict[str, str]]:
    links = [
        {"rel": REL_SELF, "type": ACTIVITY_JSON, "href": subject.actor_id},
        {"rel": REL_PROFILE_PAGE, "type": "text/html", "href": subject.profile_url},
    ]
    if subject.avatar is not None:
        links.append({"rel": REL_AVATAR, "type": subject.avatar.media_type,
                      "href": subject.avatar.url})
    if subject.subscribe_template:
        links.append({"rel": REL_SUBSCRIBE, "template": subject.subscribe_template})
    return links


def webfinger_document(subject: WebfingerSubject, rels: Iterable[str] = ()) -> dict[str, Any]:
    """The JRD; ``rels`` (the ``rel`` query parameters) keep only those links, leaving
    ``subject`` and ``aliases`` whole (RFC 7033 §4.3)."""
    links = webfinger_links(subject)
    wanted = set(rels)
    if wanted:
        links = [link for link in links if link["rel"] in wanted]
    return {"subject": subject.subject, "aliases": [subject.actor_id], "links": links}


# -- host-meta --------------------------------------------------------------------------------


def lrdd_template(webfinger_url: str) -> str:
    """The WebFinger URL with its ``{uri}`` placeholder (left unescaped: it is a template)."""
    return f"{webfinger_url}?resource={{uri}}"


def host_meta_xml(webfinger_url: str) -> str:
    """host-meta as XRD, still asked for by older OStatus-era software (and Friendica)."""
    template = quoteattr(lrdd_template(webfinger_url))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<XRD xmlns="{XRD_NS}">\n'
            f'  <Link rel="{REL_LRDD}" template={template}/>\n'
            "</XRD>\n")


def host_meta_json(webfinger_url: str) -> dict[str, Any]:
    return {"links": [{"rel": REL_LRDD, "template": lrdd_template(webfinger_url)}]}


# -- NodeInfo ---------------------------------------------------------------------------------


def nodeinfo_schema(version: NodeInfoVersion) -> str:
    return NODEINFO_SCHEMA.format(version=version)


def nodeinfo_content_type(version: NodeInfoVersion) -> str:
    """As the NodeInfo protocol asks: JSON with the schema as profile."""
    return f'application/json; profile="{nodeinfo_schema(version)}#"'


def nodeinfo_links(document_urls: Mapping[NodeInfoVersion, str]) -> dict[str, Any]:
    """``/.well-known/nodeinfo``: one link per version served, newest first (Misskey's
    order; readers pick the newest schema they know)."""
    return {"links": [{"rel": nodeinfo_schema(version), "href": document_urls[version]}
                      for version in NODEINFO_VERSIONS if version in document_urls]}


@dataclass(frozen=True)
class Usage:
    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int
    local_comments: int


@dataclass(frozen=True)
class NodeFacts:
    """What NodeInfo says about the instance, read once and kept a few minutes."""

    name: str
    description: str
    registration_mode: str
    default_locale: str
    organisations: int
    usage: Usage


def nodeinfo_document(version: NodeInfoVersion, facts: NodeFacts,
                      software_version: str) -> dict[str, Any]:
    """A NodeInfo 2.0 or 2.1 document (2.0 has no ``repository``/``homepage``; both
    schemas refuse unknown keys outside ``metadata``)."""
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":
        if SOFTWARE_REPOSITORY:
            software["repository"] = SOFTWARE_REPOSITORY
        if SOFTWARE_HOMEPAGE:
            software["homepage"] = SOFTWARE_HOMEPAGE
    usage = facts.usage
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": list(SERVICES_INBOUND), "outbound": list(SERVICES_OUTBOUND)},
        # Only "open" lets anyone in; "approval", "invitation" and "closed" do not.
        "openRegistrations": facts.registration_mode == "open",
        "usage": {
            "users": {"total": usage.users_total, "activeMonth": usage.active_month,
                      "activeHalfyear": usage.active_halfyear},
            "localPosts": usage.local_posts,
            "localComments": usage.local_comments,
        },
        "metadata": {
            "nodeName": facts.name,
            "nodeDescription": facts.description,
            "organisations": facts.organisations,
            "defaultLanguage": facts.default_locale,
            "registrationMode": facts.registration_mode,
        },
    }
