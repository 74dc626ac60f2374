"""Sign-up through the real /register form in each registration mode, and the default language."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account, Handle
from hub.accounts.queries import find_account_by_handle
from hub.admin.services import ensure_settings
from hub.extensions import db
from hub.orgs.models import Invitation
from tests.integration.admin_support import SETTINGS_FORM, log_in

NEW_PASSWORD = "a long enough passphrase"


@pytest.fixture(autouse=True)
def english_instance(app):
    """Messages are asserted in English: make it the instance's default language."""
    ensure_settings().default_locale = "en"
    db.session.commit()


@pytest.fixture
def set_mode(app):
    def set_(mode: str) -> None:
        ensure_settings().registration_mode = mode
        db.session.commit()

    return set_


def sign_up(client, handle="newbie", email="newbie@example.org", **extra):
    return client.post("/register", data={"handle": handle, "email": email,
                                          "password": NEW_PASSWORD, **extra})


def log_in_as(client, login: str, password: str = NEW_PASSWORD):
    return client.post("/login", data={"login": login, "password": password})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def nothing_created() -> bool:
    db.session.expire_all()
    return find_account_by_handle("newbie") is None and db.session.get(Handle, "newbie") is None


def invite(app, admin, email: str) -> str:
    """An admin invites through the admin page; returns the sign-up link from the e-mail."""
    from tests.plugins.app import Mailbox

    admin_client = log_in(app.test_client(), admin)
    response = admin_client.post("/admin/invitations", data={"email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    from hub.jobs import jobs

    while jobs.drain():
        pass
    return Mailbox(app).last_link(email, "/register")


# -- open --------------------------------------------------------------------------------


def test_open_sign_up_confirms_by_email_then_logs_in(client, set_mode, run_jobs, mailbox):
    set_mode("open")
    response = sign_up(client)
    assert response.status_code == 302
    account = find_account_by_handle("newbie")
    assert account is not None and account.status == "active"
    assert account.email_confirmed_at is None
    assert log_in_as(client, "newbie").status_code == 400  # not confirmed yet
    run_jobs()
    assert client.get(mailbox.last_link("newbie@example.org", "/confirm/")).status_code == 302
    assert log_in_as(client, "newbie").status_code == 302
    assert client.get("/me").status_code == 200


# -- approval ----------------------------------------------------------------------------


def test_approval_needs_a_motivation(client, set_mode):
    set_mode("approval")
    page = client.get("/register").get_data(as_text=True)
    assert 'name="motivation"' in page
    response = sign_up(client)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="motivation-err"' in html
    assert "Tell the administrators why you want to join." in html
    assert nothing_created()


def test_approval_sign_up_waits_for_an_admin(app, client, set_mode, make_account, run_jobs,
                                             mailbox):
    set_mode("approval")
    admins = [make_account(role="admin"), make_account(role="admin")]
    make_account(role="moderator")
    response = sign_up(client, motivation="We run a documentation centre in Lille.")
    assert response.status_code == 302
    account = find_account_by_handle("newbie")
    assert account is not None and account.status == "pending"
    run_jobs()
    for admin in admins:
        link = mailbox.last_link(admin.email, "/admin/accounts")
        assert link == "/admin/accounts?status=pending"
    assert len(mailbox.messages()) == 3  # two admins and the confirmation link

    refused = log_in_as(client, "newbie")
    assert refused.status_code == 400
    assert "waiting for an administrator" in refused.get_data(as_text=True)

    admin_client = log_in(app.test_client(), admins[0])
    listing = admin_client.get("/admin/accounts?status=pending").get_data(as_text=True)
    assert "We run a documentation centre in Lille." in listing
    assert admin_client.post(f"/admin/accounts/{account.id}/approve",
                             data={}).status_code == 302
    run_jobs()
    subjects = [m["Subject"] for m in mailbox.to("newbie@example.org")]
    assert any(s.startswith("Your account is approved") for s in subjects)
    assert client.get(mailbox.last_link("newbie@example.org", "/confirm/")).status_code == 302
    assert log_in_as(client, "newbie").status_code == 302


# -- invitation --------------------------------------------------------------------------


def test_invitation_mode_refuses_sign_up_without_invitation(client, set_mode):
    set_mode("invitation")
    assert "need an invitation" in client.get("/register").get_data(as_text=True)
    response = sign_up(client)
    assert response.status_code == 400
    assert "Registrations on this instance need an invitation." in response.get_data(
        as_text=True)
    assert nothing_created()


def test_admin_invitation_is_stored_hashed_mailed_and_logged(app, set_mode, make_account):
    from hub.admin.models import AdminAction

    set_mode("invitation")
    admin = make_account(role="admin")
    link = invite(app, admin, "guest@example.org")
    token = parse_qs(urlsplit(link).query)["invitation"][0]
    assert urlsplit(link).path == "/register"
    invitation = db.session.scalar(select(Invitation))
    assert invitation.org_id is None and invitation.email == "guest@example.org"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.status == "pending" and invitation.inviter_id == admin.id
    [row] = db.session.scalars(select(AdminAction).where(AdminAction.action == "instance.invite"))
    assert (row.actor_id, row.target_type, row.target_id) == (admin.id, "invitation",
                                                              invitation.id)


def test_invited_person_signs_up_once(app, client, set_mode, make_account):
    set_mode("invitation")
    link = invite(app, make_account(role="admin"), "newbie@example.org")
    page = client.get(link).get_data(as_text=True)
    token = parse_qs(urlsplit(link).query)["invitation"][0]
    assert f'name="invitation" value="{token}"' in page
    response = sign_up(client, invitation=token)
    assert response.status_code == 302
    account = find_account_by_handle("newbie")
    assert account is not None and account.status == "active"
    assert account.email_confirmed_at is not None  # the invitation came to this address
    invitation = db.session.scalar(select(Invitation))
    assert invitation.status == "accepted" and invitation.responded_at is not None
    assert invitation.account_id == account.id
    assert log_in_as(client, "newbie").status_code == 302

    other = app.test_client()
    again = sign_up(other, handle="second", email="second@example.org", invitation=token)
    assert again.status_code == 400
    assert "This invitation has already been used." in again.get_data(as_text=True)
    assert find_account_by_handle("second") is None


def test_invitation_used_with_another_address_needs_confirmation(app, client, set_mode,
                                                                 make_account, run_jobs,
                                                                 mailbox):
    set_mode("invitation")
    link = invite(app, make_account(role="admin"), "invited@example.org")
    token = parse_qs(urlsplit(link).query)["invitation"][0]
    assert sign_up(client, invitation=token).status_code == 302
    account = find_account_by_handle("newbie")
    assert account is not None and account.email_confirmed_at is None
    run_jobs()
    assert mailbox.last_link("newbie@example.org", "/confirm/")


def test_revoked_invitation_no_longer_works(app, client, set_mode, make_account):
    set_mode("invitation")
    admin = make_account(role="admin")
    link = invite(app, admin, "newbie@example.org")
    invitation = db.session.scalar(select(Invitation))
    admin_client = log_in(app.test_client(), admin)
    assert admin_client.post(f"/admin/invitations/{invitation.id}/revoke",
                             data={}).status_code == 302
    token = parse_qs(urlsplit(link).query)["invitation"][0]
    response = sign_up(client, invitation=token)
    assert response.status_code == 400
    assert nothing_created()


def test_organisation_invitation_opens_one_account_only(app, client, set_mode, make_org):
    from hub.orgs.services import invite as invite_to_org

    set_mode("invitation")
    org = make_org()
    owner = db.session.get(Account, org.created_by_id)
    with app.test_request_context():  # the service builds the link with url_for
        token = invite_to_org(owner, org, "newbie@example.org").token
        db.session.commit()
    assert sign_up(client, invitation=token).status_code == 302
    assert find_account_by_handle("newbie") is not None
    again = sign_up(app.test_client(), handle="second", email="second@example.org",
                    invitation=token)
    assert again.status_code == 400
    assert "This invitation has already been used." in again.get_data(as_text=True)
    assert find_account_by_handle("second") is None


@pytest.mark.parametrize("email", ["", "not-an-address", "boss@example.org"])
def test_instance_invitation_needs_a_new_valid_address(client, make_account, email):
    log_in(client, make_account("boss", role="admin"))
    response = client.post("/admin/invitations", data={"email": email})
    assert response.status_code == 400
    assert 'id="email-err"' in response.get_data(as_text=True)
    assert count(Invitation) == 0


def test_instance_invitation_is_not_sent_twice(app, make_account):
    admin = make_account(role="admin")
    invite(app, admin, "guest@example.org")
    admin_client = log_in(app.test_client(), admin)
    response = admin_client.post("/admin/invitations", data={"email": "GUEST@example.org"})
    assert response.status_code == 400
    assert "already waiting" in response.get_data(as_text=True)
    assert count(Invitation) == 1


@pytest.mark.parametrize("role", ["user", "moderator"])
def test_non_admin_cannot_invite_to_the_instance(client, make_account, run_jobs, mailbox,
                                                 role):
    log_in(client, make_account(role=role))
    response = client.post("/admin/invitations", data={"email": "guest@example.org"})
    assert response.status_code == 403
    assert count(Invitation) == 0
    run_jobs()
    assert mailbox.to("guest@example.org") == []


# -- closed ------------------------------------------------------------------------------


def test_closed_instance_refuses_sign_up(client, set_mode):
    set_mode("closed")
    page = client.get("/register").get_data(as_text=True)
    assert "Registrations are closed on this instance." in page
    assert 'name="handle"' not in page
    response = sign_up(client)
    assert response.status_code == 400
    assert "Registrations are closed on this instance." in response.get_data(as_text=True)
    assert nothing_created()
    assert count(Account) == 0


# -- default language --------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_default_language_applies_to_visitors_without_preference(app, client, make_account,
                                                                 locale):
    admin_client = log_in(app.test_client(), make_account(role="admin"))
    response = admin_client.post("/admin/settings",
                                 data={**SETTINGS_FORM, "default_locale": locale})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)  # no Accept-Language, no cookie
    assert f'<html lang="{locale}">' in page
    other = "fr" if locale == "en" else "en"
    asked = client.get("/", headers={"Accept-Language": other}).get_data(as_text=True)
    assert f'<html lang="{other}">' in asked
