"""Accounts that only sign in through an identity provider have no password: they confirm
sensitive changes with their handle, export their links, and see no sign-up link in
provider-only mode."""

from __future__ import annotations

import json

from sqlalchemy import select

from hub.accounts.models import Account, LinkedIdentity
from hub.admin.services import ensure_settings
from hub.extensions import db


def _log_in_as(client, account):
    # A provider account cannot use the password form: open its session as the SSO does.
    with client.session_transaction() as session:
        session["_user_id"] = account.get_id()
        session["_fresh"] = True


def _provider_account(make_account):
    account = make_account("sans_mdp", password_hash=None)
    db.session.add(LinkedIdentity(account_id=account.id, provider_slug="asso",
                                  issuer="https://id.example.org", subject="42"))
    db.session.commit()
    return account


def test_deleting_a_provider_account_is_confirmed_with_the_handle(app, client, make_account):
    account = _provider_account(make_account)
    _log_in_as(client, account)
    page = client.get("/settings").get_data(as_text=True)
    assert "type your handle" in page
    refused = client.post("/settings/delete", data={"current_password": "someone_else",
                                                    "content": "keep", "confirm": "y"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Account, account.id).status == "active"
    done = client.post("/settings/delete", data={"current_password": "sans_mdp",
                                                 "content": "keep", "confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, account.id).status == "deleted"
    assert db.session.scalar(select(LinkedIdentity)) is None


def test_the_export_lists_linked_providers(app, client, make_account):
    account = _provider_account(make_account)
    _log_in_as(client, account)
    data = json.loads(client.get("/settings/export").get_data(as_text=True))
    [link] = data["sign_in_providers"]
    assert link["provider"] == "asso" and link["subject"] == "42"


def test_provider_only_mode_hides_the_sign_up_link(app, client):
    settings = ensure_settings()
    db.session.commit()
    assert ">Sign up<" in client.get("/").get_data(as_text=True)
    settings.provider_only = True
    db.session.commit()
    assert ">Sign up<" not in client.get("/").get_data(as_text=True)
