"""The moderation journey of issue 4 in a real browser, against a live server:

a visitor on a phone without JavaScript reports a comment citing article 2 and leaves an
address → a moderator takes the case and hides the comment with a reason → the author
sees the hidden comment with the reason and appeals → another moderator reinstates it →
the reporter's outcome e-mail, the reinstated comment and the audit log show all of it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_content_journeys import DESKTOP, PHONE, STATUS, _fits_the_width, _log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORG = "jardins"
SPAM = "Achetez mes montres au rabais"


@pytest.fixture
def site(live_server, make_account, make_org, make_member):
    from hub.content.models import Comment
    from hub.extensions import db
    from hub.moderation import charter
    from tests.integration.content_rows import make_post

    admin = make_account("chief", role="admin", display_name="Chief")
    people = [admin, make_account("modo", role="moderator", display_name="Modo"),
              make_account("modo2", role="moderator", display_name="Modo Deux"),
              make_account("yann", display_name="Yann")]
    org = make_org(make_account("camille", display_name="Camille"), ORG,
                   name="Jardins partagés")
    make_member(org, people[-1], "member")
    version = charter.publish_version(admin, [
        charter.ArticleDraft("Respect", "Soyez courtois."),
        charter.ArticleDraft("Pas de publicité", "Pas de commerce ici.")])
    for person in people:
        charter.accept(person, version)
    post = make_post(org, title="Fête des semis")
    comment = Comment(target_type="post", target_id=post.id, org_id=org.id,
                      visibility="public", author_id=people[-1].id, body_source=SPAM,
                      body_html=f"<p>{SPAM}</p>")
    db.session.add(comment)
    db.session.commit()
    return type("Site", (), {"url": live_server.url, "post_path": f"/@{ORG}/news/{post.id}",
                             "comment_id": comment.id, "folder": live_server})


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


def mailed_to(server, address: str, text: str, timeout: float = 20) -> bool:
    """Has the worker mailed ``text`` to ``address`` (the file mail backend's outbox)?"""
    import email
    import email.policy
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in (server.instance / "outbox").glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address and text in message.get_content():
                return True
        time.sleep(0.2)
    return False


def test_report_hide_appeal_reinstate(site, new_context, screenshot):
    base = site.url
    visitor = new_context(PHONE, js=False).new_page()
    visitor.goto(base + site.post_path)
    expect(visitor.locator("main")).to_contain_text(SPAM)
    visitor.locator(f"#comment-{site.comment_id}").get_by_role("link", name="Report").click()
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Report")
    visitor.get_by_label("Pas de publicité").check()
    visitor.get_by_label("What is wrong").fill("De la publicité pour des montres.")
    visitor.get_by_label("Your e-mail address").fill("voisine@example.org")
    assert _fits_the_width(visitor)
    screenshot(visitor, "moderation-report-phone")
    visitor.get_by_role("button", name="Send the report").click()
    expect(visitor.locator(STATUS)).to_be_visible()

    moderator = new_context().new_page()
    _log_in(moderator, base, "modo")
    moderator.goto(base + "/moderation")
    moderator.locator("table a[href^='/moderation/cases/']").first.click()
    expect(moderator.locator("main")).to_contain_text("De la publicité pour des montres.")
    moderator.get_by_role("button", name="Take this case").click()
    moderator.get_by_label("Action", exact=True).select_option("hide")
    moderator.get_by_label("Reason (the person concerned reads it)").fill(
        "Publicité commerciale (article 2).")
    moderator.get_by_label("Pas de publicité").check()
    moderator.get_by_label("Explanation for the reporters (optional)").fill(
        "Le commentaire a été masqué.")
    screenshot(moderator, "moderation-case")
    moderator.get_by_role("button", name="Apply").click()
    expect(moderator.locator(STATUS)).to_be_visible()

    # The reporter is told the outcome by e-mail; visitors no longer see the comment.
    assert mailed_to(site.folder, "voisine@example.org", "Le commentaire a été masqué.")
    visitor.goto(base + site.post_path)
    expect(visitor.locator("main")).not_to_contain_text(SPAM)

    # Its author sees it, hidden, with the reason, and appeals from their record.
    author = new_context(PHONE, js=False).new_page()
    _log_in(author, base, "yann")
    author.goto(base + site.post_path)
    hidden = author.locator(f"#comment-{site.comment_id}")
    expect(hidden).to_contain_text("hidden by moderation")
    expect(hidden).to_contain_text("Publicité commerciale (article 2).")
    author.goto(base + "/me/moderation")
    author.get_by_text("Appeal this decision").click()
    author.get_by_label("Why should this decision change?").fill(
        "Je présentais une bourse d'échange, pas une vente.")
    author.get_by_role("button", name="Send the appeal").click()
    expect(author.locator(STATUS)).to_be_visible()

    # The moderator who decided may not judge the appeal; another one grants it.
    other = new_context().new_page()
    _log_in(other, base, "modo2")
    other.goto(base + "/moderation")
    other.get_by_role("link", name="Appeal #").first.click()
    expect(other.locator("main")).to_contain_text("pas une vente")
    other.get_by_label("Your decision, explained (both sides read it)").fill(
        "Il s'agissait d'un échange : le commentaire est rétabli.")
    other.get_by_role("button", name="Grant: reverse the decision").click()
    expect(other.locator(STATUS)).to_be_visible()

    visitor.goto(base + site.post_path)
    expect(visitor.locator("main")).to_contain_text(SPAM)
    author.goto(base + "/me/moderation")
    expect(author.locator("main")).to_contain_text("granted")

    # All of it is in the audit log.
    moderator.goto(base + "/moderation/log")
    log = moderator.locator("main")
    expect(log).to_contain_text("Publicité commerciale (article 2).")
    expect(log).to_contain_text("rétabli")
    screenshot(moderator, "moderation-log")
