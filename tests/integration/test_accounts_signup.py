"""Sign-up in open mode, the confirmation e-mail and its link, and every refusal of the form."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from hub.accounts.models import Account, Handle
from hub.extensions import db
from tests.integration.accounts_support import (
    PASSWORD,
    count,
    english,
    field_errors,
    form_errors,
    signup,
    text,
)


@pytest.fixture
def client(app):
    return english(app.test_client())


def _account(handle_key: str) -> Account | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Account).where(Account.handle_key == handle_key))


def test_signup_mails_a_link_that_confirms_and_then_login_works(client, mailbox, run_jobs):
    response = signup(client, handle="Newcomer", email="newcomer@example.org")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    account = _account("newcomer")
    assert account.handle == "Newcomer" and account.status == "active"
    assert account.email_confirmed_at is None

    run_jobs()
    [message] = mailbox.to("newcomer@example.org")
    assert "Confirm" in message["Subject"] or "Confirmez" in message["Subject"]
    link = mailbox.last_link("newcomer@example.org", "/confirm/")

    confirmed = client.get(link)
    assert confirmed.status_code == 302
    assert _account("newcomer").email_confirmed_at is not None

    login = client.post("/login", data={"login": "newcomer", "password": PASSWORD})
    assert login.status_code == 302
    assert client.get("/me").status_code == 200


def test_login_before_confirming_is_refused_with_a_resend_link(client):
    signup(client)
    response = client.post("/login", data={"login": "newcomer", "password": PASSWORD})
    assert response.status_code == 400
    page = text(response)
    assert "Please confirm your e-mail address first" in form_errors(page)
    assert 'href="/confirm"' in page
    assert client.get("/me").status_code == 302  # still anonymous


def test_resend_mails_a_new_link_that_works(client, mailbox, run_jobs):
    signup(client)
    run_jobs()
    response = client.post("/confirm", data={"email": "newcomer@example.org"})
    assert response.status_code == 302
    run_jobs()
    assert len(mailbox.to("newcomer@example.org")) == 2
    assert client.get(mailbox.last_link("newcomer@example.org", "/confirm/")).status_code == 302
    assert _account("newcomer").email_confirmed_at is not None


def test_resend_for_an_unknown_address_answers_the_same_and_mails_nothing(client, mailbox,
                                                                         run_jobs):
    signup(client)
    run_jobs()
    answers = [client.post("/confirm", data={"email": address}, follow_redirects=True)
               for address in ("newcomer@example.org", "nobody@example.org")]
    for answer in answers:
        assert answer.status_code == 200
        assert "If this address is waiting for confirmation" in text(answer)
    run_jobs()
    assert mailbox.to("nobody@example.org") == []


def test_expired_confirmation_link_gives_a_clear_400_page(client, mailbox, run_jobs,
                                                          monkeypatch):
    past = int(time.time()) - 49 * 3600  # HUB_TOKEN_MAX_AGE_HOURS is 48
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: past)
        signup(client)
    run_jobs()
    response = client.get(mailbox.last_link("newcomer@example.org", "/confirm/"))
    assert response.status_code == 400
    page = text(response)
    assert "This confirmation link has expired." in page
    assert 'href="/confirm"' in page  # a way to get a new one
    assert _account("newcomer").email_confirmed_at is None


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),  # signature changed
    lambda t: "x" + t,                                                # payload changed
    lambda t: "not-a-token",
])
def test_tampered_confirmation_link_gives_a_clear_400_page(client, mailbox, run_jobs, mangle):
    signup(client)
    run_jobs()
    link = mailbox.last_link("newcomer@example.org", "/confirm/")
    prefix, token = link.rsplit("/", 1)
    response = client.get(f"{prefix}/{mangle(token)}")
    assert response.status_code == 400
    assert "This confirmation link is not valid." in text(response)
    assert _account("newcomer").email_confirmed_at is None


# -- handles ----------------------------------------------------------------------------


@pytest.mark.parametrize(("handle", "message"), [
    ("alice", "already taken"),
    ("Alice", "already taken"),
    ("ALICE", "already taken"),
    ("ａｌｉｃｅ", "already taken"),        # fullwidth: NFKC makes it "alice"
    ("@alice", "already taken"),
    ("аlice", "Use only letters a–z"),      # Cyrillic а: refused by the alphabet rule
    ("Straße", "Use only letters a–z"),
    ("admin", "reserved"),
    ("inbox", "reserved"),
    ("api", "reserved"),
    ("well_known", "reserved"),
    ("static", "reserved"),
    ("x", "at least 2"),
    ("_alice_", "cannot start or end with _"),
])
def test_refused_handles_show_the_reason_next_to_the_field(client, make_account, handle,
                                                           message):
    make_account("alice")
    accounts, handles = count(Account), count(Handle)
    response = signup(client, handle=handle)
    assert response.status_code == 400
    assert message in field_errors(text(response), "handle")
    assert (count(Account), count(Handle)) == (accounts, handles)


def test_an_organisation_handle_blocks_an_account_handle(client, make_org):
    make_org(handle="lesamis")
    accounts, handles = count(Account), count(Handle)
    response = signup(client, handle="LesAmis")
    assert response.status_code == 400
    assert "already taken" in field_errors(text(response), "handle")
    assert (count(Account), count(Handle)) == (accounts, handles)


def test_fullwidth_handle_is_stored_in_ascii(client):
    """Before the fix the handle was stored as typed: "ＢＯＢ" in fullwidth letters."""
    assert signup(client, handle="ＢＯＢ", email="bob@example.org").status_code == 302
    assert _account("bob").handle == "BOB"


# -- other refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["alice@example.org", "ALICE@Example.org"])
def test_duplicate_email_is_refused_next_to_the_field(client, make_account, email):
    make_account("alice")
    accounts, handles = count(Account), count(Handle)
    response = signup(client, email=email)
    assert response.status_code == 400
    assert "already uses this e-mail" in field_errors(text(response), "email")
    assert (count(Account), count(Handle)) == (accounts, handles)


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 10"),
    ("1234567890", "too common"),
    ("newcomer-password", "must not contain your handle"),
])
def test_weak_password_is_refused_next_to_the_field(client, password, message):
    accounts, handles = count(Account), count(Handle)
    response = signup(client, password=password)
    assert response.status_code == 400
    assert message in field_errors(text(response), "password")
    assert (count(Account), count(Handle)) == (accounts, handles)


def test_invalid_email_is_refused_next_to_the_field(client):
    response = signup(client, email="not-an-address")
    assert response.status_code == 400
    assert field_errors(text(response), "email")
    assert count(Account) == 0


def test_filled_honeypot_answers_400_and_creates_nothing(client, mailbox, run_jobs):
    response = signup(client, website="https://spam.example")
    assert response.status_code == 400
    assert count(Account) == 0 and count(Handle) == 0
    run_jobs()
    assert mailbox.messages() == []


def test_signup_page_has_labelled_fields_and_a_hidden_honeypot(client):
    page = text(client.get("/register"))
    for name in ("handle", "email", "password"):
        assert f'<label for="{name}">' in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page


def test_logged_in_people_are_sent_away_from_signup(client, make_account, login):
    login(make_account())
    assert client.get("/register").status_code == 302
