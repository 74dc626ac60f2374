"""WCAG basics checked in a real browser on the main pages: every form control has a
label, one h1, a page language, and the first Tab stop is the "skip to content" link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plugins.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: Controls a person can reach that have no label (hidden inputs and the honeypot, which
#: people never see, are left out).
UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
    .filter(el => el.type !== "hidden" && !el.closest(".hp"))
    .filter(el => el.labels === null || el.labels.length === 0)
    .map(el => el.outerHTML)"""

PAGES = {
    "home": "/",
    "directory": "/orgs",
    "login": "/login",
    "register": "/register",
    "organisation": "/@ateliers",
    "members": "/orgs/ateliers/members",  # as the owner: the page with the most controls
}


@pytest.fixture
def site(live_server, make_account, make_org) -> str:
    """The live server's URL, with an organisation (and its owner) to show."""
    owner = make_account("owner")
    make_org(owner, "ateliers", name="Ateliers partagés", summary="Repair, share, learn.",
             description="We **repair** things.", themes="repair, reuse")
    return live_server.url


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def _log_in_as_owner(page, site: str) -> None:
    page.goto(site + "/login")
    page.get_by_label("Handle or e-mail", exact=True).fill("owner")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My space")


@pytest.mark.parametrize("name", list(PAGES))
def test_page_meets_the_accessibility_basics(site, page, name):
    if name == "members":
        _log_in_as_owner(page, site)
    response = page.goto(site + PAGES[name])
    assert response.status == 200, f"{PAGES[name]} answered {response.status}"

    assert page.evaluate(UNLABELLED) == [], "form controls without a label"
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Keyboard: the first Tab stop skips the navigation, and following it lands on <main>.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content", exact=True)
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # moved on screen when focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(site + PAGES[name] + "#main")
