"""Account settings: password, e-mail, export and deletion."""

from __future__ import annotations

import json

import pytest

from hub.accounts.models import Account, Handle
from hub.extensions import db
from hub.orgs.models import Membership
from tests.integration.accounts_support import (
    PASSWORD,
    count,
    english,
    field_errors,
    form_errors,
    fresh,
    signup,
    text,
)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def alice(make_account):
    return make_account("alice")


def log_in(client, login: str = "alice", password: str = PASSWORD):
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 302, text(response)[:500]
    return client


def test_settings_page_shows_every_form(client, alice):
    log_in(client)
    page = text(client.get("/settings"))
    for action in ("/settings/email", "/settings/password", "/settings/delete"):
        assert f'action="{action}"' in page
    assert 'href="/settings/export"' in page
    assert "alice@example.org" in page


# -- password -----------------------------------------------------------------------------


def test_changing_the_password_logs_out_other_sessions_only(app, client, alice):
    other = log_in(english(app.test_client()))
    log_in(client)
    assert other.get("/me").status_code == 200

    response = client.post("/settings/password",
                           data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/me").status_code == 200  # this session was refreshed
    stale = other.get("/me")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/login")

    fresh_client = english(app.test_client())
    assert fresh_client.post("/login", data={"login": "alice", "password": PASSWORD}
                             ).status_code == 400
    log_in(fresh_client, password=NEW_PASSWORD)


@pytest.mark.parametrize(("current", "new", "field", "message"), [
    ("wrong password!", NEW_PASSWORD, "current_password", "The current password is wrong."),
    (PASSWORD, "short", "password", "Use at least 10 characters."),
    (PASSWORD, "1234567890", "password", "too common"),
])
def test_password_change_refusals_show_next_to_the_field(client, alice, current, new, field,
                                                         message):
    log_in(client)
    stamp = fresh(alice).security_stamp
    response = client.post("/settings/password",
                           data={"current_password": current, "password": new})
    assert response.status_code == 400
    assert message in field_errors(text(response), field)
    assert fresh(alice).security_stamp == stamp


def test_remember_me_cookie_dies_with_the_password(app, client, alice):
    remembered = english(app.test_client())
    remembered.post("/login", data={"login": "alice", "password": PASSWORD, "remember": "y"})
    remember = remembered.get_cookie("remember_token")
    assert remember is not None
    log_in(client)
    client.post("/settings/password",
                data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    # A browser that lost its session cookie but kept the remember cookie:
    revived = english(app.test_client())
    revived.set_cookie("remember_token", remember.value)
    assert revived.get("/me").status_code == 302


# -- e-mail -------------------------------------------------------------------------------


def test_email_change_waits_for_the_new_address_and_warns_the_old_one(client, alice, mailbox,
                                                                     run_jobs):
    log_in(client)
    response = client.post("/settings/email", data={"email": "alice@new.example.org",
                                                    "current_password": PASSWORD})
    assert response.status_code == 302
    account = fresh(alice)
    assert account.email == "alice@example.org"
    assert account.pending_email == "alice@new.example.org"
    assert "Waiting for confirmation: alice@new.example.org" in text(client.get("/settings"))

    run_jobs()
    [notice] = mailbox.to("alice@example.org")
    assert "alice@new.example.org" in notice.get_content()
    assert "/confirm/" not in notice.get_content()  # the link goes to the new address only
    link = mailbox.last_link("alice@new.example.org", "/confirm/")

    assert client.get(link).status_code == 302
    account = fresh(alice)
    assert account.email == "alice@new.example.org" and account.pending_email is None
    assert client.get("/me").status_code == 302  # the stamp changed: log in again

    assert english(client).post("/login", data={"login": "alice@example.org",
                                                "password": PASSWORD}).status_code == 400
    log_in(client, login="alice@new.example.org")


def test_old_email_change_links_die_when_another_change_is_asked(client, alice, mailbox,
                                                                 run_jobs):
    log_in(client)
    client.post("/settings/email", data={"email": "first@example.org",
                                         "current_password": PASSWORD})
    client.post("/settings/email", data={"email": "second@example.org",
                                         "current_password": PASSWORD})
    run_jobs()
    response = client.get(mailbox.last_link("first@example.org", "/confirm/"))
    assert response.status_code == 400
    assert fresh(alice).email == "alice@example.org"


def test_email_taken_meanwhile_is_refused_at_confirmation(client, alice, make_account, mailbox,
                                                          run_jobs):
    log_in(client)
    client.post("/settings/email", data={"email": "wanted@example.org",
                                         "current_password": PASSWORD})
    make_account("bob", email="wanted@example.org")
    run_jobs()
    response = client.get(mailbox.last_link("wanted@example.org", "/confirm/"))
    assert response.status_code == 400
    assert "already uses this e-mail" in text(response)
    assert fresh(alice).email == "alice@example.org"


@pytest.mark.parametrize(("email", "password", "field", "message"), [
    ("new@example.org", "wrong password!", "current_password", "The current password is wrong."),
    ("ALICE@example.org", PASSWORD, "email", "This is already your address."),
    ("bob@example.org", PASSWORD, "email", "An account already uses this e-mail address."),
    ("not an address", PASSWORD, "email", ""),
])
def test_email_change_refusals_show_next_to_the_field(client, alice, make_account, email,
                                                      password, field, message):
    make_account("bob")
    log_in(client)
    response = client.post("/settings/email", data={"email": email, "current_password": password})
    assert response.status_code == 400
    assert message in field_errors(text(response), field)
    assert field_errors(text(response), field)
    assert fresh(alice).pending_email is None


# -- export -------------------------------------------------------------------------------


def test_export_is_a_json_attachment_with_account_and_memberships(client, alice, make_org):
    make_org(owner=alice, handle="lesamis", name="Les Amis")
    log_in(client)
    response = client.get("/settings/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="maillage-alice.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["format"] == "maillage-account-export"
    assert data["account"]["handle"] == "alice"
    assert data["account"]["email"] == "alice@example.org"
    assert "password_hash" not in json.dumps(data) and "security_stamp" not in json.dumps(data)
    assert data["memberships"] == [{"organisation": "lesamis", "name": "Les Amis",
                                    "role": "owner", "since": data["memberships"][0]["since"]}]


def test_export_needs_login(client):
    assert client.get("/settings/export").status_code == 302


# -- deletion -----------------------------------------------------------------------------


def delete(client, password: str = PASSWORD, **extra):
    return client.post("/settings/delete", data={"current_password": password,
                                                  "content": "keep", "confirm": "y", **extra})


def test_deletion_with_a_wrong_password_is_refused(client, alice):
    log_in(client)
    response = delete(client, password="wrong password!")
    assert response.status_code == 400
    assert "The current password is wrong." in field_errors(text(response), "current_password")
    assert fresh(alice).status == "active"


def test_deletion_needs_the_confirmation_box(client, alice):
    log_in(client)
    response = client.post("/settings/delete", data={"current_password": PASSWORD,
                                                     "content": "keep"})
    assert response.status_code == 400
    assert field_errors(text(response), "confirm")
    assert fresh(alice).status == "active"


def test_sole_owner_cannot_delete_the_account(client, alice, make_org):
    make_org(owner=alice, handle="lesamis", name="Les Amis")
    log_in(client)
    response = delete(client)
    assert response.status_code == 400
    assert "You are the only owner of Les Amis: transfer ownership first." in \
        form_errors(text(response))
    assert fresh(alice).status == "active"
    assert count(Membership) == 1


def test_an_owner_with_a_co_owner_can_leave_by_deleting(client, alice, make_account, make_org,
                                                        make_member):
    org = make_org(owner=alice, handle="lesamis")
    make_member(org, make_account("bob"), role="owner")
    log_in(client)
    assert delete(client).status_code == 302
    db.session.expire_all()
    assert [m.account.handle for m in db.session.scalars(db.select(Membership))] == ["bob"]


def test_deleted_account_is_gone_but_its_handle_stays_reserved(app, client, alice):
    log_in(client)
    response = delete(client)
    assert response.status_code == 302
    assert client.get("/me").status_code == 302  # logged out

    account = fresh(alice)
    assert account.status == "deleted" and account.email is None
    assert account.password_hash is None and account.display_name == ""
    assert db.session.get(Handle, "alice") is not None

    visitor = english(app.test_client())
    assert visitor.post("/login", data={"login": "alice", "password": PASSWORD}
                        ).status_code == 400
    assert visitor.post("/login", data={"login": "alice@example.org", "password": PASSWORD}
                        ).status_code == 400
    assert visitor.get("/@alice").status_code == 404

    taken = signup(visitor, handle="Alice", email="someone@example.org")
    assert taken.status_code == 400
    assert "already taken" in field_errors(text(taken), "handle")

    again = signup(visitor, handle="alice_again", email="alice@example.org")
    assert again.status_code == 302
    assert count(Account) == 2


def test_deleted_account_reset_links_die(client, alice, mailbox, run_jobs):
    client.post("/password/forgot", data={"email": "alice@example.org"})
    run_jobs()
    link = mailbox.last_link("alice@example.org", "/password/reset/")
    log_in(client)
    delete(client)
    assert client.get(link).status_code == 400
