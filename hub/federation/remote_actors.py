"""Remote actors: fetched signed, cached as ``RemoteActor`` rows, found by key id.

Every GET of an ActivityStreams document goes through ``signed_get``: signed by the
instance actor (peers in authorized-fetch mode refuse unsigned fetches), through the one
client (SSRF guard, size cap, time-out). A fetched actor is believed only about itself:
its id must be on the host it was fetched from, and its key must be its own (parsers).

Services: rows are added and flushed, never committed; the request or job commits.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urldefrag, urljoin

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.errors import FetchError, ParseError
from hub.extensions import db
from hub.federation import client, keys
from hub.federation.models import RemoteActor
from hub.federation.parsers import (
    ParsedActor,
    host_of,
    is_http_uri,
    parse_actor,
    parse_key_document,
)
from hub.federation.signatures import SignedAuth
from hub.federation.vocab import ACTIVITY_JSON, AS_PROFILE, LD_JSON
from hub.models_base import utcnow
from hub.sanitize import clean_html

log = logging.getLogger(__name__)

ACCEPT = f'{ACTIVITY_JSON}, {LD_JSON}; profile="{AS_PROFILE}"'
MAX_BYTES = 1024 * 1024
TIMEOUT = 10
#: Profiles are fetched again when older than this.
STALE_AFTER = timedelta(days=1)
#: Redirects followed by hand (the client follows none), each through the guard again.
MAX_REDIRECTS = 3


def signed_get(url: str) -> dict[str, Any]:
    """GET an ActivityStreams document, signed by the instance actor.

    Raises FetchError (network, status, size, redirect loop) or ParseError (not JSON, not
    an object). Redirects are followed by hand up to MAX_REDIRECTS, each one checked by
    the guard; callers that care about origins compare the document's id with ``url``
    (use ``signed_get_final`` to know where it was found).
    """
    return signed_get_final(url)[1]


def signed_get_final(url: str) -> tuple[str, dict[str, Any]]:
    """``signed_get`` that also returns the URL the document was finally read from."""
    from hub.federation.parsers import host_of
    from hub.federation.policies import refuses_domain

    if refuses_domain(host_of(url)):
        raise FetchError(f"{host_of(url)} is blocked by this instance")
    base = current_app.config["HUB_BASE_URL"].rstrip("/")
    pair = keys.instance_key_pair()
    auth = SignedAuth(f"{base}/actor#main-key", pair.private_key)
    session = client.make_session(allow_private=current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    current = urldefrag(url)[0]
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = client.fetch(session, "GET", current, timeout=TIMEOUT,
                                     max_bytes=MAX_BYTES, headers={"Accept": ACCEPT}, auth=auth)
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location", "")
                if not location:
                    raise FetchError(f"{current[:200]} redirects nowhere")
                current = urljoin(current, location)
                if refuses_domain(host_of(current)):
                    raise FetchError(f"{host_of(current)} is blocked by this instance")
                continue
            break
        else:
            raise FetchError(f"{url[:200]} redirects too often")
    finally:
        session.close()
    if response.status_code == 410:
        raise GoneError(f"{current[:200]} is gone (410)")
    if response.status_code != 200:
        raise FetchError(f"{current[:200]} answered {response.status_code}")
    try:
        doc = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise ParseError(f"{current[:200]} is not JSON") from None
    if not isinstance(doc, dict):
        raise ParseError(f"{current[:200]} is not a JSON object")
    return current, doc


class GoneError(FetchError):
    """The document answered 410 Gone: its origin deleted it."""


# -- actors ------------------------------------------------------------------------------------


def find_actor(uri: str) -> RemoteActor | None:
    return db.session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))


def fetch_actor(uri: str, *, refresh: bool = False) -> RemoteActor:
    """The actor at ``uri``: the cached row unless ``refresh`` or older than a day.

    A stale row whose refresh fails is still returned (the peer may be down for a while);
    an explicit ``refresh`` raises instead. 410 Gone marks a known actor deleted.
    """
    if not is_http_uri(uri):
        raise FetchError("not an http(s) actor URL")
    row = find_actor(uri)
    if row is not None and not refresh and row.fetched_at > utcnow() - STALE_AFTER:
        return row
    try:
        return fetch_actor_document(uri)[0]
    except GoneError:
        if row is not None and row.deleted_at is None:
            row.deleted_at = utcnow()
            db.session.flush()
        raise
    except (FetchError, ParseError) as exc:
        if row is not None and not refresh:
            log.info("keeping stale actor %s: %s", uri, exc)
            return row
        raise


def fetch_actor_document(uri: str) -> tuple[RemoteActor, ParsedActor]:
    """Fetch, check and store an actor; returns the row and what was parsed (for the
    fields not kept in the row, such as ``alsoKnownAs``)."""
    final_url, doc = signed_get_final(uri)
    parsed = parse_actor(doc)
    _check_origin(parsed, final_url)
    return store_actor(parsed), parsed


def _check_origin(parsed: ParsedActor, fetched_from: str) -> None:
    if parsed.host != host_of(fetched_from):
        raise ParseError(f"actor {parsed.id[:200]} was served by another host "
                         f"({host_of(fetched_from)})")
    local = host_of(current_app.config["HUB_BASE_URL"])
    if parsed.host == local:
        raise ParseError("a local actor is not a remote actor")


def store_actor(parsed: ParsedActor) -> RemoteActor:
    """Insert or update the row for a checked actor (flushed, not committed)."""
    values = {
        "type": parsed.type[:20],
        "handle": parsed.preferred_username[:200],
        "domain": parsed.host[:255],
        "name": parsed.name[:200],
        "summary_html": clean_html(parsed.summary, images=False) if parsed.summary else "",
        "url": parsed.url,
        "icon_url": parsed.icon_url,
        "inbox": parsed.inbox,
        "shared_inbox": parsed.shared_inbox,
        "outbox": parsed.outbox,
        "followers_url": parsed.followers,
        "key_id": parsed.public_key.id if parsed.public_key else "",
        "public_key_pem": parsed.public_key.pem if parsed.public_key else "",
        "manually_approves_followers": parsed.manually_approves_followers,
        "moved_to": parsed.moved_to,
        "fetched_at": utcnow(),
        "deleted_at": None,
    }
    row = find_actor(parsed.id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = RemoteActor(uri=parsed.id, **values)
                db.session.add(row)
                db.session.flush()
            _queue_avatar(row)
            return row
        except IntegrityError:  # fetched at the same moment by another request
            row = find_actor(parsed.id)
            if row is None:
                raise
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    _queue_avatar(row)
    return row


def _queue_avatar(row: RemoteActor) -> None:
    from hub.federation.remote_media import queue_avatar

    queue_avatar(row)


# -- keys ---------------------------------------------------------------------------------------


def actor_for_key(key_id: str, *, refresh: bool = False) -> RemoteActor:
    """The actor that owns ``key_id``; fetched when unknown (or ``refresh``: key rotation).

    The cached key is used whatever its age: a signature that fails with it makes the
    caller ask again with ``refresh``. Key ids name their actor (Mastodon: ``actor#main-key``;
    GoToSocial: ``actor/main-key``, which serves the key with its ``owner``).
    """
    if not is_http_uri(key_id):
        raise FetchError("key id is not an http(s) URL")
    if host_of(key_id) == host_of(current_app.config["HUB_BASE_URL"]):
        raise FetchError("a local key id is not a remote key")
    if not refresh:
        row = db.session.scalar(select(RemoteActor).where(RemoteActor.key_id == key_id,
                                                          RemoteActor.deleted_at.is_(None)))
        if row is not None and row.public_key_pem:
            return row
    final_url, doc = signed_get_final(key_id)
    try:
        parsed = parse_actor(doc)
    except ParseError:
        key = parse_key_document(doc)
        if key is None or key.id != key_id:
            raise ParseError(f"{key_id[:200]} is neither an actor nor its key") from None
        row, parsed = fetch_actor_document(key.owner)
    else:
        _check_origin(parsed, final_url)
        row = store_actor(parsed)
    if parsed.public_key is None or parsed.public_key.id != key_id:
        raise ParseError(f"{parsed.id[:200]} does not publish the key {key_id[:200]}")
    return row
