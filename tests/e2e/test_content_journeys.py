"""The content journeys of issue 3 in a real browser, against a live server (web and worker
in one process, so scheduled posts and file extraction are done by the real worker).

1. An editor writes a post in Markdown with an accented ``#théme`` and schedules it a
   minute or two ahead on the clock of their own time zone; a visitor does not see it
   (news, theme page, search) until the time passes, then sees it everywhere.
2. A member shares a PDF with its catalogue metadata; a visitor finds it by a word that
   is only inside the PDF, typed without its accent, opens it and downloads the file.
3. A member opens a discussion; another member replies to a comment; the first sees the
   unread count in the header and opens the notification.
4. Without JavaScript (on a phone), every kind of form works: a post (Preview, then
   publish), a resource note, a discussion, a comment, an event, and search.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.plugins.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PDF = Path(__file__).resolve().parents[1] / "data" / "files" / "sample.pdf"
STATUS = "[role=status]"  # flashed messages
ORG = "jardins"
ORG_NAME = "Jardins partagés du quartier"
EDITOR_TZ = "America/Montreal"  # neither the server's default (Paris) nor UTC


@pytest.fixture
def site(live_server, make_account, make_org, make_member) -> str:
    """An organisation with an editor (on Montréal's clock) and two members, and one
    theme in the instance thesaurus."""
    from hub.content.models import Tag
    from hub.extensions import db

    editor = make_account("noemie", timezone=EDITOR_TZ, display_name="Noémie")
    org = make_org(editor, ORG, name=ORG_NAME, summary="Des jardins ouverts à tous.")
    make_member(org, make_account("yann", display_name="Yann"), "member")
    make_member(org, make_account("ines", display_name="Inès"), "member")
    db.session.add(Tag(slug="agriculture-urbaine", label="Agriculture urbaine",
                       label_fr="Agriculture urbaine", label_en="Urban farming",
                       is_thesaurus=True))
    db.session.commit()
    return live_server.url


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(viewport: dict = DESKTOP, js: bool = True):
        context = browser.new_context(locale="en-GB", viewport=viewport,
                                      java_script_enabled=js, accept_downloads=True)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _log_in(page, site: str, handle: str) -> None:
    page.goto(site + "/login")
    page.get_by_label("Handle or e-mail", exact=True).fill(handle)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My space")


def _search(page, site: str, words: str) -> None:
    """The search box in the header, as a visitor uses it."""
    page.goto(site + "/")
    page.get_by_role("searchbox", name="Search").fill(words)
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")


def _results(page):
    return page.locator(".search-results .result")


def _reload_until(page, found, timeout: float, every: float = 2.0) -> float:
    """Reload until ``found()`` is true; the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if found():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"still not there after {timeout:.0f} s: {page.url}")
        time.sleep(every)
        page.reload()


def _preview(page):
    """The rendered preview (the shared Markdown field's, or a form's own)."""
    return page.locator(".md-preview:not([hidden]), .preview").first


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- 1. a scheduled post with an accented #theme ---------------------------------------------


def test_scheduled_post_with_an_accented_theme_appears_when_its_time_comes(
        site, new_context, screenshot):
    title = "Fête des semis au jardin"
    editor = new_context().new_page()
    visitor = new_context().new_page()

    _log_in(editor, site, "noemie")
    editor.goto(f"{site}/@{ORG}/news")
    editor.get_by_role("link", name="Write a post").click()
    expect(editor.get_by_role("heading", level=1)).to_have_text("Write a post")
    # The form is on the author's clock.
    expect(editor.get_by_label("Time zone", exact=True)).to_have_value(EDITOR_TZ)

    # At least a minute ahead (the form is to the minute), at most two.
    local = (datetime.now(ZoneInfo(EDITOR_TZ)) + timedelta(minutes=2)).replace(
        second=0, microsecond=0)
    due = local.astimezone(UTC)
    editor.get_by_label("Title", exact=True).fill(title)
    editor.get_by_label("Summary", exact=True).fill("Échange de graines et de plants.")
    editor.get_by_label("Text (Markdown)", exact=True).fill(
        "Venez **échanger** vos graines : la grelinette sera de sortie.\n\n"
        "- semis de tomates\n- boutures\n\n#théme")
    # With JavaScript, the preview follows the typing (no button pressed).
    live = editor.locator(".md-preview")
    expect(live.locator("strong")).to_have_text("échanger")
    expect(live.get_by_role("link", name="#théme")).to_have_attribute("href", "/themes/theme")
    editor.get_by_label("Publication", exact=True).select_option("scheduled")
    editor.get_by_label("Date of publication", exact=True).fill(local.strftime("%Y-%m-%d"))
    editor.get_by_label("Time of publication", exact=True).fill(local.strftime("%H:%M"))
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(STATUS)).to_contain_text(
        "The post is scheduled; it will be published at the chosen time.")
    expect(editor.get_by_role("heading", level=1)).to_contain_text(title)
    # Read on Montréal's clock: on Paris's or UTC's the time would be past (refused) or
    # hours away (the post would never show up below).
    notice = editor.locator(".post-notice")
    # The English interface writes times on a 12-hour clock ("1:11 PM").
    expect(notice).to_contain_text(re.compile(rf"\b{local.hour % 12 or 12}:{local:%M}\s{local:%p}"))
    expect(notice).to_contain_text(EDITOR_TZ)
    assert datetime.now(UTC) < due, "the test took too long to write the post"

    # -- before the time, a visitor sees it nowhere ---------------------------------------
    visitor.goto(f"{site}/@{ORG}/news")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    expect(visitor.get_by_text(title)).to_have_count(0)
    response = visitor.goto(f"{site}/themes/theme")
    assert response.status in (200, 404)
    expect(visitor.get_by_text(title)).to_have_count(0)
    _search(visitor, site, "grelinette")
    expect(_results(visitor)).to_have_count(0)
    post_url = editor.url
    assert visitor.goto(post_url).status == 404
    assert datetime.now(UTC) < due, "the checks before the time took too long"

    # -- after the time, it is on the news list --------------------------------------------
    visitor.goto(f"{site}/@{ORG}/news")
    link = visitor.get_by_role("link", name=title, exact=True)
    _reload_until(visitor, lambda: link.count() > 0, timeout=180, every=3)
    assert datetime.now(UTC) >= due, "published before its time"

    link.click()
    expect(visitor.get_by_role("heading", level=1)).to_contain_text(title)
    expect(visitor.locator(".prose strong")).to_have_text("échanger")
    expect(visitor.locator(".prose li")).to_have_count(2)
    screenshot(visitor, "content-post-desktop")

    # The #théme in the text is a link to the theme page, which lists the post.
    theme_link = visitor.locator(".prose").get_by_role("link", name="#théme")
    expect(theme_link).to_have_attribute("href", "/themes/theme")
    theme_link.click()
    expect(visitor).to_have_url(f"{site}/themes/theme")
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("théme")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()

    # The theme matches whatever the case and accents ("THEME", "Thème" are one theme).
    visitor.goto(f"{site}/themes/THEME")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()

    _search(visitor, site, "grelinette")
    expect(_results(visitor)).to_have_count(1)
    expect(_results(visitor).get_by_role("link", name=title)).to_be_visible()


# -- 2. a PDF found by a word inside it -------------------------------------------------------


def test_member_shares_a_pdf_that_a_visitor_finds_by_a_word_inside_it(
        site, new_context, screenshot):
    title = "Guide du jardin partagé"
    member = new_context().new_page()
    _log_in(member, site, "yann")

    member.goto(f"{site}/@{ORG}/library")
    member.get_by_role("link", name="Share a resource").first.click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Share a resource")
    member.get_by_label("A file (PDF, OpenDocument, Word, Excel, image, text)").check()
    member.get_by_label("File", exact=True).set_input_files(str(PDF))
    member.get_by_label("Title", exact=True).fill(title)
    member.get_by_label("Authors", exact=True).fill("Camille Martin\nLéa Dupont")
    member.get_by_label("Publisher", exact=True).fill("Réseau des jardins")
    member.get_by_label("Date of publication", exact=True).fill("2024-03")
    member.get_by_role("main").get_by_label("Language", exact=True).select_option(label="Français")
    member.get_by_label("Type of document", exact=True).select_option(
        label="Guide or handbook")
    member.get_by_label("Licence", exact=True).select_option(
        label="CC BY-SA (attribution, share alike)")
    member.get_by_label("Urban farming", exact=True).check()  # in English
    member.get_by_label("Keywords", exact=True).fill("jardin, semences")
    member.get_by_role("button", name="Share", exact=True).click()

    expect(member.locator(STATUS).first).to_contain_text("The resource is shared.")
    expect(member.get_by_role("heading", level=1)).to_contain_text(title)
    metadata = member.locator(".res-dl")
    for shown in ("Camille Martin", "Léa Dupont", "Réseau des jardins", "Français",
                  "Guide or handbook", "CC BY-SA"):
        expect(metadata).to_contain_text(shown)
    resource_url = member.url

    # -- a visitor, on a phone, types the word without its accent -------------------------
    visitor = new_context(PHONE).new_page()
    _search(visitor, site, "biodiversite")
    # The text of the PDF is read by the worker's job: wait for it, a bounded time.
    _reload_until(visitor, lambda: _results(visitor).count() > 0, timeout=60)
    expect(_results(visitor)).to_have_count(1)
    hit = _results(visitor).first
    expect(hit.get_by_role("link", name=title)).to_be_visible()
    expect(hit).to_contain_text("biodiversité")  # the snippet comes from the PDF's text
    assert _fits_the_width(visitor), "the search results overflow a phone screen"
    screenshot(visitor, "content-search-phone")

    hit.get_by_role("link", name=title).click()
    expect(visitor).to_have_url(resource_url)
    expect(visitor.get_by_role("heading", level=1)).to_contain_text(title)
    expect(visitor.get_by_role("link", name="#Urban farming")).to_be_visible()
    assert _fits_the_width(visitor), "the resource page overflows a phone screen"
    screenshot(visitor, "content-resource-phone")

    download_link = visitor.get_by_role("link", name="Download", exact=True)
    with visitor.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == "sample.pdf"
    assert Path(download.path()).read_bytes() == PDF.read_bytes()

    # The response itself: an attachment, typed by its content, never a page.
    response = visitor.context.request.get(site + download_link.get_attribute("href"))
    assert response.status == 200
    headers = response.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("attachment")
    assert "sample.pdf" in headers["content-disposition"]
    assert headers["x-content-type-options"] == "nosniff"


# -- 3. a discussion, a reply, a notification -------------------------------------------------


def test_reply_in_a_discussion_notifies_the_author_of_the_comment(
        site, new_context, screenshot):
    title = "Qui arrose pendant les vacances ?"
    yann = new_context().new_page()
    ines = new_context().new_page()
    _log_in(yann, site, "yann")
    _log_in(ines, site, "ines")
    expect(yann.locator(".unread-count")).to_have_count(0)

    # Yann opens a discussion and asks a question in a comment.
    yann.goto(f"{site}/@{ORG}/discussions")
    yann.get_by_role("link", name="Open a discussion").first.click()
    expect(yann.get_by_role("heading", level=1)).to_have_text("Open a discussion")
    yann.get_by_label("Title", exact=True).fill(title)
    yann.get_by_label("First message (Markdown)", exact=True).fill(
        "Il faut **un planning** pour juillet et août.")
    yann.get_by_role("button", name="Publish", exact=True).click()
    expect(yann.get_by_role("heading", level=1)).to_contain_text(title)
    discussion_url = yann.url
    yann.get_by_label("Your comment (Markdown)", exact=True).fill(
        "Je prends la première semaine de juillet. Qui suit ?")
    yann.locator("#comment-form").get_by_role("button").click()
    question = yann.locator(".comment").filter(has_text="Qui suit ?")
    expect(question).to_be_visible()

    # Inès replies to that comment.
    ines.goto(discussion_url)
    ines.locator(".comment").filter(has_text="Qui suit ?").get_by_role(
        "link", name="Reply").click()
    reply = ines.get_by_role("region", name="Reply")
    reply.get_by_label("Your comment (Markdown)", exact=True).fill("Moi, la deuxième semaine !")
    reply.get_by_role("button", name="Reply", exact=True).click()
    expect(ines.locator(".replies .comment")).to_contain_text("Moi, la deuxième semaine !")

    # Yann sees the unread count in the header and opens the notification.
    yann.goto(site + "/me")
    badge = yann.locator(".notifications-link .unread-count")
    expect(badge).to_contain_text("1")
    yann.locator(".notifications-link").click()
    expect(yann.get_by_role("heading", level=1)).to_have_text("Notifications")
    notification = yann.get_by_role("link", name="@ines replied to you")
    expect(notification).to_be_visible()
    screenshot(yann, "content-notifications-desktop")
    notification.click()
    expect(yann.get_by_text("Moi, la deuxième semaine !")).to_be_visible()
    expect(yann.locator(".notifications-link .unread-count")).to_have_count(0)

    yann.goto(discussion_url)
    expect(yann.locator(".replies .comment")).to_contain_text("Moi, la deuxième semaine !")
    screenshot(yann, "content-discussion-desktop")


# -- 4. every kind of form without JavaScript -------------------------------------------------


def test_content_forms_work_without_javascript(site, new_context, screenshot):
    editor = new_context(PHONE, js=False).new_page()
    _log_in(editor, site, "noemie")

    # A post: Preview renders the Markdown and keeps the form; then publish now.
    editor.goto(f"{site}/@{ORG}/news/new")
    editor.get_by_label("Title", exact=True).fill("Atelier compost sans script")
    editor.get_by_label("Text (Markdown)", exact=True).fill(
        "Un **atelier** au jardin. #compost")
    editor.get_by_role("button", name="Preview", exact=True).click()
    preview = editor.locator(".md-preview")
    expect(preview).to_be_visible()
    expect(preview.locator("strong")).to_have_text("atelier")
    expect(preview.get_by_role("link", name="#compost")).to_be_visible()
    expect(editor.get_by_label("Title", exact=True)).to_have_value(
        "Atelier compost sans script")
    assert _fits_the_width(editor), "the post form overflows a phone screen"
    screenshot(editor, "content-post-preview-nojs-phone")
    editor.get_by_label("Publication", exact=True).select_option("published")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(STATUS)).to_contain_text("The post is published.")
    expect(editor.get_by_role("heading", level=1)).to_contain_text(
        "Atelier compost sans script")

    # A resource: a note, with its own Preview.
    editor.goto(f"{site}/@{ORG}/library/new")
    editor.get_by_label("A note written here").check()
    editor.get_by_label("Title", exact=True).fill("Calendrier des semis")
    editor.get_by_label("Note (Markdown)", exact=True).fill("Semer les *radis* en mars.")
    editor.locator("button[name=preview][value=body]").click()
    expect(editor.locator("#body-preview em")).to_have_text("radis")
    editor.get_by_role("button", name="Share", exact=True).click()
    expect(editor.locator(STATUS).first).to_contain_text("The resource is shared.")
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Calendrier des semis")

    # A discussion: Preview, then Publish; then a comment under it.
    editor.goto(f"{site}/@{ORG}/discussions/new")
    editor.get_by_label("Title", exact=True).fill("Outils à partager")
    editor.get_by_label("First message (Markdown)", exact=True).fill("Une **liste** ?")
    editor.get_by_role("button", name="Preview", exact=True).click()
    expect(_preview(editor).locator("strong")).to_have_text("liste")
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Outils à partager")
    editor.get_by_label("Your comment (Markdown)", exact=True).fill("Deux bêches.")
    editor.locator("#comment-form").get_by_role("button").click()
    expect(editor.locator(".comment")).to_contain_text("Deux bêches.")

    # An event: Preview, then Publish.
    editor.goto(f"{site}/@{ORG}/events/new")
    day = (datetime.now(ZoneInfo(EDITOR_TZ)) + timedelta(days=10)).strftime("%Y-%m-%d")
    editor.get_by_label("Title", exact=True).fill("Troc de plants")
    editor.get_by_label("Description (Markdown)", exact=True).fill("Apportez vos *plants*.")
    editor.get_by_label("Start date", exact=True).fill(day)
    editor.get_by_label("Start time", exact=True).fill("14:00")
    editor.get_by_label("End date", exact=True).fill(day)
    editor.get_by_label("End time", exact=True).fill("17:00")
    editor.get_by_label("Place", exact=True).fill("Jardin des Lilas")
    editor.get_by_role("button", name="Preview", exact=True).click()
    expect(_preview(editor).locator("em")).to_have_text("plants")
    editor.get_by_role("button", name="Publish", exact=True).click()
    expect(editor.get_by_role("heading", level=1)).to_contain_text("Troc de plants")

    # Search and the theme page, logged out, still without JavaScript.
    visitor = new_context(PHONE, js=False).new_page()
    _search(visitor, site, "bêches")
    expect(_results(visitor)).to_have_count(1)
    visitor.goto(f"{site}/themes/compost")
    expect(visitor.get_by_role("link", name="Atelier compost sans script")).to_be_visible()
    assert _fits_the_width(visitor), "the theme page overflows a phone screen"
