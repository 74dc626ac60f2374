"""CSRF on the account forms, security headers, session cookies, language choice, health."""

from __future__ import annotations

import re

import pytest

from hub.accounts.models import Account, Handle
from tests.integration.accounts_support import PASSWORD, count, english, fresh, text

NEW_PASSWORD = "a brand new passphrase"
CSRF_MESSAGE = "The form has expired or was not sent from this site."


@pytest.fixture
def client(app):
    return english(app.test_client())


def log_in(client, login: str = "alice"):
    assert client.post("/login", data={"login": login, "password": PASSWORD}).status_code == 302
    return client


# -- CSRF ---------------------------------------------------------------------------------


@pytest.fixture(params=["missing", "forged"])
def bad_token(request) -> dict:
    return {} if request.param == "missing" else {"csrf_token": "forged-token-value"}


def _assert_csrf_refusal(response) -> None:
    assert response.status_code == 400
    page = text(response)
    assert "Bad request" in page and CSRF_MESSAGE in page


def test_login_without_a_valid_csrf_token_is_refused(client, make_account, bad_token):
    make_account("alice")
    response = client.post("/login", csrf=False,
                           data={"login": "alice", "password": PASSWORD, **bad_token})
    _assert_csrf_refusal(response)
    assert client.get("/me").status_code == 302


def test_register_without_a_valid_csrf_token_creates_nothing(client, bad_token):
    response = client.post("/register", csrf=False, data={
        "handle": "newcomer", "email": "newcomer@example.org", "password": PASSWORD,
        **bad_token})
    _assert_csrf_refusal(response)
    assert count(Account) == 0 and count(Handle) == 0


@pytest.mark.parametrize(("path", "data"), [
    ("/settings/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}),
    ("/settings/email", {"current_password": PASSWORD, "email": "evil@example.org"}),
    ("/settings/delete", {"current_password": PASSWORD, "content": "keep", "confirm": "y"}),
    ("/settings/profile", {"display_name": "Pwned", "bio": "", "locale": ""}),
])
def test_settings_forms_without_a_valid_csrf_token_change_nothing(client, make_account,
                                                                  bad_token, path, data):
    alice = make_account("alice")
    before = fresh(alice)
    snapshot = (before.password_hash, before.email, before.pending_email, before.status,
                before.display_name, before.security_stamp)
    log_in(client)
    _assert_csrf_refusal(client.post(path, csrf=False, data={**data, **bad_token}))
    after = fresh(alice)
    assert (after.password_hash, after.email, after.pending_email, after.status,
            after.display_name, after.security_stamp) == snapshot
    assert client.get("/me").status_code == 200


def test_a_token_from_another_session_is_refused(app, client, make_account):
    make_account("alice")
    stranger = app.test_client()
    token = stranger.csrf_token()
    response = client.post("/login", data={"login": "alice", "password": PASSWORD,
                                           "csrf_token": token})
    _assert_csrf_refusal(response)


def test_logout_without_token_is_refused(client, make_account):
    make_account("alice")
    log_in(client)
    _assert_csrf_refusal(client.post("/logout", csrf=False, data={}))
    assert client.get("/me").status_code == 200


# -- headers and cookies ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/password/forgot",
                                  "/does-not-exist"])
def test_pages_carry_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer",
                                                   "strict-origin-when-cross-origin"}
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, make_account):
    make_account("alice")
    log_in(client)
    for path in ("/login", "/register", "/me", "/settings", "/settings/profile", "/@alice"):
        page = client.get(path).get_data(as_text=True)
        assert "<script" not in page, path
        assert " style=" not in page, path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", page), path


def _session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return header


def test_session_cookie_is_httponly_and_lax(client):
    header = _session_cookie_header(client.get("/login"))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # plain http in tests


def test_session_cookie_is_secure_in_production_over_https(make_app):
    app = make_app(HUB_ENV="production", HUB_BASE_URL="https://hub.example",
                   HUB_SECRET_KEY="a-long-random-secret-for-production-0123456789")
    client = app.test_client()
    with app.app_context():
        response = client.get("/login", base_url="https://hub.example")
        header = _session_cookie_header(response)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_remember_cookie_is_httponly(client, make_account):
    make_account("alice")
    response = client.post("/login", data={"login": "alice", "password": PASSWORD,
                                           "remember": "y"})
    [header] = [h for h in response.headers.getlist("Set-Cookie")
                if h.startswith("remember_token=")]
    assert "HttpOnly" in header and "SameSite=Lax" in header


# -- language -----------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "lang"), [
    ("en", "en"), ("fr", "fr"), ("en-GB,en;q=0.9", "en"), ("fr-CA,fr;q=0.8,en;q=0.5", "fr"),
    ("de", "fr"),  # the instance default, French here
])
def test_browser_language_picks_the_page_language(make_app, accept, lang):
    app = make_app(HUB_DEFAULT_LOCALE="fr")
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page


def test_locale_switch_sticks_across_requests(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = client.post("/locale", data={"locale": "en", "next": "/register"})
    assert response.status_code == 302 and response.headers["Location"] == "/register"
    for path in ("/register", "/login", "/"):
        assert '<html lang="en">' in client.get(path).get_data(as_text=True)
    client.post("/locale", data={"locale": "fr", "next": "/"})
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


def test_locale_switch_refuses_unknown_languages(app):
    client = app.test_client()
    assert client.post("/locale", data={"locale": "xx", "next": "/"}).status_code == 400


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/",
                                    "/\\evil.example", "/\t/evil.example"])
def test_locale_switch_never_redirects_off_site(app, target):
    client = app.test_client()
    response = client.post("/locale", data={"locale": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


# -- health -------------------------------------------------------------------------------


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok" and data["database"] == "ok" and data["queue"] == "ok"
    assert isinstance(data["queue_pending"], int)
