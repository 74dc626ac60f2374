"""Sign-in through the real OpenID Connect provider of ../shared/peers (oidc-provider on
loopback): its real login and consent pages, played by a requests.Session; the hub is the
Flask test client."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account, IdentityProvider, LinkedIdentity
from hub.extensions import db
from tests.plugins.app import free_port
from tests.plugins.oidc_peer import CLIENT_ID, CLIENT_SECRET, ProviderBrowser

pytestmark = pytest.mark.slow

CALLBACK = "http://localhost/auth/callback"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def add_provider(app, oidc_peer, insecure_transport):
    from hub.accounts.providers import clear_cache

    clear_cache()

    def add(slug: str = "asso", label: str = "Asso SSO", **values) -> IdentityProvider:
        values = {"discovery_url": oidc_peer.discovery_url, "client_id": CLIENT_ID,
                  "client_secret": CLIENT_SECRET, "trust_email": True, **values}
        row = IdentityProvider(slug=slug, label=label, **values)
        db.session.add(row)
        db.session.commit()
        return row

    return add


@pytest.fixture
def provider(add_provider) -> IdentityProvider:
    return add_provider()


def authorize_url(client, slug: str = "asso", action: str = "login") -> str:
    response = client.get(f"/auth/{slug}/{action}")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return response.headers["Location"]


def back_to_hub(client, callback_url: str):
    assert isinstance(callback_url, str), f"stayed at the provider: {callback_url.text[:300]}"
    assert callback_url.startswith(CALLBACK)
    return client.get(callback_url.removeprefix("http://localhost"))


def sign_up(client, browser, handle: str = "alice") -> Account:
    response = back_to_hub(client, browser.sign_in(authorize_url(client)))
    assert response.status_code == 302 and response.headers["Location"] == "/auth/welcome"
    response = client.post("/auth/welcome", data={"handle": handle, "charter": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == "/me"
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.handle == handle))


def test_first_sign_in_creates_a_linked_account_and_the_second_opens_it(
        app, client, provider, oidc_peer):
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/auth/asso/login"' in login_page and "Sign in with Asso SSO" in login_page
    browser = ProviderBrowser(CALLBACK)
    callback = browser.sign_in(authorize_url(client), "alice")
    assert "iss=" in callback and "state=" in callback
    response = back_to_hub(client, callback)
    assert response.headers["Location"] == "/auth/welcome"
    page = client.get("/auth/welcome").get_data(as_text=True)
    assert 'value="alice"' in page and "I accept the instance charter" in page
    # The charter must be accepted: nothing is created without it.
    response = client.post("/auth/welcome", data={"handle": "alice"})
    assert response.status_code == 400 and "Accept the instance charter" in response.text
    assert count(Account) == 0 and count(LinkedIdentity) == 0
    response = client.post("/auth/welcome", data={"handle": "alice", "charter": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert "@alice" in client.get("/me").get_data(as_text=True)
    account = db.session.scalar(select(Account))
    assert account.password_hash is None and account.status == "active"
    assert account.email == "alice@example.test" and account.email_confirmed_at is not None
    assert account.display_name == "Alice"
    link = db.session.scalar(select(LinkedIdentity))
    assert (link.account_id, link.issuer, link.subject, link.provider_slug) == \
        (account.id, oidc_peer.issuer, "alice", "asso")

    # Another browser later: the provider asks again, the hub logs into the same account.
    other = app.test_client()
    response = back_to_hub(other, ProviderBrowser(CALLBACK).sign_in(authorize_url(other)))
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert "@alice" in other.get("/me").get_data(as_text=True)
    assert count(Account) == 1 and count(LinkedIdentity) == 1


def test_linking_a_second_provider_configuration_from_the_settings(
        app, client, provider, add_provider, make_account, login):
    add_provider("partner", "Partner network")
    account = make_account("localperson")
    login(account)
    settings = client.get("/settings").get_data(as_text=True)
    assert 'href="/auth/partner/link"' in settings
    browser = ProviderBrowser(CALLBACK)
    response = back_to_hub(client, browser.sign_in(authorize_url(client, "partner", "link"),
                                                   "bob"))
    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    link = db.session.scalar(select(LinkedIdentity))
    assert (link.account_id, link.subject, link.provider_slug) == (account.id, "bob", "partner")
    assert "Unlink Partner network" in client.get("/settings").get_data(as_text=True)

    # bob's identity now opens the local account, through either configuration.
    other = app.test_client()
    response = back_to_hub(other, ProviderBrowser(CALLBACK).sign_in(authorize_url(other), "bob"))
    assert response.headers["Location"] == "/me"
    assert "@localperson" in other.get("/me").get_data(as_text=True)
    assert count(Account) == 1

    # The same identity cannot be linked twice.
    response = back_to_hub(client, browser.sign_in(authorize_url(client, "asso", "link")))
    assert response.status_code == 302
    assert "already linked to your account" in client.get("/settings").get_data(as_text=True)
    assert count(LinkedIdentity) == 1


def test_a_wrong_password_at_the_provider_creates_nothing(client, provider):
    page = ProviderBrowser(CALLBACK).sign_in(authorize_url(client), "alice", "not-it")
    assert not isinstance(page, str) and "Invalid login" in page.text
    assert count(Account) == 0 and count(LinkedIdentity) == 0
    assert "Log in" in client.get("/me", follow_redirects=True).get_data(as_text=True)


def test_consent_denied_gives_a_clear_page_and_creates_nothing(client, provider):
    callback = ProviderBrowser(CALLBACK).sign_in(authorize_url(client), "alice", consent=False)
    assert "error=access_denied" in callback
    response = back_to_hub(client, callback)
    assert response.status_code == 400
    assert "did not allow this instance to use your identity" in response.text
    assert count(Account) == 0 and count(LinkedIdentity) == 0


def test_a_replayed_callback_or_used_code_is_refused(client, provider):
    url = authorize_url(client)
    with client.session_transaction() as session:
        pending = dict(session["sso_pending"])
    callback = ProviderBrowser(CALLBACK).sign_in(url, "alice")
    assert back_to_hub(client, callback).status_code == 302
    # The state was good for one callback only.
    response = back_to_hub(client, callback)
    assert response.status_code == 400 and "not the one that was started" in response.text
    # Even with the state put back, the provider refuses a code it already exchanged.
    with client.session_transaction() as session:
        session["sso_pending"] = pending
        session.pop("sso_signup", None)
    response = back_to_hub(client, callback)
    assert response.status_code == 400 and "expired or was already used" in response.text
    assert count(Account) == 0


def test_a_callback_with_another_state_is_refused(client, provider):
    callback = ProviderBrowser(CALLBACK).sign_in(authorize_url(client), "alice")
    authorize_url(client)  # a newer sign-in in the same browser replaces the state
    response = back_to_hub(client, callback)
    assert response.status_code == 400
    assert count(Account) == 0


def test_an_unreachable_provider_gives_a_clear_page(client, add_provider):
    add_provider("gone", "Gone", discovery_url=f"http://127.0.0.1:{free_port()}"
                 "/.well-known/openid-configuration")
    response = client.get("/auth/gone/login")
    assert response.status_code == 502 and "cannot be reached" in response.text


def test_unlinking_the_last_way_to_log_in_is_refused(client, provider):
    account = sign_up(client, ProviderBrowser(CALLBACK))
    link = db.session.scalar(select(LinkedIdentity))
    response = client.post(f"/auth/links/{link.id}/unlink", data={})
    assert response.status_code == 403 and "only way to log in" in response.text
    assert count(LinkedIdentity) == 1
    assert account.password_hash is None


def test_unlinking_works_when_a_password_remains(client, provider, make_account, login):
    account = make_account("withpassword")
    login(account)
    back_to_hub(client, ProviderBrowser(CALLBACK).sign_in(authorize_url(client, "asso", "link")))
    link = db.session.scalar(select(LinkedIdentity))
    response = client.post(f"/auth/links/{link.id}/unlink", data={})
    assert response.status_code == 302
    assert count(LinkedIdentity) == 0


def test_an_email_match_never_opens_a_local_account(client, provider, make_account):
    make_account("owner", email="alice@example.test")
    response = back_to_hub(client, ProviderBrowser(CALLBACK).sign_in(authorize_url(client)))
    assert response.status_code == 409
    assert "log in with it, then link" in response.text
    assert count(LinkedIdentity) == 0 and count(Account) == 1
    assert client.get("/me").status_code == 302  # not logged in


def test_no_account_is_created_when_the_provider_may_not_create_them(client, add_provider):
    add_provider(allow_signup=False)
    response = back_to_hub(client, ProviderBrowser(CALLBACK).sign_in(authorize_url(client)))
    assert response.status_code == 403
    assert "new accounts cannot be created through it" in response.text
    assert count(Account) == 0 and count(LinkedIdentity) == 0


def test_an_id_token_for_another_client_is_refused(client, add_provider):
    # The provider knows only "hub": a configuration claiming another client id is refused
    # by the provider itself before any code; with the right client but a tampered issuer
    # in our configuration the callback's iss check catches the mix-up.
    from hub.accounts.providers import _cache

    add_provider()
    url = authorize_url(client)
    key = next(k for k in _cache if k.startswith("discovery "))
    stamp, meta = _cache[key]
    _cache[key] = (stamp, {**meta, "issuer": "https://another.example"})
    response = back_to_hub(client, ProviderBrowser(CALLBACK).sign_in(url))
    assert response.status_code == 400 and "another identity provider" in response.text
    assert count(Account) == 0
