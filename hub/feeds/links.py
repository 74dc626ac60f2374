"""Which feeds a page announces, and the lists of feeds of the instance and organisations.

``feed_links`` is a template global: ``base.html`` turns its answer into
``<link rel="alternate">`` tags and a visible "Subscribe" line, so every page that has a
feed announces it without each view having to remember.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from jinja2 import pass_context
from sqlalchemy import select

from hub.extensions import db
from hub.feeds.entries import Outline
from hub.urls import external_url

TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml",
         "json": "application/feed+json", "ics": "text/calendar"}
LABELS = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed", "ics": "iCalendar"}


@dataclass(frozen=True)
class FeedLink:
    title: str
    href: str
    fmt: str

    @property
    def type(self) -> str:
        return TYPES[self.fmt]

    @property
    def label(self) -> str:
        return LABELS[self.fmt]


@dataclass(frozen=True)
class FeedGroup:
    """One subject (e.g. "News of Collectif") in its formats."""

    title: str
    links: tuple[FeedLink, ...]


def _formats(title: str, endpoint: str, **values: Any) -> tuple[FeedLink, ...]:
    return tuple(FeedLink(title, url_for(endpoint, fmt=fmt, **values), fmt)
                 for fmt in ("atom", "rss", "json"))


def _calendar(title: str, endpoint: str, **values: Any) -> FeedLink:
    return FeedLink(title, url_for(endpoint, **values), "ics")


def _args(*names: str) -> dict[str, Any]:
    return {name: request.args.getlist(name) for name in names if request.args.get(name)}


def instance_groups(name: str) -> list[FeedGroup]:
    return [
        FeedGroup(_("Everything on %(name)s", name=name), _formats(name, "feeds.instance_feed")),
        FeedGroup(_("News"), _formats(_("News"), "feeds.instance_feed", kind="post")),
        FeedGroup(_("Library"), _formats(_("Library"), "feeds.catalogue_feed")),
        FeedGroup(_("Discussions"), _formats(_("Discussions"), "feeds.instance_feed",
                                             kind="discussion")),
        FeedGroup(_("Agenda"), (_calendar(_("Agenda"), "feeds.instance_calendar"),)),
    ]


def org_groups(org: Any) -> list[FeedGroup]:
    handle = org.handle
    return [
        FeedGroup(_("Everything from %(name)s", name=org.name),
                  _formats(org.name, "feeds.actor_feed", handle=handle)),
        FeedGroup(_("News"), _formats(_("News of %(name)s", name=org.name),
                                      "feeds.actor_feed", handle=handle, kind="post")),
        FeedGroup(_("Library"), _formats(_("Library of %(name)s", name=org.name),
                                         "feeds.catalogue_feed", org=handle)),
        FeedGroup(_("Discussions"), _formats(_("Discussions of %(name)s", name=org.name),
                                             "feeds.actor_feed", handle=handle,
                                             kind="discussion")),
        FeedGroup(_("Agenda"), (_calendar(_("Agenda of %(name)s", name=org.name),
                                          "feeds.org_calendar", handle=handle),)),
    ]


def instance_feed_links() -> list[FeedGroup]:
    from hub.admin.queries import instance_settings

    return instance_groups(instance_settings().name)


def org_feed_links(org: Any) -> list[FeedGroup]:
    return org_groups(org)


def all_feeds_of_orgs() -> list[Outline]:
    """The Atom feed of every organisation, by name: the OPML export."""
    from hub.orgs.models import Organisation

    rows = db.session.execute(select(Organisation.handle, Organisation.name,
                                     Organisation.summary).order_by(Organisation.name_key))
    return [Outline(title=name, xml_url=external_url("feeds.actor_feed", handle=handle,
                                                     fmt="atom"),
                    html_url=external_url("main.actor", handle=handle), description=summary)
            for handle, name, summary in rows]


# -- what a page announces -------------------------------------------------------------------

_ORG_KIND = {"posts.org_posts": "post", "posts.post": "post",
             "discussions.org_discussions": "discussion"}


def _for_org(org: Any, endpoint: str) -> list[FeedLink]:
    handle = org.handle
    if endpoint in {"resources.library", "resources.folder"}:
        return list(_formats(_("Library of %(name)s", name=org.name), "feeds.catalogue_feed",
                             org=handle))
    if endpoint in {"events.org_agenda", "events.event"}:
        return [_calendar(_("Agenda of %(name)s", name=org.name), "feeds.org_calendar",
                          handle=handle)]
    kind = _ORG_KIND.get(endpoint)
    if kind == "post":
        return list(_formats(_("News of %(name)s", name=org.name), "feeds.actor_feed",
                             handle=handle, kind="post"))
    if kind == "discussion":
        return list(_formats(_("Discussions of %(name)s", name=org.name),
                             "feeds.actor_feed", handle=handle, kind="discussion"))
    return list(_formats(org.name, "feeds.actor_feed", handle=handle))


def _links(context: Any) -> list[FeedLink]:
    endpoint = request.endpoint or ""
    if endpoint in {"main.home", "feeds.index"}:
        from hub.admin.queries import instance_settings

        name = instance_settings().name
        return [*_formats(name, "feeds.instance_feed"),
                _calendar(_("Agenda"), "feeds.instance_calendar")]
    if endpoint == "events.agenda":
        return [_calendar(_("Agenda"), "feeds.instance_calendar")]
    if endpoint == "themes.theme" and context.get("theme") is not None:
        tag = context["theme"]
        return [*_formats(f"#{tag.label}", "feeds.theme_feed", slug=tag.slug),
                _calendar(_("Agenda"), "feeds.theme_calendar", slug=tag.slug)]
    if endpoint == "resources.catalogue":
        return list(_formats(_("Library"), "feeds.catalogue_feed",
                             **_args("theme", "org", "lang")))
    if endpoint == "resources.resource":
        return list(_formats(_("Library"), "feeds.catalogue_feed"))
    if endpoint == "search.search":
        if not request.args.get("q", "").strip():
            return []
        return list(_formats(_("Search: %(q)s", q=request.args["q"].strip()[:200]),
                             "feeds.search_feed", **_args("q", "kind", "theme", "org",
                                                          "lang")))
    discussion = context.get("discussion")
    if endpoint == "discussions.discussion" and discussion is not None:
        org = context.get("org")
        if discussion.visibility != "public" or org is None:
            return []
        return list(_formats(_("Comments on %(title)s", title=discussion.title),
                             "feeds.discussion_feed", handle=org.handle,
                             discussion_id=discussion.id))
    event = context.get("event")
    if endpoint == "events.event" and event is not None and event.visibility == "public":
        return [_calendar(event.title, "feeds.event_calendar", handle=event.org.handle,
                          event_id=event.id), *_for_org(event.org, endpoint)]
    org = context.get("org")
    if org is not None and hasattr(org, "handle") and request.method == "GET" and (
            endpoint == "main.actor" or endpoint in _PAGES_OF_ORG):
        return _for_org(org, endpoint)
    account = context.get("account")
    if endpoint == "main.actor" and account is not None:
        return list(_formats(account.name, "feeds.actor_feed", handle=account.handle))
    return []


_PAGES_OF_ORG = frozenset({"posts.org_posts", "posts.post", "resources.library",
                           "resources.folder", "discussions.org_discussions",
                           "events.org_agenda", "feeds.org_feeds"})


@pass_context
def feed_links(context: Any) -> Sequence[FeedLink]:
    """The feeds of the page being rendered (the first is the main one)."""
    return _links(context)


def init_app(app: Any) -> None:
    app.add_template_global(feed_links, "feed_links")
