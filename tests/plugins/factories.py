"""Factory fixtures: they return callables so each test states only what matters to it."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator

import pytest

from hub.accounts.models import Account
from hub.accounts.passwords import hash_password
from hub.extensions import db
from hub.models_base import utcnow

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)

# Hashing with production argon2 parameters costs ~50 ms; one hash serves every factory account.
_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


@pytest.fixture
def make_account(app) -> Callable[..., Account]:
    from hub.accounts.services import claim_handle

    def factory(handle: str | None = None, **overrides) -> Account:
        handle = handle or f"person{next(_seq)}"
        typed, key = claim_handle(handle, "account")
        values = {
            "handle": typed, "handle_key": key, "email": f"{key}@example.org",
            "password_hash": _password_hash(), "security_stamp": secrets.token_hex(16),
            "status": "active", "role": "user", "email_confirmed_at": utcnow(),
            "display_name": handle.title(),
        }
        values.update(overrides)
        account = Account(**values)
        db.session.add(account)
        db.session.commit()
        return account

    return factory


@pytest.fixture
def make_org(app, make_account) -> Callable:
    from hub.orgs.services import OrgDraft, found_organisation

    def factory(owner: Account | None = None, handle: str | None = None, **fields):
        owner = owner or make_account()
        handle = handle or f"org{next(_seq)}"
        draft = OrgDraft(name=fields.pop("name", f"Association {handle}"), **fields)
        org = found_organisation(owner, handle, draft)
        db.session.commit()
        return org

    return factory


@pytest.fixture
def make_member(app) -> Callable:
    from hub.orgs.models import Membership

    def factory(org, account, role: str = "member"):
        membership = Membership(org_id=org.id, account_id=account.id, role=role)
        db.session.add(membership)
        db.session.commit()
        return membership

    return factory


@pytest.fixture
def login(client) -> Callable:
    def do_login(account: Account, password: str = PASSWORD):
        response = client.post("/login", data={"login": account.handle, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return client

    return do_login


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with production parameters costs ~0.2 s a login on these shared machines and
    the suite logs in thousands of times: tests hash with the smallest parameters. What
    production uses is checked in tests/unit/test_passwords.py (on a fresh module)."""
    from argon2 import PasswordHasher

    from hub.accounts import passwords

    real = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = real
