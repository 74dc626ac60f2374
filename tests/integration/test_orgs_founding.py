"""Founding an organisation: the founder becomes owner; handles share one namespace."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub.accounts.models import Handle
from hub.admin.models import InstanceSettings
from hub.content.models import Tag
from hub.extensions import db
from hub.orgs.models import Membership, Organisation
from tests.integration.orgs_support import count, english, login_redirect  # noqa: F401


def form(handle: str, **fields) -> dict:
    return {"handle": handle, "name": fields.pop("name", "Collectif Maillage"),
            "summary": "Des associations en réseau", "description": "**Bonjour**",
            "website": "https://example.org", "contact_email": "contact@example.org",
            "address": "1 rue de la Paix\n75002 Paris", "latitude": "48.8686",
            "longitude": "2.3316", "themes": "Écologie, habitat, #écologie", **fields}


def field_errors(page: str, field: str) -> str:
    match = re.search(rf'<ul class="errors" id="{field}-err">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


def test_founding_creates_the_organisation_with_its_founder_as_owner(make_account, login,
                                                                      client):
    founder = make_account("fondatrice")
    login(founder)

    response = client.post("/orgs/new", data=form("Coredem"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/@Coredem"
    org = db.session.scalar(select(Organisation).where(Organisation.handle_key == "coredem"))
    assert org is not None and org.name == "Collectif Maillage"
    assert db.session.execute(select(Membership.account_id, Membership.role)
                              .where(Membership.org_id == org.id)).all() == [(founder.id,
                                                                              "owner")]
    assert sorted(db.session.scalars(select(Tag.slug))) == ["ecologie", "habitat"]
    page = client.get("/@coredem").get_data(as_text=True)
    assert "Collectif Maillage" in page and "<strong>Bonjour</strong>" in page
    assert "is founded" in page  # the flash message


@pytest.mark.parametrize("handle, message", [
    ("alice", "already taken"),            # an account's handle
    ("Alice", "already taken"),            # … in another case
    ("ａｌｉｃｅ", "already taken"),         # … in fullwidth letters (NFKC)
    ("collectif", "already taken"),        # another organisation's handle
    ("COLLECTIF", "already taken"),
    ("admin", "reserved"),
    ("é!", "Use only letters"),
    ("a", "at least 2"),
])
def test_founding_refuses_a_handle_in_use_reserved_or_malformed(make_account, make_org, login,
                                                                client, handle, message):
    alice = make_account("alice")
    make_org(handle="Collectif")
    login(alice)
    before = (count(Organisation), count(Handle), count(Membership))

    response = client.post("/orgs/new", data=form(handle))

    assert response.status_code == 400
    assert message in field_errors(response.get_data(as_text=True), "handle")
    assert (count(Organisation), count(Handle), count(Membership)) == before


@pytest.mark.parametrize("fields, field, message", [
    ({"name": ""}, "name", "This field is required"),
    ({"latitude": "91"}, "latitude", "between -90 and 90"),
    ({"longitude": ""}, "latitude", "both latitude and longitude"),
    ({"latitude": "north"}, "latitude", "Not a valid float"),
    ({"website": "javascript:alert(1)"}, "website", "https://"),
    ({"contact_email": "not an address"}, "contact_email", "Invalid email"),
])
def test_founding_shows_field_errors_and_creates_nothing(make_account, login, client, fields,
                                                         field, message):
    login(make_account())
    before = (count(Organisation), count(Handle))

    response = client.post("/orgs/new", data=form("nouvelle", **fields))

    assert response.status_code == 400
    assert message in field_errors(response.get_data(as_text=True), field)
    assert (count(Organisation), count(Handle)) == before


def test_visitor_is_sent_to_log_in_before_founding(client):
    response = client.get("/orgs/new")

    assert response.status_code == 302
    assert response.headers["Location"] == login_redirect("/orgs/new")


def admins_only() -> None:
    db.session.add(InstanceSettings(id=1, name="Maillage", description="", contact_email="",
                                    default_locale="en", registration_mode="open",
                                    org_creation="admins"))
    db.session.commit()


def test_admins_only_mode_refuses_founding_to_other_accounts(make_account, login, client):
    admins_only()
    login(make_account())
    before = (count(Organisation), count(Handle))

    assert client.get("/orgs/new").status_code == 403
    response = client.post("/orgs/new", data=form("refusee"))

    assert response.status_code == 403
    assert "Only administrators may found organisations" in response.get_data(as_text=True)
    assert (count(Organisation), count(Handle)) == before


def test_admins_only_mode_lets_an_instance_admin_found(make_account, login, client):
    admins_only()
    login(make_account(role="admin"))

    response = client.post("/orgs/new", data=form("officielle"))

    assert response.status_code == 302
    assert count(Organisation) == 1
