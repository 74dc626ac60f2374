"""A world whose every user-written text is one hostile source, and the pages that show it.

``seed_world(source)`` writes ``source`` (cut to each field's limit) into every text field
members can fill in, through the real services, as their users would; ``world_pages``
lists every page that shows those texts. The tests in ``test_hostile_pages.py`` fetch them
all and judge each with ``tests.plugins.hostile.assert_nothing_executable``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from hub.errors import ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow

#: URLs that pass the "http(s) address" checks yet try to break out of an attribute.
HOSTILE_URLS = (
    'https://evil.example/"><script>alert(1)</script>',
    "https://evil.example/'onmouseover='alert(1)",
    'https://evil.example/"onfocus="alert(1)"autofocus="',
    "https://evil.example/?q=<svg/onload=alert(1)>",
    "https://evil.example/javascript:alert(1)",
)
WORD_RE = re.compile(r"[A-Za-z]{3,}")


def fit(source: str, limit: int) -> str:
    """``source`` cut to ``limit``, never blank (required fields must not refuse it)."""
    text = source[:limit]
    if not text.strip():
        text = ("x " + source)[:limit]
    return text


def label_of(source: str, limit: int = 60) -> str:
    """A theme label from ``source`` that still has a letter or digit (a slug)."""
    text = " ".join(source.split())[: limit - 2]
    return text if re.search(r"[A-Za-z0-9]", text) else ("t " + text)[:limit]


def first_valid(check, candidates):
    """The first candidate the service accepts (``check`` raises ValidationFailed)."""
    for value in candidates:
        try:
            return check(value)
        except ValidationFailed:
            db.session.rollback()
    raise AssertionError("no candidate accepted")


@dataclass
class World:
    source: str
    owner: object = None
    reader: object = None
    org: object = None
    ids: dict = field(default_factory=dict)
    tag_slugs: list = field(default_factory=list)
    thesaurus_id: int | None = None
    folder_slug: str = ""
    words: list = field(default_factory=list)


def seed_world(app, make_account, source: str, url_turn: int = 0,
               pieces: Sequence[str] = ()) -> World:
    """Every text field of the instance filled with ``source`` (or the most of it allowed).

    Short fields (names, titles, places) cannot hold a whole corpus file: with ``pieces``
    (its single cases) each short field takes the next piece instead of a cut ``source``.

    Web address fields take ``source`` when it passes their check, else one of
    ``HOSTILE_URLS`` (``url_turn`` picks which, so a run of cases tries them all).
    """
    from hub.accounts.services import ProfileChange, update_profile
    from hub.content.comments.services import add_comment
    from hub.content.discussions.services import DiscussionDraft, open_discussion
    from hub.content.events.services import EventDraft, create_event
    from hub.content.models import Tag
    from hub.content.posts.services import PostDraft, create_post
    from hub.content.resources.services import ResourceDraft, create_folder, share_resource
    from hub.content.themes import ThemeDraft, save_theme
    from hub.orgs.models import Membership
    from hub.orgs.services import OrgDraft, found_organisation

    world = World(source=source)
    turns = itertools.count()

    def short(limit: int) -> str:
        return fit(pieces[next(turns) % len(pieces)] if pieces else source, limit)

    turn = url_turn % len(HOSTILE_URLS)
    urls = HOSTILE_URLS[turn:] + HOSTILE_URLS[:turn]
    world.words = WORD_RE.findall(source)[:1]
    owner = make_account("owner", role="admin")
    reader = make_account("reader")
    world.owner, world.reader = owner, reader
    with app.test_request_context():
        # People: display names and bios.
        for person in (owner, reader):
            update_profile(person, ProfileChange(display_name=short(100), bio=source,
                                                 locale=None))
        # The thesaurus: a theme whose labels and description are the source.
        label = label_of(short(60))
        theme = save_theme(owner, None, ThemeDraft(label=label, label_en=label, label_fr=label,
                                                   description=source))
        world.thesaurus_id = theme.id
        db.session.commit()

        # The organisation: name, summary, description, website, address, themes.
        def found(website: str):
            org = found_organisation(owner, "collectif", OrgDraft(
                name=short(120), summary=short(300), description=source,
                website=website, address=short(300), themes=source[:1000]))
            db.session.flush()
            return org

        org = first_valid(found, (source.strip()[:300], *urls))
        world.org = org
        db.session.add(Membership(org_id=org.id, account_id=reader.id, role="member"))
        db.session.commit()

        mention = "@reader\n\n"
        post = create_post(owner, org, PostDraft(
            title=short(200), summary=short(500), body=mention + source,
            themes=source[:1000], status="published"))
        world.ids["post"] = post.id
        db.session.commit()

        folder = create_folder(owner, org, short(120), description=source)
        world.folder_slug = folder.slug
        db.session.commit()

        def share(url: str):
            resource = share_resource(reader, org, ResourceDraft(
                kind="link", title=short(300), authors=source[:2000],
                publisher=short(200), abstract=mention + source[:19_000],
                source_url=url, themes=(theme.slug,), keywords=source[:1000],
                folder_id=folder.id))
            db.session.flush()
            return resource

        link = first_valid(share, (source.strip()[:2000], *urls))
        world.ids["link"], world.ids["link_url"] = link.id, link.source_url
        note = share_resource(owner, org, ResourceDraft(
            kind="note", title=short(300), body=fit(source, 100_000),
            abstract=source[:20_000], keywords=source[:1000]))
        world.ids["note"] = note.id
        db.session.commit()

        discussion = open_discussion(reader, org, DiscussionDraft(
            title=short(200), body=mention + source, themes=source[:1000]))
        world.ids["discussion"] = discussion.id
        db.session.commit()

        start = (utcnow() + timedelta(days=3)).date()

        def announce(url: str):
            event = create_event(owner, org, EventDraft(
                title=short(200), start_date=start, start_time=time(18),
                end_date=start, end_time=time(20), description=mention + source,
                place_name=short(200), address=short(300), online_url=url,
                themes=source[:1000]))
            db.session.flush()
            return event

        event = first_valid(announce, (source.strip()[:2000], *urls))
        world.ids["event"], world.ids["event_url"] = event.id, event.online_url
        past = create_event(owner, org, EventDraft(
            title=short(200), start_date=date(2020, 1, 1), start_time=time(9),
            end_date=date(2020, 1, 1), end_time=time(10), description=source))
        world.ids["past_event"] = past.id
        db.session.commit()

        # Comments under every kind of item; the reader wrote the discussion and the
        # link, so these are "reply" notifications carrying the source as excerpt.
        body = fit(source, 10_000)
        top = add_comment(owner, "discussion", discussion, body)
        add_comment(reader, "discussion", discussion, body, parent=top)
        add_comment(owner, "resource", link, body + "\n\n@reader")
        add_comment(reader, "post", post, body)
        add_comment(reader, "event", event, body)
        world.ids["comment"] = top.id
        db.session.commit()

        # The thesaurus theme and a few free keywords (whole files make dozens).
        world.tag_slugs = [theme.slug, *sorted(db.session.scalars(
            db.select(Tag.slug).where(Tag.id != theme.id)))[:2]]
    return world


def world_pages(world: World) -> list[str]:
    """Every page that shows what ``seed_world`` wrote (for a logged-in organisation owner)."""
    handle = world.org.handle
    ids = world.ids
    pages = [
        "/", "/orgs", f"/@{handle}", f"/orgs/{handle}/edit", f"/orgs/{handle}/members",
        f"/@{handle}/news", f"/@{handle}/news/{ids['post']}",
        f"/@{handle}/news/{ids['post']}/edit",
        "/library", f"/library/{ids['link']}",
        f"/library/{ids['note']}", f"/library/{ids['link']}/edit",
        f"/library/{ids['note']}/edit", f"/@{handle}/library",
        f"/@{handle}/library/{world.folder_slug}",
        f"/@{handle}/discussions", f"/@{handle}/discussions/{ids['discussion']}",
        f"/comments/{ids['comment']}", f"/comments/{ids['comment']}/edit",
        "/agenda", f"/@{handle}/agenda",
        f"/@{handle}/events/{ids['event']}", f"/@{handle}/events/{ids['event']}/edit",
        f"/@{handle}/events/{ids['past_event']}",
        "/themes", *[f"/themes/{slug}" for slug in world.tag_slugs],
        "/admin/themes", f"/admin/themes/{world.thesaurus_id}",
        f"/@{handle}/stats", "/@owner", "/me", "/settings/profile",
        "/notifications",
    ]
    queries = [world.source[:200], *world.words, "alert"]
    pages += [f"/search?{_query(q)}" for q in queries]
    return pages


def _query(q: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": q})
