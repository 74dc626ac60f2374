"""Helpers shared by the test_accounts_* files: counting rows, reading form errors, signing
up through the real form, draining the real queue."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from hub.accounts.models import Account
from hub.extensions import db
from tests.plugins.factories import PASSWORD

__all__ = ["PASSWORD", "add_account", "count", "drain", "english", "field_errors",
           "form_errors", "fresh", "signup", "text"]


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(account: Account) -> Account:
    """The row as the database has it now (requests commit behind the test's back)."""
    db.session.expire_all()
    return db.session.get(Account, account.id)


def field_errors(page: str, field: str) -> str:
    """Text of the error list the field() macro renders next to ``field``, or ""."""
    match = re.search(rf'<ul class="errors" id="{field}-err">(.*?)</ul>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def form_errors(page: str) -> str:
    match = re.search(r'<div class="errors" role="alert">(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def signup(client, handle: str = "newcomer", email: str = "newcomer@example.org",
           password: str = PASSWORD, **extra):
    return client.post("/register", data={"handle": handle, "email": email,
                                          "password": password, **extra})


def drain() -> int:
    """Run the real Huey queue of the last app built until it is empty."""
    from hub.jobs import jobs

    total = 0
    while done := jobs.drain():
        total += done
    return total


def english(client):
    """Messages are asserted in English: the instance's default locale is French."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def add_account(handle: str, **overrides) -> Account:
    """An active, confirmed account in the current app (for apps built with make_app)."""
    import secrets

    from hub.accounts.services import claim_handle
    from hub.models_base import utcnow
    from tests.plugins.factories import _password_hash

    typed, key = claim_handle(handle, "account")
    values = {"handle": typed, "handle_key": key, "email": f"{key}@example.org",
              "password_hash": _password_hash(), "security_stamp": secrets.token_hex(16),
              "status": "active", "email_confirmed_at": utcnow(), **overrides}
    account = Account(**values)
    db.session.add(account)
    db.session.commit()
    return account
