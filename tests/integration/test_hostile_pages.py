"""The hostile-HTML corpus through every page that shows what members write: nothing
executable survives, and text is escaped exactly once.

``tests/unit/test_sanitize_corpus.py`` proves the sanitiser; this proves the templates:
a wrong ``|safe``, an unquoted attribute, a snippet or an excerpt built from escaped text
would show here. Each case fills every user-writable text field through the real services
(``hostile_support.seed_world``), then every page that shows them is fetched and judged
whole by ``assert_nothing_executable``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.extensions import db
from tests.integration.hostile_support import HOSTILE_URLS, seed_world, world_pages
from tests.integration.orgs_support import client_for
from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable, problems

_BY_NAME = dict(CORPUS_CASES)
#: Each file whole (every case of it at once) and a spread of single cases, so that each
#: family of attack reaches every page at least twice, short enough for the title fields.
REPRESENTATIVE = sorted(
    {name for name in _BY_NAME if name.endswith(":whole")}
    | {name for name in _BY_NAME if name.rpartition(":")[2].isdigit()
       and int(name.rpartition(":")[2]) % 6 == 0})
CASES = [(name, _BY_NAME[name]) for name in REPRESENTATIVE]


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def judge(browser, path: str, problems_found: dict) -> str:
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
    world = seed_world(app, make_account, source)
    run_jobs()
    found: dict = {}
    owner = client_for(app, world.owner)
    for path in world_pages(world):
        judge(owner, path, found)
    reader = client_for(app, world.reader)
    discussion = f"/@{world.org.handle}/discussions/{world.ids['discussion']}"
    for path in ("/notifications", "/", discussion, f"{discussion}/edit",
                 f"/library/{world.ids['link']}/edit"):
        judge(reader, path, found)
    # Visitors get the cached public pages.
    for path in ("/", "/library", "/agenda", f"/@{world.org.handle}",
                 f"/@{world.org.handle}/news/{world.ids['post']}", "/themes"):
        judge(client, path, found)
        judge(client, path, found)
    assert not found, found
    # E-mails are plain text: never HTML, whatever the excerpt.
    for message in mailbox.messages():
        assert message.get_content_type() == "text/plain"


# -- forms: what a browser posts, and the pages that echo it back ----------------------------


@pytest.mark.parametrize(("name", "source"), CASES[::4], ids=[c[0] for c in CASES[::4]])
def test_forms_and_their_error_pages_are_inert(app, client, make_account, make_org, login,
                                               name, source):
    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    login(owner)
    text = source[:200] if source[:200].strip() else "x"
    pages = []
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
        "website": source[:300], "address": source[:300], "themes": source[:1000]}))
    pages.append(client.post("/settings/profile", data={
        "display_name": source[:100], "bio": source[:5000], "locale": "",
        "timezone": "Europe/Paris"}, follow_redirects=True))
    pages.append(client.get("/search", query_string={"q": source[:200]}))
    for response in pages:
        assert response.status_code in (200, 400), response.status_code
        html = response.get_data(as_text=True)
        assert_nothing_executable(html, page=html.lstrip().lower().startswith("<!doctype"))


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_links_members_give_stay_inside_their_attribute(app, make_account, url):
    """Web addresses are accepted when they start with http(s): quotes and angle brackets
    after that must never leave the href."""
    world = seed_world(app, make_account, f"Un lien {url}")
    found: dict = {}
    owner = client_for(app, world.owner)
    for path in world_pages(world):
        judge(owner, path, found)
    assert not found, found


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
    for path, browser in must_show.items():
        html = browser.get(path).get_data(as_text=True)
        tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
        text = " ".join(" ".join(tree.itertext()).split())
        assert "&amp;" not in text and "&lt;" not in text and "&quot;" not in text, (
            path, text[:3000])
        assert "Tom & Jerry" in text, (path, text[:3000])
    notes = db.session.scalars(select(_notification().excerpt)).all()
    assert notes and all("&amp;" not in note and "&lt;" not in note for note in notes), notes
    bodies = [m.get_content() for m in mailbox.messages()
              if m.get_content_type() == "text/plain"]
    assert any("Tom & Jerry" in body for body in bodies), bodies
    assert not any("&amp;" in body or "&lt;" in body for body in bodies), bodies


def _notification():
    from hub.notifications.models import Notification

    return Notification
