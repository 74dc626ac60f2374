"""Discovery endpoints: WebFinger, host-meta and NodeInfo (the ``discovery`` Blueprint).

The thin shell around ``discovery.py``: reads the handle's owner and the instance's
numbers, builds absolute URLs from HUB_BASE_URL (never from the request's Host), answers
with the documents' media types and ``Access-Control-Allow-Origin: *`` (web clients and
fediverse directories read them from the browser).

Decisions, with the peer behaviour behind each:

- **Suspended accounts** still resolve, as on Mastodon (its WebFinger answers for a
  suspended account and only says 410 once the suspension is permanent): the actor
  document stays served, stripped and marked ``suspended``, so peers can verify what it
  signed and show the suspension. Their avatar link is left out, as from the actor.
- **Deleted accounts** answer 410 Gone — Mastodon's answer for a permanently suspended
  (deleted) account, which makes a Mastodon peer delete its copy instead of keeping a
  stale one; the handle stays reserved, so the answer stays true. Pending accounts do not
  exist yet: 404, as their page.
- **No subscribe link** (``http://ostatus.org/schema/1.0/subscribe``) yet: the instance
  has no remote-interaction page (``/authorize_interaction?uri=…``) to point it at.
- **NodeInfo numbers** are read in one statement of COUNT subqueries and kept
  ``NODEINFO_CACHE_SECONDS`` per process and application (crawlers poll it). ``users``:
  active accounts; ``activeMonth``/``activeHalfyear``: those among them who signed in
  within 30/180 days (``last_login_at``, the schema's own definition). ``localPosts``
  counts every public publication a remote reader could receive — published posts,
  resources, events and discussions (Lemmy counts its threads so) — and
  ``localComments`` the public comments; hidden and deleted rows are not counted.
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import func, select

from hub import __version__
from hub.federation.discovery import (
    JRD_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    XRD_CONTENT_TYPE,
    Avatar,
    HandleResource,
    NodeFacts,
    NodeInfoVersion,
    Resource,
    ResourceError,
    Usage,
    WebfingerSubject,
    acct_uri,
    host_meta_json,
    host_meta_xml,
    instance_username,
    nodeinfo_content_type,
    nodeinfo_document,
    nodeinfo_links,
    parse_resource,
    webfinger_document,
)
from hub.urls import external_url

bp = Blueprint("discovery", __name__)

#: How long a computed NodeInfo is reused by this process.
NODEINFO_CACHE_SECONDS = 300
#: Client cache lifetimes: an answer about an actor, a miss, and the fixed documents.
WEBFINGER_MAX_AGE = 3600
MISS_MAX_AGE = 180
STATIC_MAX_AGE = 86400
#: Account states whose handle resolves (see the module docstring).
RESOLVED_STATUSES = frozenset({"active", "suspended"})

_nodeinfo_lock = threading.Lock()


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _base_url() -> str:
    return current_app.config["HUB_BASE_URL"].rstrip("/")


def _respond(body: str, content_type: str, max_age: int, status: int = 200) -> Response:
    response = Response(body, status=status, content_type=content_type)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _json(document: Any, content_type: str, max_age: int) -> Response:
    return _respond(json.dumps(document, ensure_ascii=False), content_type, max_age)


def _refuse(status: int) -> Response:
    return _respond("", "text/plain; charset=utf-8", MISS_MAX_AGE, status)


# -- WebFinger --------------------------------------------------------------------------------


@bp.get("/.well-known/webfinger")
def webfinger() -> Response:
    try:
        target = parse_resource(request.args.get("resource"), _base_url())
    except ResourceError:
        return _refuse(400)
    if target is None:
        return _refuse(404)
    status, subject = webfinger_subject(target)
    if subject is None:
        return _refuse(status)
    document = webfinger_document(subject, request.args.getlist("rel"))
    return _json(document, JRD_CONTENT_TYPE, WEBFINGER_MAX_AGE)


def _avatar(path: str | None) -> Avatar | None:
    if not path:
        return None
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Avatar(url=external_url("main.media", name=path), media_type=kind)


def webfinger_subject(target: Resource) -> tuple[int, WebfingerSubject | None]:
    """Who a parsed resource names: (200, subject), or (404 | 410, None).

    Organisations first, then accounts, as their shared profile URL resolves them
    (``hub.main.actor``).
    """
    from hub.accounts.queries import find_account_by_handle
    from hub.orgs.queries import find_organisation

    base = _base_url()
    if not isinstance(target, HandleResource):
        return 200, WebfingerSubject(
            subject=acct_uri(instance_username(base), base),
            actor_id=external_url("ap.instance_actor"),
            profile_url=external_url("main.home"))
    org = find_organisation(target.handle)
    if org is not None:
        actor_id = external_url("main.actor", handle=org.handle)
        return 200, WebfingerSubject(subject=acct_uri(org.handle, base), actor_id=actor_id,
                                     profile_url=actor_id, avatar=_avatar(org.logo_path))
    account = find_account_by_handle(target.handle)
    if account is not None and account.status == "deleted":
        return 410, None
    if account is None or account.status not in RESOLVED_STATUSES:
        return 404, None
    actor_id = external_url("main.actor", handle=account.handle)
    avatar = _avatar(account.avatar_path) if account.status == "active" else None
    return 200, WebfingerSubject(subject=acct_uri(account.handle, base), actor_id=actor_id,
                                 profile_url=actor_id, avatar=avatar)


# -- host-meta --------------------------------------------------------------------------------


@bp.get("/.well-known/host-meta")
def host_meta() -> Response:
    return _respond(host_meta_xml(external_url("discovery.webfinger")), XRD_CONTENT_TYPE,
                    STATIC_MAX_AGE)


@bp.get("/.well-known/host-meta.json")
def host_meta_as_json() -> Response:
    return _json(host_meta_json(external_url("discovery.webfinger")), JSON_CONTENT_TYPE,
                 STATIC_MAX_AGE)


# -- NodeInfo ---------------------------------------------------------------------------------


@bp.get("/.well-known/nodeinfo")
def nodeinfo_index() -> Response:
    urls: dict[NodeInfoVersion, str] = {
        "2.1": external_url("discovery.nodeinfo", version="2.1"),
        "2.0": external_url("discovery.nodeinfo", version="2.0"),
    }
    return _json(nodeinfo_links(urls), JSON_CONTENT_TYPE, STATIC_MAX_AGE)


@bp.get("/nodeinfo/<any('2.0', '2.1'):version>")
def nodeinfo(version: NodeInfoVersion) -> Response:
    document = nodeinfo_document(version, node_facts(), __version__)
    return _json(document, nodeinfo_content_type(version), NODEINFO_CACHE_SECONDS)


def node_facts() -> NodeFacts:
    """The instance's NodeInfo facts, read at most once per ``NODEINFO_CACHE_SECONDS`` by
    each process (kept per application, so test apps never share them)."""
    now = time.monotonic()
    with _nodeinfo_lock:
        kept = current_app.extensions.get("hub_nodeinfo")
        if kept is not None and now - kept[0] < NODEINFO_CACHE_SECONDS:
            return kept[1]
        facts = read_node_facts()
        current_app.extensions["hub_nodeinfo"] = (now, facts)
        return facts


def read_node_facts() -> NodeFacts:
    """Settings and counts, the counts in one statement (see the module docstring)."""
    from hub.accounts.models import Account
    from hub.admin.queries import instance_settings
    from hub.content.models import Comment, Discussion, Event, Post, Resource
    from hub.content.visibility import public_clause
    from hub.extensions import db
    from hub.models_base import utcnow
    from hub.orgs.models import Organisation

    def count(model: Any, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    now = utcnow()
    active = Account.status == "active"
    row = db.session.execute(select(
        count(Account, active),
        count(Account, active, Account.last_login_at >= now - timedelta(days=30)),
        count(Account, active, Account.last_login_at >= now - timedelta(days=180)),
        count(Post, public_clause(Post)),
        count(Resource, public_clause(Resource)),
        count(Event, public_clause(Event)),
        count(Discussion, public_clause(Discussion)),
        count(Comment, public_clause(Comment)),
        count(Organisation),
    )).one()
    users, month, halfyear, posts, resources, events, discussions, comments, orgs = row
    settings = instance_settings()
    return NodeFacts(
        name=settings.name, description=settings.description or "",
        registration_mode=settings.registration_mode, default_locale=settings.default_locale,
        organisations=orgs,
        usage=Usage(users_total=users, active_month=month, active_halfyear=halfyear,
                    local_posts=posts + resources + events + discussions,
                    local_comments=comments))
