"""Identity providers in the admin area, and the "provider only" mode."""

from __future__ import annotations

from sqlalchemy import select

from hub.accounts.models import IdentityProvider
from hub.accounts.providers import find_provider
from hub.extensions import db
from hub.sealed import unseal

FORM = {"slug": "asso", "label": "Asso SSO", "client_id": "hub", "client_secret": "s3cret",
        "discovery_url": "https://id.example.org/realms/asso/.well-known/openid-configuration",
        "scopes": "openid profile email", "claim_subject": "sub",
        "claim_handle": "preferred_username", "claim_name": "name", "claim_email": "email",
        "allow_signup": "y", "is_enabled": "y"}


def test_admin_adds_and_edits_a_provider_which_then_shows_on_the_login_page(
        app, client, make_account, login):
    login(make_account("chief", role="admin"))
    assert "/auth/callback" in client.get("/admin/providers").get_data(as_text=True)
    response = client.post("/admin/providers/new", data=FORM)
    assert response.status_code == 302
    row = db.session.scalar(select(IdentityProvider))
    # Stored sealed: a database dump does not show the secret.
    assert "s3cret" not in row.client_secret
    assert unseal(row.client_secret, app.config["SECRET_KEY"]) == "s3cret"
    assert row.allow_signup and not row.trust_email
    sealed = row.client_secret
    # An empty secret keeps the stored one.
    response = client.post(f"/admin/providers/{row.id}",
                           data={**FORM, "label": "Our SSO", "client_secret": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (row.label, row.client_secret) == ("Our SSO", sealed)
    assert find_provider("asso").client_secret == "s3cret"
    client.post("/logout", data={})
    assert "Sign in with Our SSO" in client.get("/login").get_data(as_text=True)


def test_provider_form_errors_answer_400_and_store_nothing(client, make_account, login):
    login(make_account("chief", role="admin"))
    response = client.post("/admin/providers/new", data={**FORM, "discovery_url": ""})
    assert response.status_code == 400 and "discovery URL" in response.text
    response = client.post("/admin/providers/new", data={**FORM, "slug": "Not a slug"})
    assert response.status_code == 400
    assert db.session.scalar(select(IdentityProvider)) is None


def test_only_admins_see_the_provider_pages(client, make_account, login):
    login(make_account("someone"))
    assert client.get("/admin/providers").status_code == 403
    assert client.post("/admin/providers/new", data=FORM).status_code == 403
    assert db.session.scalar(select(IdentityProvider)) is None


def test_provider_only_mode_keeps_passwords_for_admins_only(app, client, make_account, login):
    admin = make_account("chief", role="admin")
    user = make_account("member")
    login(admin)
    assert client.post("/admin/providers", data={"provider_only": "y"}).status_code == 302
    client.post("/logout", data={})
    response = client.post("/login", data={"login": user.handle,
                                           "password": "correct horse battery staple"})
    assert response.status_code == 400 and "Passwords are disabled" in response.text
    response = client.post("/register", data={"handle": "newbie", "email": "n@example.org",
                                              "password": "a long enough password 1"})
    assert response.status_code == 400 and "identity provider" in response.text
    login(admin)  # the admin still can
    assert client.get("/admin/providers").status_code == 200


def test_providers_declared_by_the_deployment_show_on_the_login_page(make_app, tmp_path):
    config = tmp_path / "providers.toml"
    config.write_text('[[providers]]\nslug = "kc"\nlabel = "Keycloak"\nclient_id = "hub"\n'
                      'discovery_url = "https://id.example.org/realms/a/.well-known/'
                      'openid-configuration"\n')
    app = make_app(HUB_OIDC_PROVIDERS=str(config))
    with app.app_context():
        page = app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/auth/kc/login"' in page and "Sign in with Keycloak" in page
