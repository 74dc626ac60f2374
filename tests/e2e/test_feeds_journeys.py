"""The feed journeys of issue 5 in a real browser, against a live server (web and worker in
one process, so polling is done by the real worker through the real queue).

1. An organisation admin, on a phone without JavaScript, adds the RSS feed of a partner's
   site (a SPIP-like feed in windows-1252, served by a local HTTP server); the worker polls
   it and its items appear on the organisation's watch page and on the instance's; a
   member shares one of them as a resource from a pre-filled form.
2. A visitor finds the "Subscribe" line of an organisation, opens the page listing its
   feeds and reads the Atom feed as a reader would (feedparser); an edit by the editor
   changes the feed at the reader's next conditional request, which was a 304 before.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest
from playwright.sync_api import expect

from tests.e2e.test_content_journeys import DESKTOP, PHONE, STATUS, _fits_the_width, _log_in
from tests.plugins.app import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORG = "jardins"
ORG_NAME = "Jardins partagés du quartier"
PARTNER_FEED = """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0"><channel>
<title>Réseau des semences paysannes</title><link>https://semences.example/</link>
<description>Actualités du réseau</description>
<item><title>Bourse aux graines d'hiver à Montreuil</title>
<link>https://semences.example/spip.php?article12</link>
<guid isPermaLink="false">article12</guid>
<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Élise Martin</dc:creator>
<pubDate>Mon, 16 Nov 2026 09:00:00 +0100</pubDate>
<description>&lt;p&gt;Échanges de semences &lt;strong&gt;reproductibles&lt;/strong&gt;
et ateliers.&lt;/p&gt;</description></item>
<item><title>Fiche : conserver ses graines</title>
<link>https://semences.example/spip.php?article11</link>
<guid isPermaLink="false">article11</guid>
<pubDate>Tue, 03 Nov 2026 09:00:00 +0100</pubDate>
<description>Sécher, trier, étiqueter.</description></item>
</channel></rss>""".encode("cp1252")


class _Partner(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(PARTNER_FEED)))
        self.end_headers()
        self.wfile.write(PARTNER_FEED)

    def log_message(self, *args):
        pass


@pytest.fixture
def partner_site():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Partner)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/spip.php?page=backend"
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(live_server, make_account, make_org, make_member) -> str:
    admin = make_account("camille", display_name="Camille")
    org = make_org(admin, ORG, name=ORG_NAME, summary="Des jardins ouverts à tous.")
    make_member(org, make_account("yann", display_name="Yann"), "member")
    make_member(org, make_account("noemie", display_name="Noémie"), "editor")
    return live_server.url


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(viewport: dict = DESKTOP, js: bool = True):
        context = browser.new_context(locale="en-GB", viewport=viewport,
                                      java_script_enabled=js)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def test_an_admin_watches_a_partner_feed_and_a_member_shares_an_item(
        site, partner_site, new_context, screenshot):
    admin = new_context(PHONE, js=False).new_page()
    _log_in(admin, site, "camille")
    admin.goto(f"{site}/@{ORG}")
    admin.get_by_role("link", name=f"What {ORG_NAME} follows elsewhere on the web").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Watch of {ORG_NAME}")
    admin.get_by_role("link", name="Manage watched feeds").click()
    admin.get_by_label("Address of the feed (RSS, Atom or JSON Feed)").fill(partner_site)
    admin.get_by_role("button", name="Watch this feed").click()
    expect(admin.locator(STATUS)).to_be_visible()
    expect(admin.locator(".watch-source")).to_have_count(1)

    # The worker polls the new source at once (queued after the commit).
    deadline = time.monotonic() + 30
    while "Réseau des semences paysannes" not in admin.locator(".watch-source h3").inner_text():
        assert time.monotonic() < deadline, "the source was not polled"
        time.sleep(1)
        admin.reload()
    expect(admin.locator(".watch-source")).to_contain_text("Active")
    assert _fits_the_width(admin)
    screenshot(admin, "watch-sources")

    visitor = new_context().new_page()
    visitor.goto(f"{site}/@{ORG}/watch")
    items = visitor.locator(".watch-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Bourse aux graines d'hiver à Montreuil")
    expect(items.first).to_contain_text("Élise Martin")
    expect(items.first.locator("strong")).to_have_text("reproductibles")
    assert items.first.get_by_role("link", name="Share as resource").count() == 0
    visitor.goto(f"{site}/watch")
    expect(visitor.locator(".watch-item").first).to_contain_text(ORG_NAME)

    member = new_context().new_page()
    _log_in(member, site, "yann")
    member.goto(f"{site}/@{ORG}/watch")
    screenshot(member, "watch-page")
    member.locator(".watch-item").first.get_by_role("link", name="Share as resource").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Share a resource")
    expect(member.get_by_label("Title", exact=True)).to_have_value(
        "Bourse aux graines d'hiver à Montreuil")
    member.get_by_role("button", name="Share", exact=True).click()
    expect(member.get_by_role("heading", level=1)).to_contain_text(
        "Bourse aux graines d'hiver à Montreuil")
    expect(member.locator("main")).to_contain_text("https://semences.example/spip.php?article12")


def test_a_visitor_subscribes_to_an_organisation_and_sees_an_edit(site, new_context):
    editor = new_context().new_page()
    _log_in(editor, site, "noemie")
    editor.goto(f"{site}/@{ORG}/news/new")
    editor.get_by_label("Title", exact=True).fill("Portes ouvertes samedi")
    editor.get_by_label("Text (Markdown)", exact=True).fill("Venez **nombreux**.")
    editor.get_by_label("Publication", exact=True).select_option("published")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Portes ouvertes samedi")
    post_url = editor.url

    visitor = new_context(PHONE, js=False).new_page()
    visitor.goto(f"{site}/@{ORG}")
    subscribe = visitor.get_by_role("complementary", name="Subscribe")
    expect(subscribe.get_by_role("link", name="Atom")).to_be_visible()
    subscribe.get_by_role("link", name=f"All the feeds of {ORG_NAME}").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(f"Feeds of {ORG_NAME}")
    atom = visitor.get_by_role("link", name="Atom").first.get_attribute("href")

    reader = visitor.request
    first = reader.get(site + atom)
    assert first.status == 200
    parsed = feedparser.parse(first.body())
    assert parsed.bozo == 0
    assert parsed.entries[0].title == "Portes ouvertes samedi"
    assert parsed.entries[0].link == post_url
    etag = first.headers["etag"]
    assert reader.get(site + atom, headers={"If-None-Match": etag}).status == 304

    editor.goto(post_url + "/edit")
    editor.get_by_label("Title", exact=True).fill("Portes ouvertes samedi et dimanche")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text(
        "Portes ouvertes samedi et dimanche")
    again = reader.get(site + atom, headers={"If-None-Match": etag})
    assert again.status == 200
    entry = feedparser.parse(again.body()).entries[0]
    assert entry.title == "Portes ouvertes samedi et dimanche"
    assert entry.id == parsed.entries[0].id
