"""Key journey in a real browser: sign up, confirm the e-mail, log in."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_sign_up_confirm_and_log_in(browser, live_server):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.fill("input[name=handle]", "sacha")
    page.fill("input[name=email]", "sacha@example.org")
    page.fill("input[name=password]", "a long enough password")
    page.get_by_role("button", name="Create my account").click()
    assert "we sent you an e-mail" in page.content()
    page.goto(live_server.outbox_link("sacha@example.org", "/confirm/"))
    assert "confirmed" in page.content()
    page.fill("input[name=login]", "sacha")
    page.fill("input[name=password]", "a long enough password")
    page.get_by_role("button", name="Log in").click()
    assert page.url.endswith("/me")
    assert page.get_by_role("heading", name="My space").is_visible()
    context.close()
