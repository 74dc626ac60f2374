"""Notification e-mails: per-kind choices (mentions and invitations on by default), sent by
jobs, never to people who turned a kind off; invitations notify existing accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.notifications.models import Notification, NotificationPreference
from hub.notifications.services import notify
from tests.integration.orgs_support import client_for, login_redirect


@pytest.fixture
def alice(make_account):
    return make_account("alice")


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def send(account, kind, actor, url="/orgs", excerpt="Some words"):
    notify(account, kind, actor=actor, url=url, excerpt=excerpt)
    db.session.commit()


def preferences() -> dict[tuple[int, str], bool]:
    db.session.expire_all()
    return {(p.account_id, p.kind): p.by_email
            for p in db.session.scalars(select(NotificationPreference))}


def test_mentions_are_mailed_by_default_with_the_link_and_the_settings_link(
        alice, bob, mailbox, run_jobs):
    send(alice, "mention", bob, url="/@collectif/news/7#comment-3", excerpt="Hi @alice")
    run_jobs()
    [message] = mailbox.to("alice@example.org")
    assert message["Subject"] == "bob mentioned you"
    body = message.get_content()
    assert "Hi @alice" in body
    assert "http://localhost/@collectif/news/7#comment-3" in body
    assert "http://localhost/notifications/preferences" in body


@pytest.mark.parametrize("kind", ["reply", "discussion"])
def test_replies_and_discussions_are_not_mailed_by_default(alice, bob, mailbox, run_jobs, kind):
    send(alice, kind, bob)
    run_jobs()
    assert mailbox.to("alice@example.org") == []
    assert db.session.scalar(select(Notification.kind)) == kind  # still shown in the app


def test_nothing_is_mailed_before_the_commit(alice, bob, mailbox, run_jobs):
    notify(alice, "mention", actor=bob, url="/")
    db.session.rollback()
    run_jobs()
    assert mailbox.to("alice@example.org") == []


def test_the_preferences_page_needs_a_login(client):
    response = client.get("/notifications/preferences")
    assert response.headers["Location"] == login_redirect("/notifications/preferences")


def test_the_preferences_page_shows_the_defaults(app, alice):
    html = client_for(app, alice).get("/notifications/preferences").get_data(as_text=True)
    assert _checked(html, "mention")
    assert _checked(html, "invitation")
    assert not _checked(html, "reply") and not _checked(html, "discussion")
    assert '<label for="reply">' in html


def _checked(html: str, name: str) -> bool:
    import re

    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    return " checked" in tag


def MODERATION_OFF(account) -> dict:  # noqa: N802 - reads as a constant in the expectations
    """The moderation kinds the form also saves, left unticked here."""
    return {(account.id, kind): False for kind in ("moderation", "outcome", "case", "appeal")}


def test_turning_mentions_off_and_replies_on(app, alice, bob, mailbox, run_jobs):
    browser = client_for(app, alice)
    response = browser.post("/notifications/preferences", data={"reply": "y", "invitation": "y"})
    assert response.status_code == 302
    assert preferences() == {(alice.id, "mention"): False, (alice.id, "reply"): True,
                             (alice.id, "discussion"): False, (alice.id, "invitation"): True,
                             **MODERATION_OFF(alice)}
    send(alice, "mention", bob, excerpt="not mailed")
    send(alice, "reply", bob, excerpt="mailed")
    run_jobs()
    [message] = mailbox.to("alice@example.org")
    assert "mailed" in message.get_content() and "not mailed" not in message.get_content()
    html = browser.get("/notifications/preferences").get_data(as_text=True)
    assert _checked(html, "reply") and not _checked(html, "mention")


def test_saving_again_updates_the_same_rows(app, alice):
    browser = client_for(app, alice)
    browser.post("/notifications/preferences", data={"reply": "y"})
    browser.post("/notifications/preferences", data={"discussion": "y"})
    assert preferences() == {(alice.id, "mention"): False, (alice.id, "reply"): False,
                             (alice.id, "discussion"): True, (alice.id, "invitation"): False,
                             **MODERATION_OFF(alice)}


def test_preferences_without_the_form_token_change_nothing(app, alice):
    response = client_for(app, alice).post("/notifications/preferences", data={"reply": "y"},
                                           csrf=False)
    assert response.status_code == 400
    assert preferences() == {}


def test_one_persons_choice_does_not_touch_anothers(app, alice, bob, mailbox, run_jobs):
    client_for(app, alice).post("/notifications/preferences", data={})
    send(bob, "mention", alice)
    run_jobs()
    assert len(mailbox.to("bob@example.org")) == 1


def test_inactive_accounts_are_not_notified(make_account, bob):
    pending = make_account("carol", status="pending")
    assert notify(pending, "mention", actor=bob, url="/") is None


# -- invitations --------------------------------------------------------------------------


def test_inviting_an_existing_account_notifies_it_without_a_second_email(
        app, make_org, alice, bob, mailbox, run_jobs):
    org = make_org(owner=alice, handle="collectif", name="Collectif")
    response = client_for(app, alice).post("/orgs/collectif/invitations",
                                           data={"who": "@bob", "role": "editor"})
    assert response.status_code == 302
    run_jobs()
    assert len(mailbox.to("bob@example.org")) == 1  # the invitation itself, with its link
    note = db.session.scalar(select(Notification).where(Notification.account_id == bob.id))
    assert (note.kind, note.actor_id, note.target_type, note.excerpt) == (
        "invitation", alice.id, "invitation", "Collectif")
    browser = client_for(app, bob)
    html = browser.get("/notifications").get_data(as_text=True)
    assert "@alice invited you to join an organisation" in html and "Collectif" in html
    opened = browser.get(f"/notifications/{note.id}")
    assert opened.headers["Location"] == "/me#inv-title"
    assert "Collectif invites you as editor." in browser.get("/me").get_data(as_text=True)
    assert org.id


def test_inviting_by_email_someone_without_an_account_notifies_nobody(
        app, make_org, alice, run_jobs):
    make_org(owner=alice, handle="collectif")
    client_for(app, alice).post("/orgs/collectif/invitations",
                                data={"who": "new@example.org", "role": "member"})
    assert db.session.scalar(select(Notification)) is None
