"""Find the ActivityPub actor behind what a member typed: a handle or an address.

"@someone@mastodon.example", "someone@host", "acct:someone@host" go through WebFinger
(RFC 7033) on the handle's host; an https URL is fetched as ActivityStreams to confirm it
is an actor (a Maillage organisation page, a Mastodon profile, a whole instance's
``/actor``). When the address is a profile page that does not answer ActivityStreams
(Mastodon's ``/@name`` redirects), its host's WebFinger is asked about the URL, which
Mastodon and Maillage both answer.

Shell code: every request goes through ``hub.federation.client`` (SSRF guard, time-out,
size cap); the actor itself is fetched and stored by ``remote_actors.fetch_actor``. Plain
http is used only when HUB_OUTBOUND_ALLOW_PRIVATE is on (loopback test peers). Every
failure is a ``LookupFailed`` whose message can be shown to the member as is.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from flask import current_app
from flask_babel import gettext as _

from hub.errors import FetchError, ParseError, ValidationFailed

log = logging.getLogger(__name__)

TIMEOUT = 10.0
MAX_JRD_BYTES = 256 * 1024
MAX_REDIRECTS = 3
MAX_INPUT = 500
JRD_ACCEPT = "application/jrd+json, application/json;q=0.9"
#: Link types that name an ActivityStreams document (``self`` links of a JRD).
ACTOR_TYPES = ("application/activity+json", "application/ld+json")

_USER_RE = re.compile(r"^[^\s@/?#:]{1,100}$")
_HOST_RE = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:\d{1,5})?$",
                      re.IGNORECASE)


class LookupFailed(ValidationFailed):
    """What was typed leads to no actor; the message says why, for the member."""


# -- pure -----------------------------------------------------------------------------------


def parse_handle(text: str) -> tuple[str, str] | None:
    """("user", "host[:port]") from "@user@host", "user@host" or "acct:user@host"; None
    when ``text`` is not shaped like a handle."""
    text = text.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    text = text.removeprefix("@")
    user, sep, host = text.rpartition("@")
    if not sep or not _USER_RE.match(user) or not _HOST_RE.match(host):
        return None
    return user, host.lower()


def actor_link(jrd: Any) -> str | None:
    """The actor id a WebFinger answer points to: its ``self`` link of an ActivityStreams
    type (``application/activity+json``, or ``application/ld+json`` with the AS profile)."""
    if not isinstance(jrd, dict) or not isinstance(jrd.get("links"), list):
        return None
    for link in jrd["links"]:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        kind = str(link.get("type", "")).split(";", 1)[0].strip().lower()
        href = link.get("href")
        if kind in ACTOR_TYPES and isinstance(href, str) and href.startswith(
                ("https://", "http://")):
            return href
    return None


# -- shell ----------------------------------------------------------------------------------


def _allow_private() -> bool:
    return bool(current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])


def _local_host() -> str:
    return (urlsplit(current_app.config["HUB_BASE_URL"]).netloc or "").lower()


def _failure(exc: FetchError, shown: str) -> LookupFailed:
    from hub.federation.client import BlockedAddress

    if isinstance(exc, BlockedAddress):
        return LookupFailed(_("%(address)s is on a private network: it cannot be followed.",
                              address=shown), field="address")
    return LookupFailed(_("The server of %(address)s did not answer. Check the address, or "
                          "try again later.", address=shown), field="address")


def _get_json(url: str, accept: str) -> tuple[int, Any]:
    """GET ``url`` through the one client, following a few redirects (each one guarded
    again); the status and the JSON body (None when it is not JSON)."""
    from hub.federation.client import fetch, make_session

    session = make_session(allow_private=_allow_private())
    for _hop in range(MAX_REDIRECTS + 1):
        response = fetch(session, "GET", url, timeout=TIMEOUT, max_bytes=MAX_JRD_BYTES,
                         headers={"Accept": accept})
        if response.status_code in (301, 302, 303, 307, 308) and response.headers.get(
                "Location"):
            url = urljoin(url, response.headers["Location"])
            if not url.startswith("https://") and not (
                    _allow_private() and url.startswith("http://")):
                raise FetchError("redirected off https")
            continue
        try:
            return response.status_code, json.loads(response.content)
        except ValueError:
            return response.status_code, None
    raise FetchError("too many redirects")


def webfinger(host: str, resource: str, shown: str) -> str:
    """The actor id WebFinger on ``host`` gives for ``resource``; https, or http after it
    when private addresses are allowed (loopback test peers speak plain http)."""
    schemes = ("https", "http") if _allow_private() else ("https",)
    query = urlencode({"resource": resource})
    last: FetchError | None = None
    for scheme in schemes:
        try:
            status, jrd = _get_json(f"{scheme}://{host}/.well-known/webfinger?{query}",
                                    JRD_ACCEPT)
        except FetchError as exc:
            last = exc
            continue
        if status in (404, 410):
            raise LookupFailed(_("No account %(address)s was found on %(host)s.",
                                 address=shown, host=host), field="address")
        if status != 200:
            raise LookupFailed(_("The server of %(address)s refused the look-up (error "
                                 "%(status)d).", address=shown, status=status),
                               field="address")
        href = actor_link(jrd)
        if href is None:
            raise LookupFailed(_("%(address)s is not on the fediverse (its server names no "
                                 "ActivityPub actor for it).", address=shown),
                               field="address")
        return href
    log.info("webfinger failed for %s: %s", host, last)
    raise _failure(last or FetchError("no answer"), shown)


def _confirm_actor(uri: str, shown: str) -> str:
    """Fetch (and store) the actor: its id, or a LookupFailed saying what it is not."""
    from hub.federation.remote_actors import fetch_actor

    try:
        actor = fetch_actor(uri)
    except FetchError as exc:
        raise _failure(exc, shown) from None
    except ParseError:
        raise LookupFailed(_("%(address)s is not an account, an organisation or an instance "
                             "that can be followed.", address=shown), field="address") from None
    return actor.uri


def resolve(text: str) -> str:
    """The id of the remote actor ``text`` names (stored as a ``RemoteActor`` by the way).

    Raises LookupFailed: malformed, unknown, not an actor, unreachable, private address,
    or on this very instance.
    """
    text = (text or "").strip()
    if not text:
        raise LookupFailed(_("Enter an address such as @someone@mastodon.example or "
                             "https://other.example/@collective."), field="address")
    if len(text) > MAX_INPUT:
        raise LookupFailed(_("This address is too long."), field="address")
    if text.lower().startswith(("https://", "http://")):
        return _resolve_url(text)
    handle = parse_handle(text)
    if handle is None:
        raise LookupFailed(_("“%(text)s” is not an address: write it as @someone@server.example "
                             "or paste the https:// address of the profile.", text=text[:100]),
                           field="address")
    user, host = handle
    shown = f"@{user}@{host}"
    if host == _local_host():
        raise LookupFailed(_("%(address)s is on this instance: only accounts and "
                             "organisations of other servers can be followed here.",
                             address=shown), field="address")
    _refuse_blocked(host)
    href = webfinger(host, f"acct:{user}@{host}", shown)
    return _confirm_actor(href, shown)


def _refuse_blocked(host: str) -> None:
    from hub.federation.policies import refuses_domain

    if refuses_domain(host):
        raise LookupFailed(_("This instance does not federate with %(domain)s.", domain=host),
                           field="address")


def _resolve_url(url: str) -> str:
    parts = urlsplit(url)
    from hub.federation.parsers import host_of

    _refuse_blocked(host_of(url))
    if parts.scheme.lower() == "http" and not _allow_private():
        raise LookupFailed(_("Only https:// addresses can be followed."), field="address")
    if not parts.hostname or parts.username or parts.password:
        raise LookupFailed(_("“%(text)s” is not a valid address.", text=url[:100]),
                           field="address")
    if parts.netloc.lower() == _local_host():
        raise LookupFailed(_("%(address)s is on this instance: only accounts and "
                             "organisations of other servers can be followed here.",
                             address=url[:100]), field="address")
    shown = url[:200]
    try:
        return _confirm_actor(url, shown)
    except LookupFailed as first:
        # A profile page that is not itself the actor (Mastodon's /@name): ask its host.
        try:
            href = webfinger(parts.netloc.lower(), url, shown)
        except LookupFailed:
            raise first from None
        if href == url:
            raise first from None
        return _confirm_actor(href, shown)
