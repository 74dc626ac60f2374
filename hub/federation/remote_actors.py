"""Remote actors: fetched signed, cached as ``RemoteActor`` rows, found by key id.

Every GET of an ActivityStreams document goes through ``signed_get``: signed by the
instance actor (peers in authorized-fetch mode refuse unsigned fetches), through the one
client (SSRF guard, size cap, time-out). A fetched actor is believed only about itself:
its id must be on the host it was fetched from, and its key must be its own (parsers).

Services: rows are added and flushed, never committed; the request or job commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urldefrag, urljoin

from flask import current_app
from sqlalchemy import select, text
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

#: How long this process believes a key it read or fetched (as the domain policies' cache):
#: a deleted actor or a rotated key is noticed within this time by every process.
KEY_CACHE_SECONDS = 5.0
#: A re-fetch (key rotation) that found the very key that failed is not repeated for this
#: long: forged signatures with a known key id cost one GET per key, not one per request.
REFETCH_COOLDOWN = 30.0
#: How long a request waits for another process's fetch of the same key (PostgreSQL).
FETCH_WAIT = TIMEOUT + 5.0


@dataclass(frozen=True)
class SigningKey:
    """A remote actor's public key as the inbox uses it. ``parsed`` is set when the key was
    just fetched and not stored yet: the caller stores it once a signature checks out."""

    key_id: str
    actor_uri: str
    pem: str
    parsed: ParsedActor | None = None


@dataclass
class _KeyCache:
    """Per application (per process in production): keys read or fetched lately, one lock
    per key id being fetched, and when a re-fetch last found the same key."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: dict[str, tuple[float, SigningKey]] = field(default_factory=dict)
    flights: dict[str, threading.Lock] = field(default_factory=dict)
    same_after_refetch: dict[str, float] = field(default_factory=dict)

    def get(self, key_id: str, newer_than: float = 0.0) -> SigningKey | None:
        hit = self.keys.get(key_id)
        if hit is None or hit[0] < max(newer_than, time.monotonic() - KEY_CACHE_SECONDS):
            return None
        return hit[1]

    def put(self, key: SigningKey) -> None:
        if len(self.keys) > 10_000:  # bounded: the oldest half goes
            with self.lock:
                for old in sorted(self.keys, key=lambda k: self.keys[k][0])[:5_000]:
                    self.keys.pop(old, None)
        self.keys[key.key_id] = (time.monotonic(), key)

    def flight(self, key_id: str) -> threading.Lock:
        with self.lock:
            if len(self.flights) > 10_000:  # bounded too: locks nobody holds go
                for idle in [k for k, lock in self.flights.items() if not lock.locked()]:
                    del self.flights[idle]
            return self.flights.setdefault(key_id, threading.Lock())


def _key_cache() -> _KeyCache:
    cache = current_app.extensions.get("hub_remote_keys")
    if cache is None:
        cache = current_app.extensions.setdefault("hub_remote_keys", _KeyCache())
    return cache


def forget_key(key_id: str) -> None:
    """Drop a key from this process's cache (its actor was deleted or changed here)."""
    if key_id:
        _key_cache().keys.pop(key_id, None)


def _check_key_id(key_id: str) -> None:
    if not is_http_uri(key_id):
        raise FetchError("key id is not an http(s) URL")
    if host_of(key_id) == host_of(current_app.config["HUB_BASE_URL"]):
        raise FetchError("a local key id is not a remote key")


def _stored_key(key_id: str) -> SigningKey | None:
    """The key as stored (committed by whoever fetched it), read without an ORM object."""
    found = db.session.execute(
        select(RemoteActor.uri, RemoteActor.public_key_pem)
        .where(RemoteActor.key_id == key_id, RemoteActor.deleted_at.is_(None))
        .limit(1)).first()
    if found is None or not found.public_key_pem:
        return None
    return SigningKey(key_id, found.uri, found.public_key_pem)


def signing_key(key_id: str, *, failed_pem: str | None = None) -> SigningKey:
    """The public key ``key_id`` names, for verifying an inbound signature.

    From this process's cache, else the stored actor, else fetched from its origin — once:
    concurrent requests for the same key wait for one fetch (a lock per key id in this
    process; on PostgreSQL, a transaction-level advisory lock, so another process finds the
    row the first one stores). ``failed_pem`` asks for a newer key than the one a signature
    just failed with (key rotation). A fetched key comes back with ``parsed`` set and is not
    stored here: ``store_signer`` keeps it once a signature verified with it.
    """
    _check_key_id(key_id)
    cache = _key_cache()
    if failed_pem is None:
        key = cache.get(key_id) or _stored_key(key_id)
        if key is not None:
            cache.put(key)
            return key
    waited_from = time.monotonic()
    with cache.flight(key_id):
        _wait_for_other_processes(key_id)
        # Another thread or process may have fetched it while this one waited.
        key = cache.get(key_id, newer_than=waited_from) or _stored_key(key_id)
        if key is not None and (failed_pem is None or key.pem != failed_pem):
            cache.put(key)
            return key
        if failed_pem is not None:
            same_at = cache.same_after_refetch.get(key_id, -REFETCH_COOLDOWN)
            if time.monotonic() - same_at < REFETCH_COOLDOWN:
                return SigningKey(key_id, key.actor_uri if key else "", failed_pem)
        key = _fetch_key(key_id)
        if failed_pem is not None and key.pem == failed_pem:
            cache.same_after_refetch[key_id] = time.monotonic()
            key = SigningKey(key_id, key.actor_uri, key.pem)  # nothing new to store
        # Others use it as it is: the first request stores the actor once it verified.
        cache.put(SigningKey(key_id, key.actor_uri, key.pem))
        return key


def _wait_for_other_processes(key_id: str) -> None:
    """On PostgreSQL, take a lock on the key id held until this request's transaction ends,
    so another process fetching the same key stores it first and this one reads the row.
    Waits at most FETCH_WAIT (then fetches anyway); nothing to do on SQLite."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    # The fetch is signed by the instance key, whose first use commits it: made now, so
    # that commit cannot release the lock before this fetch is stored.
    keys.instance_key_pair()
    lock_id = int.from_bytes(hashlib.sha256(key_id.encode()).digest()[:8], "big", signed=True)
    deadline = time.monotonic() + FETCH_WAIT
    while not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id}):
        if time.monotonic() > deadline:
            log.info("fetching %s without waiting longer for another process", key_id[:200])
            return
        time.sleep(0.02)


def _fetch_key(key_id: str) -> SigningKey:
    """Fetch the document ``key_id`` names (an actor, or a key with its owner) and check
    that the actor publishes that key; nothing is stored."""
    final_url, doc = signed_get_final(key_id)
    try:
        parsed = parse_actor(doc)
    except ParseError:
        key = parse_key_document(doc)
        if key is None or key.id != key_id:
            raise ParseError(f"{key_id[:200]} is neither an actor nor its key") from None
        final_url, doc = signed_get_final(key.owner)
        parsed = parse_actor(doc)
    _check_origin(parsed, final_url)
    if parsed.public_key is None or parsed.public_key.id != key_id:
        raise ParseError(f"{parsed.id[:200]} does not publish the key {key_id[:200]}")
    return SigningKey(key_id, parsed.id, parsed.public_key.pem, parsed)


def store_signer(key: SigningKey) -> None:
    """Keep the actor of a key that was just fetched and verified a signature (flushed)."""
    if key.parsed is not None:
        store_actor(key.parsed)


def actor_for_key(key_id: str, *, refresh: bool = False) -> RemoteActor:
    """The actor that owns ``key_id``; fetched and stored when unknown (or ``refresh``)."""
    _check_key_id(key_id)
    if not refresh:
        row = db.session.scalar(select(RemoteActor).where(RemoteActor.key_id == key_id,
                                                          RemoteActor.deleted_at.is_(None)))
        if row is not None and row.public_key_pem:
            return row
    key = _fetch_key(key_id)
    assert key.parsed is not None
    return store_actor(key.parsed)
