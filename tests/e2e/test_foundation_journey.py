"""The foundation's key journey in a real browser, in English (JavaScript on) and in French
(JavaScript off: the pages need none).

Person A signs up, confirms the address, logs in, founds an organisation and invites
person B by e-mail as an editor; person B, in a browser of their own, follows the link,
creates an account from it (no confirmation: the invitation came to that address), logs
in, accepts, and sees their role; person A's members page lists B as an editor.

Selectors are accessible names (labels, roles) in the language of the run, read from the
French catalogue, so the test also proves that the labels exist and are translated.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CATALOGUES = Path(__file__).resolve().parents[2] / "hub" / "translations"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a long enough password"


@cache
def _french() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with open(CATALOGUES / "fr" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po)
    return {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}


def translator(lang: str):
    """``_("Source text")`` as the interface shows it in ``lang``; a French run refuses a
    string the catalogue does not translate (the page would show English)."""
    if lang == "en":
        return lambda text: text

    def french(text: str) -> str:
        assert text in _french(), f"no French translation for {text!r}"
        return _french()[text]

    return french


RUNS = {
    # lang: (browser locale, JavaScript, names and texts used in the run)
    "en": ("en-GB", True, {
        "a": "alex", "b": "bea", "org": "bike_commons", "name": "Bike Workshop Commons",
        "summary": "A workshop where neighbours repair their bikes together.",
        "description": "We **repair** bikes together.\n\n- open workshops on Saturdays\n"
                       "- [our map](https://example.org/map)\n",
        "bold": "repair", "link": ("our map", "https://example.org/map"),
        "themes": "cycling, solidarity economy"}),
    "fr": ("fr-FR", False, {
        "a": "camille", "b": "dominique", "org": "velo_solidaire",
        "name": "Atelier Vélo Solidaire",
        "summary": "Un atelier où l'on répare les vélos ensemble.",
        "description": "Nous **réparons** les vélos ensemble.\n\n"
                       "- ateliers ouverts le samedi\n- [notre carte](https://example.org/carte)\n",
        "bold": "réparons", "link": ("notre carte", "https://example.org/carte"),
        "themes": "vélo, économie solidaire"}),
}


def _log_in(page, _, login: str) -> None:
    page.get_by_label(_("Handle or e-mail"), exact=True).fill(login)
    page.get_by_label(_("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=_("Log in"), exact=True).click()


def _sign_up(page, _, handle: str, address: str) -> None:
    page.get_by_label(_("Handle"), exact=True).fill(handle)
    page.get_by_label(_("E-mail"), exact=True).fill(address)
    page.get_by_label(_("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=_("Create my account"), exact=True).click()


def _fits_the_width(page) -> bool:
    """No horizontal scrolling (Playwright can measure even with the page's JS off)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_founder_invites_an_editor_who_signs_up_and_joins(browser, live_server, screenshot,
                                                          lang):
    _ = translator(lang)
    locale, js, names = RUNS[lang]
    a_mail, b_mail = f"{names['a']}@example.org", f"{names['b']}@example.net"
    org_path = f"/@{names['org']}"
    editor = _("editor")
    status = "[role=status]"  # the flashed messages

    context_a = browser.new_context(locale=locale, java_script_enabled=js, viewport=DESKTOP)
    # Person B is another person: another browser, on a phone in the French run.
    context_b = browser.new_context(locale=locale, java_script_enabled=js,
                                    viewport=DESKTOP if lang == "en" else PHONE)
    try:
        a = context_a.new_page()

        # -- A signs up, confirms the address, logs in ------------------------------------
        a.goto(live_server.url + "/")
        expect(a.locator("html")).to_have_attribute("lang", lang)
        a.get_by_role("link", name=_("Sign up"), exact=True).click()
        expect(a.get_by_role("heading", level=1)).to_have_text(_("Sign up"))
        if lang == "fr":
            screenshot(a, "register-fr")
        _sign_up(a, _, names["a"], a_mail)
        expect(a.locator(status)).to_contain_text(
            _("Almost there: we sent you an e-mail with a link to confirm your address."))

        a.goto(live_server.outbox_link(a_mail, "/confirm/"))
        expect(a.locator(status)).to_contain_text(_("Your e-mail address is confirmed."))
        _log_in(a, _, names["a"])
        expect(a).to_have_url(live_server.url + "/me")
        expect(a.get_by_role("heading", level=1)).to_have_text(_("My space"))

        # -- A founds the organisation --------------------------------------------------
        a.get_by_role("link", name=_("Found an organisation"), exact=True).click()
        expect(a.get_by_role("heading", level=1)).to_have_text(_("Found an organisation"))
        a.get_by_label(_("Handle"), exact=True).fill(names["org"])
        a.get_by_label(_("Name"), exact=True).fill(names["name"])
        a.get_by_label(_("Summary"), exact=True).fill(names["summary"])
        a.get_by_label(_("Description (Markdown)"), exact=True).fill(names["description"])
        a.get_by_label(_("Themes"), exact=True).fill(names["themes"])
        a.get_by_role("button", name=_("Found the organisation"), exact=True).click()

        expect(a).to_have_url(live_server.url + org_path)
        expect(a.locator(status)).to_contain_text(
            _("%(name)s is founded, and you are its owner.") % {"name": names["name"]})
        expect(a.get_by_role("heading", level=1)).to_have_text(names["name"])
        expect(a.locator(".prose strong")).to_have_text(names["bold"])  # Markdown, rendered
        expect(a.locator(".prose li")).to_have_count(2)
        link_text, link_href = names["link"]
        expect(a.get_by_role("link", name=link_text)).to_have_attribute("href", link_href)
        themes = a.get_by_role("list", name=_("Themes"))
        for theme in names["themes"].split(", "):
            expect(themes.get_by_role("link", name=f"#{theme}", exact=True)).to_be_visible()
        expect(a.get_by_text(_("Your role: %(role)s") % {"role": _("owner")})).to_be_visible()

        # -- A invites B by e-mail as an editor -------------------------------------------
        a.get_by_role("link", name=_("Manage members"), exact=True).click()
        expect(a.get_by_role("heading", level=1)).to_have_text(
            _("Members of %(name)s") % {"name": names["name"]})
        a.get_by_label(_("Handle or e-mail address"), exact=True).fill(b_mail)
        a.get_by_label(_("Role"), exact=True).select_option(label=editor)
        a.get_by_role("button", name=_("Send the invitation"), exact=True).click()
        expect(a.locator(status)).to_contain_text(
            _("Invitation sent to %(who)s as %(role)s.") % {"who": b_mail, "role": editor})
        expect(a.get_by_role("row").filter(has_text=b_mail)).to_contain_text(editor)

        # -- B, in their own browser, answers from the e-mail -----------------------------
        b = context_b.new_page()
        if lang == "en":  # a visitor's view of the instance, now that it has an organisation
            b.goto(live_server.url + "/")
            expect(b.get_by_role("link", name=names["name"], exact=True)).to_be_visible()
            screenshot(b, "home-en")
            b.get_by_role("link", name=_("Organisations"), exact=True).click()
            expect(b.get_by_role("link", name=names["name"], exact=True)).to_be_visible()
            screenshot(b, "directory-en")

        b.goto(live_server.outbox_link(b_mail, "/invitations/"))
        expect(b.get_by_role("heading", level=1)).to_have_text(
            _("Invitation to join %(name)s") % {"name": names["name"]})
        expect(b.locator(".lead")).to_contain_text(editor)
        b.get_by_role("link", name=_("Create an account"), exact=True).click()
        expect(b.get_by_role("heading", level=1)).to_have_text(_("Sign up"))
        _sign_up(b, _, names["b"], b_mail)
        # The invitation came to this address, so it is confirmed: no e-mail round trip;
        # the login page leads back to the invitation.
        expect(b.locator(status)).to_contain_text(_("Your account is ready: you can log in."))
        expect(b.get_by_role("heading", level=1)).to_have_text(_("Log in"))
        _log_in(b, _, b_mail)
        expect(b.get_by_role("heading", level=1)).to_have_text(
            _("Invitation to join %(name)s") % {"name": names["name"]})
        b.get_by_role("button", name=_("Accept"), exact=True).click()

        expect(b).to_have_url(live_server.url + org_path)
        expect(b.locator(status)).to_contain_text(
            _("Welcome to %(name)s! Your role: %(role)s.") % {"name": names["name"],
                                                              "role": editor})
        expect(b.locator(".org-head")).to_contain_text(
            _("Your role: %(role)s") % {"role": editor})
        expect(b.get_by_role("link", name=_("Manage members"))).to_have_count(0)
        if lang == "fr":
            assert _fits_the_width(b), "the organisation page overflows a phone screen"
            screenshot(b, "phone-organisation-fr")

        b.get_by_role("link", name=_("My space"), exact=True).click()
        expect(b.get_by_role("heading", level=1)).to_have_text(_("My space"))
        my_orgs = b.get_by_role("region", name=_("My organisations"))
        expect(my_orgs.get_by_role("link", name=names["name"], exact=True)).to_be_visible()
        expect(my_orgs).to_contain_text(editor)
        if lang == "fr":
            assert _fits_the_width(b), "the dashboard overflows a phone screen"
            screenshot(b, "dashboard-fr")

        # -- A sees B among the members, as an editor --------------------------------------
        a.reload()
        row = a.get_by_role("row").filter(has_text=f"@{names['b']}")
        expect(row.get_by_role("cell", name=editor, exact=True)).to_be_visible()
        expect(a.get_by_label(_("Role of @%(handle)s") % {"handle": names["b"]},
                              exact=True)).to_have_value("editor")
        expect(a.get_by_text(_("No invitation is waiting."))).to_be_visible()
        if lang == "en":
            screenshot(a, "members-en")
            a.get_by_role("link", name=_("Back to the organisation page")).click()
            expect(a.get_by_role("heading", level=1)).to_have_text(names["name"])
            screenshot(a, "organisation-en")
    finally:
        context_a.close()
        context_b.close()
