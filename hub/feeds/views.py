"""Outgoing feeds: RSS, Atom and JSON Feed for every list, iCalendar for agendas, OPML.

Feeds are public and the same for everyone (a logged-in member gets what a feed reader
gets), so they are cached by any proxy and answered with 304 from the validators alone
(``hub/feeds/http.py``).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hub.admin.queries import instance_settings
from hub.content.models import Discussion, Event
from hub.content.visibility import public_clause
from hub.extensions import db
from hub.feeds import http, queries
from hub.feeds.links import all_feeds_of_orgs, org_feed_links
from hub.models_base import utcnow
from hub.pagecache import public_page
from hub.urls import external_url

bp = Blueprint("feeds", __name__)

FORMATS = "any(rss, atom, json)"


def _limit() -> int:
    raw = request.args.get("limit", "").strip()
    if not raw:
        return queries.DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        abort(400, _("The limit must be a whole number between 1 and %(max)d.",
                     max=queries.MAX_LIMIT))
    return min(int(raw), queries.MAX_LIMIT)


def _kinds() -> tuple[str, ...]:
    asked = tuple(kind for kind in request.args.getlist("kind") if kind)
    unknown = [kind for kind in asked if kind not in queries.KINDS]
    if unknown:
        abort(400, _("Unknown kind of content: %(kinds)s.", kinds=", ".join(unknown)[:100]))
    return asked or queries.KINDS


def _in_instance_language(build):
    """Feeds are one document per URL, whoever asks: written in the instance's language."""

    def built() -> bytes:
        with force_locale(_language()):
            return build()

    return built


def _render(fmt: str, feed_of) -> object:
    from hub.feeds.build import render

    return http.conditional(fmt, _in_instance_language(lambda: render(fmt, feed_of())))


def _self_url() -> str:
    """This feed's absolute URL on HUB_BASE_URL, query included (never the Host header)."""
    url = external_url(request.endpoint, **(request.view_args or {}))
    query = request.query_string.decode("ascii", "replace")
    return f"{url}?{query}" if query else url


def _language() -> str:
    return instance_settings().default_locale or "fr"


def _changed_at():
    return instance_settings().content_changed_at


# -- Atom, RSS, JSON Feed --------------------------------------------------------------------


@bp.get(f"/feed.<{FORMATS}:fmt>")
def instance_feed(fmt: str):
    limit, kinds = _limit(), _kinds()

    def feed():
        settings = instance_settings()
        return queries.make_feed(
            key="instance", title=settings.name, url=external_url("main.home"),
            feed_url=_self_url(), description=settings.description or settings.name,
            language=_language(),
            entries=queries.scope_entries(queries.Scope(), kinds, limit),
            changed_at=_changed_at(), author_name=settings.name)

    return _render(fmt, feed)


def _actor(handle: str):
    from hub.accounts.queries import find_account_by_handle
    from hub.orgs.queries import find_organisation

    org = find_organisation(handle)
    if org is not None:
        return org, None
    account = find_account_by_handle(handle)
    if account is None or account.status != "active":
        abort(404)
    return None, account


@bp.get(f"/@<handle>/feed.<{FORMATS}:fmt>")
def actor_feed(handle: str, fmt: str):
    limit, kinds = _limit(), _kinds()

    def feed():
        org, account = _actor(handle)  # only on a miss: a 304 needs no row (http.py)
        if org is not None:
            scope, title, key = queries.Scope(org=org), org.name, f"org:{org.id}"
            description = org.summary or org.name
            icon = f"{external_url('main.media', name=org.logo_path)}" if org.logo_path else ""
        else:
            scope, title, key = queries.Scope(account=account), account.name, \
                f"account:{account.id}"
            description = _("Published by %(name)s", name=account.name)
            icon = external_url("main.media", name=account.avatar_path) \
                if account.avatar_path else ""
        return queries.make_feed(
            key=key, title=title, url=external_url("main.actor", handle=handle),
            feed_url=_self_url(), description=description, language=_language(),
            entries=queries.scope_entries(scope, kinds, limit), changed_at=_changed_at(),
            icon=icon, author_name=title)

    return _render(fmt, feed)


def _theme(slug: str):
    from hub.content.theme_queries import get_theme

    return get_theme(slug)


@bp.get(f"/themes/<slug>/feed.<{FORMATS}:fmt>")
def theme_feed(slug: str, fmt: str):
    limit, kinds = _limit(), _kinds()

    def feed():
        tag = _theme(slug)
        if tag.slug != slug:
            abort(redirect(url_for("feeds.theme_feed", slug=tag.slug, fmt=fmt,
                                   **request.args.to_dict(flat=False)), 301))
        return queries.make_feed(
            key=f"theme:{tag.id}", title=f"#{tag.label} — {instance_settings().name}",
            url=external_url("themes.theme", slug=tag.slug), feed_url=_self_url(),
            description=tag.description or tag.label, language=_language(),
            entries=queries.scope_entries(queries.Scope(tag=tag), kinds, limit),
            changed_at=_changed_at())

    return _render(fmt, feed)


@bp.get(f"/@<handle>/discussions/<int:discussion_id>/feed.<{FORMATS}:fmt>")
def discussion_feed(handle: str, discussion_id: int, fmt: str):
    from hub.orgs.queries import get_organisation

    limit = _limit()

    def feed():
        org = get_organisation(handle)
        discussion = db.session.scalar(select(Discussion).where(
            Discussion.id == discussion_id, Discussion.org_id == org.id,
            public_clause(Discussion)).options(joinedload(Discussion.org)))
        if discussion is None:
            abort(404)
        return queries.make_feed(
            key=f"discussion:{discussion.id}", title=f"{discussion.title} — {org.name}",
            url=external_url("discussions.discussion", handle=org.handle,
                             discussion_id=discussion.id),
            feed_url=_self_url(), description=discussion.title, language=_language(),
            entries=queries.discussion_comments(discussion, limit),
            changed_at=_changed_at(), author_name=org.name)

    return _render(fmt, feed)


@bp.get(f"/library/feed.<{FORMATS}:fmt>")
def catalogue_feed(fmt: str):
    from hub.content.theme_queries import find_theme
    from hub.orgs.queries import find_organisation

    limit = _limit()
    language = request.args.get("lang", "").strip().lower()
    if language and not (len(language) == 2 and language.isalpha()):
        abort(400, _("Give the language as a two-letter code (ISO 639-1)."))

    def feed():
        tag = org = None
        if request.args.get("theme"):
            tag = find_theme(request.args["theme"][:60])
            if tag is None:
                abort(404)
        if request.args.get("org"):
            org = find_organisation(request.args["org"].strip().lstrip("@")[:30])
            if org is None:
                abort(404)
        parts = [_("Library"), instance_settings().name]
        if org is not None:
            parts.insert(1, org.name)
        if tag is not None:
            parts.insert(1, f"#{tag.label}")
        if language:
            parts.insert(1, language)
        return queries.make_feed(
            key="catalogue", title=" — ".join(parts),
            url=external_url("resources.catalogue"), feed_url=_self_url(),
            description=_("New resources in the library"), language=_language(),
            entries=queries.catalogue_entries(limit, tag=tag, org=org, language=language),
            changed_at=_changed_at())

    return _render(fmt, feed)


@bp.get(f"/search/feed.<{FORMATS}:fmt>")
def search_feed(fmt: str):
    """A saved search: the newest public results of the query, whoever asks."""
    from hub.content.search import queries as search_queries

    q = request.args.get("q", "").strip()[:200]
    if not q:
        abort(400, _("A search feed needs words to look for (q=…)."))
    filters = search_queries.SearchFilters(
        q=q, kinds=tuple(k for k in request.args.getlist("kind")
                         if k in search_queries.KINDS),
        theme=request.args.get("theme", "").strip()[:60],
        org_handle=request.args.get("org", "").strip().lstrip("@")[:30],
        language=request.args.get("lang", "").strip().lower()[:2], sort="newest")
    limit = min(_limit(), search_queries.PAGE_SIZE)

    def feed():
        results = search_queries.search(filters, None)
        hits = results.hits[:limit]
        full = queries.entries_for_documents([(hit.kind, hit.object_id) for hit in hits])
        entries = tuple(full.get((hit.kind, hit.object_id)) or queries.search_hit_entry(hit)
                        for hit in hits)
        return queries.make_feed(
            key=f"search:{q}", title=_("Search: %(q)s", q=q) + f" — {instance_settings().name}",
            url=external_url("search.search") + "?" + request.query_string.decode(
                "ascii", "replace"),
            feed_url=_self_url(), description=_("New results for “%(q)s”", q=q),
            language=_language(), entries=entries, changed_at=_changed_at())

    return _render(fmt, feed)


# -- iCalendar -------------------------------------------------------------------------------


def _render_calendar(head, events, filename: str):
    """``head`` gives (name, description, page URL), called in the instance's language."""
    from hub.feeds.build import render_ical

    def build() -> bytes:
        labels = {"online": _("Online"), "organiser": _("Organised by")}
        return render_ical(queries.make_calendar(*head(), events()), labels=labels)

    return http.conditional("ics", _in_instance_language(build), filename=filename)


@bp.get("/agenda.ics")
def instance_calendar():
    settings = instance_settings()
    return _render_calendar(
        lambda: (settings.name, _("Events on %(name)s", name=settings.name),
                 external_url("events.agenda")),
        lambda: queries.calendar_events(utcnow()), "agenda.ics")


@bp.get("/@<handle>/agenda.ics")
def org_calendar(handle: str):
    from hub.orgs.queries import get_organisation

    def head():
        org = get_organisation(handle)
        return (org.name, _("Events of %(name)s", name=org.name),
                external_url("events.org_agenda", handle=org.handle))

    return _render_calendar(
        head, lambda: queries.calendar_events(utcnow(), org=get_organisation(handle)),
        f"{handle}.ics")


@bp.get("/themes/<slug>/agenda.ics")
def theme_calendar(slug: str):
    def head():
        tag = _theme(slug)
        if tag.slug != slug:
            abort(redirect(url_for("feeds.theme_calendar", slug=tag.slug), 301))
        return (f"#{tag.label}", _("Events about #%(theme)s", theme=tag.label),
                external_url("themes.theme", slug=tag.slug))

    return _render_calendar(
        head, lambda: queries.calendar_events(utcnow(), tag=_theme(slug)), f"{slug}.ics")


@bp.get("/@<handle>/events/<int:event_id>.ics")
def event_calendar(handle: str, event_id: int):
    from sqlalchemy.orm import selectinload

    from hub.orgs.queries import get_organisation

    def find():
        org = get_organisation(handle)
        event = db.session.scalar(select(Event).where(
            Event.id == event_id, Event.org_id == org.id, public_clause(Event))
            .options(joinedload(Event.org), selectinload(Event.themes)))
        if event is None:
            abort(404)
        return event

    def head():
        event = find()
        return (event.title, event.org.name,
                external_url("events.event", handle=event.org.handle, event_id=event.id))

    return _render_calendar(head, lambda: (queries.calendar_event(find()),),
                            f"event-{event_id}.ics")


# -- lists of feeds --------------------------------------------------------------------------


@bp.get("/feeds/organisations.opml")
def opml():
    """One file that subscribes a reader to every organisation of the instance."""
    from hub.feeds.build import render_opml

    def build() -> bytes:
        settings = instance_settings()
        return render_opml(_("Organisations of %(name)s", name=settings.name),
                           all_feeds_of_orgs(), settings.content_changed_at or utcnow())

    return http.conditional("opml", _in_instance_language(build),
                            filename="organisations.opml")


@bp.get("/feeds")
@public_page
def index():
    from hub.feeds.links import instance_feed_links

    return render_template("feeds/index.html", links=instance_feed_links())


@bp.get("/@<handle>/feeds")
@public_page
def org_feeds(handle: str):
    from hub.orgs.queries import get_organisation

    org = get_organisation(handle)
    return render_template("feeds/org.html", org=org, links=org_feed_links(org))
