"""Anonymous page cache: public pages rendered once per content version.

Visitors who are not logged in see the same HTML for a URL and a language, so the page is
kept in this process after its first rendering, keyed by (URL, language, content version).
The content version is one integer in ``instance_settings``; every flush that touches a
model shown on public pages bumps it in the same transaction, so all processes see a new
version the moment the change commits, and the version doubles as the ETag (304 without
rendering). Pages that carry anything personal (a CSRF token, flashed messages, a login)
are never stored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event, update
from sqlalchemy.orm import Session

MAX_ENTRIES = 2048
MAX_BODY = 512 * 1024
#: Pages also depend on the clock (upcoming events, scheduled posts going out, "3 minutes
#: ago"): a cached page and its ETag live at most this long, whatever the version.
MAX_AGE_SECONDS = 60

#: Tables whose rows appear on public pages. Extend as content types arrive.
PUBLIC_TABLES = frozenset({"account", "organisation", "membership", "tag", "org_theme",
                           "instance_settings", "post", "post_tag", "resource", "resource_tag",
                           "shelf", "folder", "discussion", "discussion_tag", "comment",
                           "event", "event_tag", "feed_source", "watch_item", "follow",
                           "remote_object", "remote_actor"})


class LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, str] | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple, value: tuple[bytes, str]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def init_app(app: Any) -> None:
    app.extensions["hub_pages"] = LRU(MAX_ENTRIES)


def _pages() -> LRU:
    from flask import current_app

    return current_app.extensions["hub_pages"]


def content_version() -> int | None:
    """The version read with the request's instance settings (one query serves both)."""
    from sqlalchemy import inspect

    from hub.admin.models import InstanceSettings
    from hub.admin.queries import instance_settings

    settings = instance_settings()
    if isinstance(settings, InstanceSettings) and not inspect(settings).persistent:
        return None  # defaults before ``maillage init``
    return settings.content_version


def _max_age() -> int:
    from flask import current_app

    # Tests set a long age so that two requests never straddle a boundary.
    return current_app.config.get("PAGE_CACHE_MAX_AGE", MAX_AGE_SECONDS)


def _anonymous_request() -> bool:
    return (request.method == "GET" and not current_user.is_authenticated
            and "_flashes" not in session)


def _etag(key: tuple) -> str:
    return hashlib.blake2b(repr(key).encode(), digest_size=10).hexdigest()


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view`` from the cache to anonymous visitors; revalidate with the ETag."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if not _anonymous_request():
            return view(*args, **kwargs)
        version = content_version()
        if version is None:  # before `maillage init`
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()), version,
               int(time.time() // _max_age()))
        etag = _etag(key)
        if request.if_none_match.contains_weak(etag):
            return _finish(Response(status=304), etag)
        hit = _pages().get(key)
        if hit is not None:
            body, mimetype = hit
            return _finish(Response(body, mimetype=mimetype), etag)
        response = make_response(view(*args, **kwargs))
        personal = g.get("csrf_token") is not None or "_flashes" in session
        if response.status_code == 200 and not personal and not response.direct_passthrough:
            body = response.get_data()
            if len(body) <= MAX_BODY:
                _pages().put(key, (body, response.mimetype or "text/html"))
                return _finish(response, etag)
        return response

    return wrapper


def _finish(response: Response, etag: str) -> Response:
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"  # revalidate: the version may change
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def clear() -> None:
    _pages().clear()


# -- keeping the version --------------------------------------------------------------------


#: For these tables only the listed columns show on public pages: a login (which stamps
#: ``last_login_at``) must not empty every cache.
PUBLIC_COLUMNS = {"account": frozenset({"handle", "display_name", "bio_html", "avatar_path",
                                        "status"}),
                  # Polling stamps validators and times at every poll; only these show.
                  "feed_source": frozenset({"url", "title", "site_url", "status"}),
                  # Key fetches stamp fetched_at; only what pages show counts.
                  "remote_actor": frozenset({"name", "handle", "url", "deleted_at"})}


def _touches_public(session: Session) -> bool:
    from sqlalchemy import inspect

    for obj in (*session.new, *session.deleted):
        if getattr(obj, "__tablename__", None) in PUBLIC_TABLES:
            return True
    for obj in session.dirty:
        table = getattr(obj, "__tablename__", None)
        if table not in PUBLIC_TABLES or not session.is_modified(obj):
            continue
        columns = PUBLIC_COLUMNS.get(table)
        if columns is None:
            return True
        state = inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in columns):
            return True
    return False


def _bump(model: Any) -> Any:
    from hub.models_base import utcnow

    return (update(model).where(model.id == 1)
            .values(content_version=model.content_version + 1, content_changed_at=utcnow())
            .execution_options(synchronize_session=False))


def install_version_hooks() -> None:
    """Bump the content version in the transaction of any write to a public table."""
    from hub.admin.models import InstanceSettings

    @event.listens_for(Session, "before_flush")
    def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
        if session.info.get("hub_version_bumped") or not _touches_public(session):
            return
        session.info["hub_version_bumped"] = True
        session.execute(_bump(InstanceSettings))

    @event.listens_for(Session, "do_orm_execute")
    def _bulk(state: Any) -> None:
        if not (state.is_update or state.is_delete) or state.session.info.get(
                "hub_version_bumped"):
            return
        table = getattr(state.bind_mapper, "local_table", None) if state.bind_mapper else None
        if table is not None and table.name in PUBLIC_TABLES - {"instance_settings"}:
            state.session.info["hub_version_bumped"] = True
            state.session.execute(_bump(InstanceSettings))

    @event.listens_for(Session, "after_commit")
    @event.listens_for(Session, "after_rollback")
    def _reset(session: Session) -> None:
        session.info.pop("hub_version_bumped", None)
