"""Helpers shared by the organisation tests: database snapshots read with plain column
queries (never through the identity map, so they show what is really stored)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Handle
from hub.admin.models import AdminAction
from hub.extensions import db
from hub.orgs.models import Invitation, Membership, Organisation
from tests.plugins.factories import PASSWORD


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, whatever the instance default, so messages can be asserted."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def memberships(org_id: int) -> dict[int, str]:
    return dict(db.session.execute(
        select(Membership.account_id, Membership.role).where(Membership.org_id == org_id)).all())


def invitations(org_id: int) -> dict[int, str]:
    return dict(db.session.execute(
        select(Invitation.id, Invitation.status).where(Invitation.org_id == org_id)).all())


def org_columns(org_id: int) -> tuple:
    return tuple(db.session.execute(select(
        Organisation.handle, Organisation.name, Organisation.summary, Organisation.website,
        Organisation.description_source, Organisation.logo_path, Organisation.banner_path,
    ).where(Organisation.id == org_id)).one())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def snapshot(org_id: int) -> dict:
    """Everything an organisation action could change."""
    return {
        "memberships": memberships(org_id),
        "invitations": invitations(org_id),
        "org": org_columns(org_id),
        "organisations": count(Organisation),
        "handles": count(Handle),
        "admin_actions": count(AdminAction),
    }


def client_for(app, account):
    """A separate browser, logged in as ``account``."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post("/login", data={"login": account.handle, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return client


def login_redirect(path: str) -> str:
    """Where Flask-Login sends a visitor who asks for ``path``."""
    return "/login?next=" + quote(path, safe="")
