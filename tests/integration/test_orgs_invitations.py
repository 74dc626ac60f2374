"""Invitations: by handle or e-mail, answered once from the mailed link, before it expires."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update

from hub.accounts.models import Account
from hub.extensions import db
from hub.models_base import utcnow
from hub.orgs.models import Invitation
from tests.integration.orgs_support import (  # noqa: F401
    client_for,
    english,
    invitations,
    login_redirect,
    memberships,
    snapshot,
)


@pytest.fixture
def org(make_account, make_org):
    return make_org(owner=make_account("owner"), handle="collectif", name="Collectif")


@pytest.fixture
def owner_browser(app, org):
    from hub.accounts.queries import find_account_by_handle

    return client_for(app, find_account_by_handle("owner"))


def invite(browser, who: str, role: str = "member"):
    return browser.post("/orgs/collectif/invitations", data={"who": who, "role": role})


def mailed_link(mailbox, run_jobs, address: str) -> str:
    run_jobs()
    return mailbox.last_link(address, "/invitations/")


def test_invitation_by_handle_is_mailed_and_accepting_gives_the_role(
        app, org, owner_browser, make_account, mailbox, run_jobs):
    bob = make_account("bob")

    response = invite(owner_browser, "@bob", "editor")

    assert response.status_code == 302
    assert response.headers["Location"] == "/orgs/collectif/members"
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    browser = client_for(app, bob)
    page = browser.get(link).get_data(as_text=True)
    assert "Owner invites you to join Collectif as editor." in page
    answer = browser.post(link, data={"action": "accept"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/@collectif"
    assert memberships(org.id)[bob.id] == "editor"
    assert "Your role: editor." in browser.get("/@collectif").get_data(as_text=True)


def test_invitation_by_email_lets_a_newcomer_sign_up_then_accept(
        app, org, owner_browser, client, mailbox, run_jobs):
    assert invite(owner_browser, "claire@example.net", "member").status_code == 302
    link = mailed_link(mailbox, run_jobs, "claire@example.net")
    token = link.rsplit("/", 1)[1]

    page = unescape(client.get(link).get_data(as_text=True))

    assert f'href="/login?next={link}"' in page
    assert f'href="/register?invitation={token}"' in page
    signup = client.post("/register", data={"handle": "claire", "email": "claire@example.net",
                                            "password": "une phrase de passe solide",
                                            "invitation": token})
    assert signup.status_code == 302
    assert signup.headers["Location"] == f"/login?next={link}"
    logged_in = client.post(signup.headers["Location"],
                            data={"login": "claire", "password": "une phrase de passe solide"})
    assert logged_in.headers["Location"] == link
    assert client.post(link, data={"action": "accept"}).status_code == 302
    claire = db.session.scalar(select(Account).where(Account.handle_key == "claire"))
    assert memberships(org.id)[claire.id] == "member"


def test_declining_records_the_answer_and_gives_no_membership(
        app, org, owner_browser, make_account, mailbox, run_jobs):
    bob = make_account("bob")
    invite(owner_browser, "bob")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")

    response = client_for(app, bob).post(link, data={"action": "decline"})

    assert response.status_code == 302
    assert bob.id not in memberships(org.id)
    assert list(invitations(org.id).values()) == ["declined"]


def test_an_accepted_link_cannot_be_used_again(app, org, owner_browser, make_account, mailbox,
                                               run_jobs, make_member):
    bob = make_account("bob")
    invite(owner_browser, "bob", "admin")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    browser = client_for(app, bob)
    assert browser.post(link, data={"action": "accept"}).status_code == 302
    owner_browser.post(f"/orgs/collectif/members/{bob.id}/role", data={"role": "member"})
    before = snapshot(org.id)

    again = browser.post(link, data={"action": "accept"})
    page = browser.get(link)

    assert again.status_code == 400 and page.status_code == 400
    assert "This invitation has already been used." in page.get_data(as_text=True)
    assert snapshot(org.id) == before
    assert before["memberships"][bob.id] == "member"


def test_an_expired_link_is_refused(app, org, owner_browser, make_account, mailbox, run_jobs):
    bob = make_account("bob")
    invite(owner_browser, "bob")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    browser = client_for(app, bob)
    before = snapshot(org.id)

    page = browser.get(link)
    answer = browser.post(link, data={"action": "accept"})

    assert page.status_code == 400 and answer.status_code == 400
    assert "This invitation has expired." in page.get_data(as_text=True)
    assert snapshot(org.id) == before


def test_an_unknown_link_is_not_found(client):
    response = client.get("/invitations/not-a-real-token")

    assert response.status_code == 404
    assert "This invitation link is not valid." in response.get_data(as_text=True)


def test_an_invitation_for_one_account_is_refused_to_another(
        app, org, owner_browser, make_account, mailbox, run_jobs):
    make_account("bob")
    mallory = make_account("mallory")
    invite(owner_browser, "bob")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    browser = client_for(app, mallory)
    before = snapshot(org.id)

    assert browser.get(link).status_code == 403
    assert browser.post(link, data={"action": "accept"}).status_code == 403
    assert browser.post(link, data={"action": "decline"}).status_code == 403
    assert snapshot(org.id) == before


def test_a_visitor_must_log_in_to_answer(org, owner_browser, make_account, client, mailbox,
                                         run_jobs):
    make_account("bob")
    invite(owner_browser, "bob")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    before = snapshot(org.id)

    page = client.get(link).get_data(as_text=True)
    response = client.post(link, data={"action": "accept"})

    assert "Log in to answer" in page
    assert "Create an account" not in page  # bob already has one
    assert response.status_code == 302
    assert response.headers["Location"] == login_redirect(link)
    assert snapshot(org.id) == before


def test_inviting_an_existing_member_says_so_and_changes_nothing(org, owner_browser,
                                                                 make_account, make_member):
    bob = make_account("bob")
    make_member(org, bob, "member")
    before = snapshot(org.id)

    response = invite(owner_browser, "bob")

    assert response.status_code == 302
    page = owner_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "@bob is already a member." in page
    assert snapshot(org.id) == before


def test_inviting_twice_says_an_invitation_is_waiting(org, owner_browser, make_account):
    make_account("bob")
    invite(owner_browser, "bob")
    before = snapshot(org.id)

    response = invite(owner_browser, "bob")

    page = owner_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "An invitation is already waiting for an answer." in page
    assert snapshot(org.id) == before


@pytest.mark.parametrize("who, message", [
    ("nobody_here", "Nobody has the handle @nobody_here here."),
    ("not@an@address", "This e-mail address is not valid."),
    ("", "This field is required."),
])
def test_invite_form_errors_are_shown_next_to_the_field(org, owner_browser, who, message):
    before = snapshot(org.id)

    response = invite(owner_browser, who)

    assert response.status_code == 400
    errors = re.search(r'<ul class="errors" id="who-err">(.*?)</ul>',
                       response.get_data(as_text=True), re.S)
    assert errors and message in unescape(errors.group(1))
    assert snapshot(org.id) == before


def test_revoked_invitation_link_no_longer_works(app, org, owner_browser, make_account,
                                                 mailbox, run_jobs):
    bob = make_account("bob")
    invite(owner_browser, "bob")
    link = mailed_link(mailbox, run_jobs, "bob@example.org")
    (invitation_id,) = invitations(org.id)

    revoked = owner_browser.post(f"/orgs/collectif/invitations/{invitation_id}/revoke", data={})

    assert revoked.status_code == 302
    assert client_for(app, bob).post(link, data={"action": "accept"}).status_code == 400
    assert bob.id not in memberships(org.id)
