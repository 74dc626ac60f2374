"""The hostile-HTML corpus through every page that shows what members write: nothing
executable survives, and text is escaped exactly once.

``tests/unit/test_sanitize_corpus.py`` proves the sanitiser; this proves the templates:
a wrong ``|safe``, an unquoted attribute, a snippet or an excerpt built from escaped text
would show here. Each case fills every user-writable text field through the real services
(``hostile_support.seed_world``), then every page that shows them is fetched and judged
whole by ``assert_nothing_executable``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.notifications.models import Notification
from tests.integration.hostile_support import seed_world, world_pages
from tests.integration.orgs_support import client_for
from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable, problems

_BY_NAME = dict(CORPUS_CASES)
#: Each corpus file whole, in every long field, its single cases spread over the short
#: fields (titles keep 200 characters, names 120); ``test_every_single_case_...`` below
#: also takes every case, one at a time, through titles, summaries, texts and comments.
REPRESENTATIVE = [name for name in _BY_NAME if name.endswith(":whole")]
CASES = [(name, _BY_NAME[name]) for name in REPRESENTATIVE]


def pieces_of(name: str) -> list[str]:
    """The single cases of the corpus file a ``<file>:whole`` case is made of."""
    stem = name.partition(":")[0]
    return [source for case, source in CORPUS_CASES
            if case.partition(":")[0] == stem and not case.endswith(":whole")]
NEXT_RE = re.compile(r'<a href="([^"]+)"[^>]*>(?:Older news|More comments)</a>')


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def judge(browser, path: str, problems_found: dict) -> str:
    """Fetch ``path`` (it must answer 200) and note what executable markup it holds."""
    response = browser.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.get_data(as_text=True)
    found = problems(html, page=True)
    if found:
        problems_found[path] = found
    return html


@pytest.mark.parametrize(("name", "source"), CASES, ids=[c[0] for c in CASES])
def test_every_page_showing_member_text_is_inert(app, client, make_account, run_jobs,
                                                 mailbox, name, source):
    world = seed_world(app, make_account, source, url_turn=REPRESENTATIVE.index(name),
                       pieces=pieces_of(name))
    run_jobs()
    found: dict = {}
    owner = client_for(app, world.owner)
    for path in world_pages(world):
        judge(owner, path, found)
    reader = client_for(app, world.reader)
    discussion = f"/@{world.org.handle}/discussions/{world.ids['discussion']}"
    for path in ("/notifications", discussion, f"{discussion}/edit",
                 f"/library/{world.ids['link']}/edit"):
        judge(reader, path, found)
    # Visitors get the cached public pages: the stored copy is judged too.
    for path in ("/", "/library", f"/@{world.org.handle}",
                 f"/@{world.org.handle}/news/{world.ids['post']}"):
        judge(client, path, found)
        judge(client, path, found)
    assert not found, found
    # The web addresses were given (the source itself or one of HOSTILE_URLS), not left out.
    assert world.org.website and world.ids["link_url"] and world.ids["event_url"]
    # Notifications went out by e-mail, as plain text only.
    messages = mailbox.messages()
    assert messages and all(m.get_content_type() == "text/plain" for m in messages)


def _pages(browser, first: str, found: dict) -> int:
    """Judge ``first`` and every page its "older" / "more comments" links lead to."""
    path, seen = first, 0
    while path:
        html = judge(browser, path, found)
        seen += 1
        match = NEXT_RE.search(html)
        path = match.group(1).replace("&amp;", "&") if match else None
    return seen


def test_every_single_case_in_titles_summaries_and_comments(app, client, make_account,
                                                              make_org):
    """All the corpus at once: each case is the title, summary and text of a post and the
    text of a comment; the news pages and the comment pages show them all, side by side."""
    from hub.content.comments.services import add_comment
    from hub.content.posts.services import PostDraft, create_post
    from tests.integration.hostile_support import fit

    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    with app.test_request_context():
        first = None
        for _name, source in CORPUS_CASES:
            post = create_post(owner, org, PostDraft(
                title=fit(source, 200), summary=fit(source, 500), body=source,
                status="published"))
            first = first or post
            add_comment(owner, "post", first, fit(source, 10_000))
        db.session.commit()
    found: dict = {}
    pages = _pages(client, f"/@{org.handle}/news", found)
    pages += _pages(client, f"/@{org.handle}/news/{first.id}", found)
    for q in ("alert", "javascript", "onerror", "script"):
        judge(client, f"/search?q={q}", found)
    assert not found, found
    assert pages >= len(CORPUS_CASES) // 20


# -- forms: what a browser posts, and the pages that echo it back ----------------------------


@pytest.mark.parametrize(("name", "source"), CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_forms_and_their_error_pages_are_inert(app, client, make_account, make_org, login,
                                               name, source):
    from tests.integration.hostile_support import fit, label_of

    owner = make_account("owner", role="admin")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    login(owner)
    text = fit(source, 200)
    pages = []
    # Written through the forms, then shown: a theme of the thesaurus, a shared note and
    # a comment under it.
    label = label_of(source)
    pages.append(client.post("/admin/themes/new", data={
        "label": label, "label_fr": label, "label_en": label, "parent_id": "0",
        "description": source[:5000]}, follow_redirects=True))
    pages.append(client.post(f"/@{org.handle}/library/new", data={
        "kind": "note", "title": fit(source, 300), "body": source, "authors": source[:2000],
        "publisher": fit(source, 200), "abstract": source[:20_000],
        "keywords": source[:1000], "visibility": "public", "source_url": "",
        "date_published": "", "language": "", "doc_type": "", "licence": "",
        "folder_id": ""}, follow_redirects=True))
    note = pages[-1].request.path
    assert note.startswith("/library/"), note
    pages.append(client.post(f"/comments/resource/{note.rsplit('/', 1)[1]}",
                             data={"body": fit(source, 10_000)}, follow_redirects=True))
    from hub.content.models import Comment, Tag

    assert db.session.scalar(select(Comment.id)) is not None
    assert db.session.scalar(select(Tag.id).where(Tag.is_thesaurus)) is not None
    for path in ("/admin/themes", "/themes", "/library", f"/@{org.handle}/library"):
        pages.append(client.get(path))
    # A preview echoes Markdown back; an error page echoes every field.
    pages.append(client.post("/preview", data={"source": source}))
    pages.append(client.post(f"/@{org.handle}/news/new", data={
        "title": "", "summary": source, "body": source, "themes": source[:1000],
        "visibility": "public", "status": "published", "timezone": "Europe/Paris"}))
    pages.append(client.post(f"/@{org.handle}/discussions/new", data={
        "title": text, "body": source, "visibility": "public", "preview": "1"}))
    pages.append(client.post(f"/@{org.handle}/events/new", data={
        "title": text, "description": source, "place_name": source[:200],
        "address": source[:300], "online_url": source[:2000], "start_date": "",
        "timezone": "Europe/Paris", "status": "confirmed", "visibility": "public"}))
    pages.append(client.post(f"/orgs/{org.handle}/edit", data={
        "name": source[:120], "summary": source[:300], "description": source,
        "website": source[:300], "address": source[:300], "themes": source[:1000]},
        follow_redirects=True))
    pages.append(client.post("/settings/profile", data={
        "display_name": source[:100], "bio": source[:5000], "locale": "",
        "timezone": "Europe/Paris"}, follow_redirects=True))
    pages.append(client.get("/search", query_string={"q": source[:200]}))
    for response in pages:
        assert response.status_code in (200, 400), response.status_code
        html = response.get_data(as_text=True)
        assert_nothing_executable(html, page=html.lstrip().lower().startswith("<!doctype"))


# -- text shown once escaped, never twice --------------------------------------------------

PLAIN = 'Tom & Jerry say "a < b" & \'c > d\''


def test_text_is_escaped_once_everywhere(app, make_account, run_jobs, mailbox):
    """A title with &, <, > and quotes reads the same on every page and in e-mails:
    escaped twice it would show "&amp;amp;", not escaped it would be markup."""
    from bleach._vendor import html5lib

    world = seed_world(app, make_account, PLAIN)
    run_jobs()
    owner = client_for(app, world.owner)
    reader = client_for(app, world.reader)
    must_show = {
        "/": owner, f"/@{world.org.handle}": owner,
        f"/@{world.org.handle}/news/{world.ids['post']}": owner,
        f"/library/{world.ids['link']}": owner, "/library": owner,
        f"/@{world.org.handle}/discussions/{world.ids['discussion']}": owner,
        f"/@{world.org.handle}/events/{world.ids['event']}": owner, "/agenda": owner,
        "/notifications": reader, f"/themes/{world.tag_slugs[0]}": owner,
        "/search?q=Jerry": owner, f"/@{world.org.handle}/stats": owner,
    }
    wrong = {}
    for path, browser in must_show.items():
        html = browser.get(path).get_data(as_text=True)
        tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
        text = " ".join(" ".join(tree.itertext()).split())
        if "&amp;" in text or "&lt;" in text or "&quot;" in text or "Tom & Jerry" not in text:
            wrong[path] = text[:2000]
    assert not wrong, (sorted(wrong), wrong)
    notes = db.session.scalars(select(Notification.excerpt)).all()
    assert notes and all("&amp;" not in note and "&lt;" not in note for note in notes), notes
    bodies = [m.get_content() for m in mailbox.messages()
              if m.get_content_type() == "text/plain"]
    assert any("Tom & Jerry" in body for body in bodies), bodies
    assert not any("&amp;" in body or "&lt;" in body for body in bodies), bodies
