"""Inboxes: ``POST /inbox`` (shared) and ``POST /@<handle>/inbox``.

The HTTP side of receiving: the handle, the rate limit, the size and the content type are
checked here; ``inbox.receive`` verifies and stores; the answer is 202 once the activity
is stored (or was already), and a 4xx with a short JSON problem otherwise — nothing is
stored on a refusal. Peers sign their requests, so there is no CSRF token here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.http import parse_options_header

from hub.errors import FederationError, SignatureError
from hub.extensions import csrf, db, limiter
from hub.federation.vocab import ACTIVITY_JSON, AS_PROFILE, LD_JSON
from hub.models_base import utcnow

bp = Blueprint("inbox", __name__)
# Registered with the app: server-to-server POSTs carry signatures, not CSRF tokens.
bp.record_once(lambda state: csrf.exempt(bp))


def _rate_limit() -> str:
    return current_app.config["HUB_INBOX_RATE_LIMIT"]


@lru_cache(maxsize=8)
def _parsed_limit(text: str) -> Any:
    from limits import parse

    return parse(text)


def _within_rate_limit() -> bool:
    """HUB_INBOX_RATE_LIMIT per address, counted in Flask-Limiter's storage (memory, or
    Redis with several processes) under its key prefix, by hand: the decorator's machinery
    cost a quarter of an inbox request (bench I1)."""
    from flask_limiter.util import get_remote_address

    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    keys = [k for k in (prefix, get_remote_address(), "inbox") if k]
    return limiter.limiter.hit(_parsed_limit(_rate_limit()), *keys)


def _problem(status: int, message: str) -> Response:
    db.session.rollback()
    return Response(json.dumps({"error": message}), status=status,
                    content_type="application/json")


def is_activity_content_type(value: str | None) -> bool:
    """activity+json; ld+json with the ActivityStreams profile (or none); plain JSON."""
    mimetype, options = parse_options_header(value or "")
    mimetype = mimetype.lower()
    if mimetype in (ACTIVITY_JSON, "application/json"):
        return True
    if mimetype != LD_JSON:
        return False
    profile = options.get("profile")
    return profile is None or AS_PROFILE in profile.split()


def _read_body(limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit`` (never read past it)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = request.stream.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _receive() -> Response:
    from hub.federation.inbox import DomainBlocked, receive, wake_processing

    limit = current_app.config["HUB_INBOX_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        return _problem(413, f"body larger than {limit} bytes")
    if not is_activity_content_type(request.headers.get("Content-Type")):
        return _problem(415, "expected application/activity+json")
    body = _read_body(limit)
    if body is None:
        return _problem(413, f"body larger than {limit} bytes")
    base = current_app.config["HUB_BASE_URL"].rstrip("/")
    query = request.query_string.decode("latin-1")
    url = base + request.path + (f"?{query}" if query else "")
    try:
        received = receive(request.method, url, request.headers, body, utcnow())
    except SignatureError as exc:
        current_app.logger.info("inbox refused a request: %s", exc.message)
        return _problem(401, exc.message or "bad signature")
    except DomainBlocked as exc:
        return _problem(403, exc.message or "blocked")
    except FederationError as exc:
        return _problem(400, exc.message or "not an activity")
    db.session.commit()
    if received.created:
        wake_processing()
    return Response("", status=202)


def too_many_requests(_error: Any) -> Response:
    response = _problem(429, "too many requests from this address; retry later")
    response.headers["Retry-After"] = str(_parsed_limit(_rate_limit()).get_expiry())
    return response


@bp.post("/inbox")
def shared_inbox():
    if not _within_rate_limit():
        return too_many_requests(None)
    return _receive()


@bp.post("/actor/inbox")
def instance_inbox():
    """The instance actor's own inbox (its document names it; Mastodon posts a Follow of
    the instance there): the same as the shared inbox."""
    return shared_inbox()


@bp.post("/@<handle>/inbox")
def actor_inbox(handle: str):
    from hub.federation.snapshots import Owner, collection_owner

    if not _within_rate_limit():
        return too_many_requests(None)
    if not isinstance(collection_owner(handle), Owner):
        return _problem(404, "no such actor here")
    return _receive()
