"""An organisation always keeps at least one owner; ownership passes by transfer."""

from __future__ import annotations

import pytest

from tests.integration.orgs_support import (  # noqa: F401
    client_for,
    english,
    memberships,
    snapshot,
)

LAST_OWNER = "An organisation always keeps at least one owner."


@pytest.fixture
def owner(make_account):
    return make_account("owner")


@pytest.fixture
def org(make_org, owner):
    return make_org(owner=owner, handle="collectif", name="Collectif")


def flashed(browser, response) -> str:
    assert response.status_code == 302
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def test_the_last_owner_cannot_leave(app, org, owner):
    browser = client_for(app, owner)
    before = snapshot(org.id)

    response = browser.post("/orgs/collectif/leave", data={})

    assert "You are the only owner: transfer ownership before leaving." in flashed(browser,
                                                                                   response)
    assert snapshot(org.id) == before


def test_the_last_owner_cannot_step_down(app, org, owner):
    browser = client_for(app, owner)
    before = snapshot(org.id)

    response = browser.post(f"/orgs/collectif/members/{owner.id}/role", data={"role": "admin"})

    assert LAST_OWNER in flashed(browser, response)
    assert snapshot(org.id) == before


@pytest.mark.parametrize("actor", ["owner", "instance_admin"])
def test_the_last_owner_cannot_be_removed_or_demoted(app, org, owner, make_account, actor):
    browser = client_for(app, owner if actor == "owner" else make_account(role="admin"))
    before = snapshot(org.id)

    removed = browser.post(f"/orgs/collectif/members/{owner.id}/remove", data={})
    assert LAST_OWNER in flashed(browser, removed)
    demoted = browser.post(f"/orgs/collectif/members/{owner.id}/role", data={"role": "member"})
    assert LAST_OWNER in flashed(browser, demoted)
    assert snapshot(org.id) == before


def test_transfer_makes_the_target_owner_and_the_actor_admin(app, org, owner, make_account,
                                                            make_member):
    heir = make_account("heir")
    make_member(org, heir, "editor")
    browser = client_for(app, owner)

    response = browser.post("/orgs/collectif/transfer", data={"account_id": heir.id})

    assert "Ownership is transferred" in flashed(browser, response)
    assert memberships(org.id) == {owner.id: "admin", heir.id: "owner"}
    left = browser.post("/orgs/collectif/leave", data={})  # no longer the last owner
    assert "You left Collectif." in flashed(browser, left)
    assert memberships(org.id) == {heir.id: "owner"}


def test_transfer_to_oneself_or_a_stranger_changes_nothing(app, org, owner, make_account):
    stranger = make_account("stranger")
    browser = client_for(app, owner)
    before = snapshot(org.id)

    to_self = browser.post("/orgs/collectif/transfer", data={"account_id": owner.id})
    assert "You already own this organisation." in flashed(browser, to_self)
    to_stranger = browser.post("/orgs/collectif/transfer", data={"account_id": stranger.id})
    assert to_stranger.status_code == 404
    assert snapshot(org.id) == before


def test_one_of_two_owners_may_leave(app, org, owner, make_account, make_member):
    partner = make_account("partner")
    make_member(org, partner, "owner")
    browser = client_for(app, owner)

    response = browser.post("/orgs/collectif/leave", data={})

    assert response.status_code == 302
    assert memberships(org.id) == {partner.id: "owner"}


def test_a_member_may_leave_but_a_stranger_cannot(app, org, make_account, make_member):
    member = make_account("member")
    make_member(org, member, "member")
    stranger = client_for(app, make_account("stranger"))
    before = snapshot(org.id)

    assert stranger.post("/orgs/collectif/leave", data={}).status_code == 403
    assert snapshot(org.id) == before
    assert client_for(app, member).post("/orgs/collectif/leave", data={}).status_code == 302
    assert member.id not in memberships(org.id)


def test_an_unknown_role_is_a_bad_request(app, org, owner, make_account, make_member):
    member = make_account("member")
    make_member(org, member, "member")
    browser = client_for(app, owner)
    before = snapshot(org.id)

    response = browser.post(f"/orgs/collectif/members/{member.id}/role", data={"role": "boss"})

    assert response.status_code == 400
    assert snapshot(org.id) == before
