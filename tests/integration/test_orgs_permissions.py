"""Who may do what in an organisation, walked as a matrix over the real pages.

Every refusal answers 403 (a visitor is sent to log in) and leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.extensions import db
from hub.orgs import services
from tests.integration.orgs_support import (  # noqa: F401
    client_for,
    english,
    login_redirect,
    snapshot,
)

ACTORS = ("visitor", "non_member", "member", "editor", "admin", "owner", "instance_admin")
MANAGERS = {"edit", "edit_form", "invite", "change_role", "remove_member", "revoke_invitation",
            "view_members"}
ALLOWED = {
    "visitor": set(),
    "non_member": set(),
    "member": {"view_members"},
    "editor": {"view_members"},
    "admin": MANAGERS,
    "owner": MANAGERS | {"transfer_ownership"},
    "instance_admin": MANAGERS | {"transfer_ownership"},
}


@dataclass
class Cast:
    org: object
    people: dict
    target: object
    newcomer: object
    invitation_id: int


@pytest.fixture
def cast(app, make_account, make_org, make_member) -> Cast:
    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    people = {"owner": owner, "non_member": make_account("outsider"),
              "instance_admin": make_account("sysadmin", role="admin")}
    for role in ("member", "editor", "admin"):
        people[role] = make_account(f"the_{role}")
        make_member(org, people[role], role)
    target = make_account("target")
    make_member(org, target, "member")
    with app.test_request_context():
        invitation = services.invite(owner, org, make_account("invitee").handle, "member")
    db.session.commit()
    return Cast(org, people, target, make_account("newcomer"), invitation.id)


def request_for(action: str, cast: Cast) -> tuple[str, str, dict | None]:
    base = f"/orgs/{cast.org.handle}"
    return {
        "edit": ("post", f"{base}/edit", {"name": "Nouveau nom", "summary": "changé"}),
        "edit_form": ("get", f"{base}/edit", None),
        "invite": ("post", f"{base}/invitations", {"who": "newcomer", "role": "member"}),
        "change_role": ("post", f"{base}/members/{cast.target.id}/role", {"role": "editor"}),
        "remove_member": ("post", f"{base}/members/{cast.target.id}/remove", {}),
        "revoke_invitation": ("post", f"{base}/invitations/{cast.invitation_id}/revoke", {}),
        "transfer_ownership": ("post", f"{base}/transfer", {"account_id": cast.target.id}),
        "view_members": ("get", f"{base}/members", None),
    }[action]


def check_effect(action: str, actor: str, cast: Cast, before: dict, after: dict) -> None:
    target = cast.target.id
    if action == "edit":
        assert after["org"][1:3] == ("Nouveau nom", "changé")
    elif action == "invite":
        assert len(after["invitations"]) == len(before["invitations"]) + 1
    elif action == "change_role":
        assert after["memberships"][target] == "editor"
    elif action == "remove_member":
        assert target not in after["memberships"]
    elif action == "revoke_invitation":
        assert after["invitations"][cast.invitation_id] == "revoked"
    elif action == "transfer_ownership":
        assert after["memberships"][target] == "owner"
        if actor == "owner":
            assert after["memberships"][cast.people["owner"].id] == "admin"
    else:  # pages that only show
        assert after == before


@pytest.mark.parametrize("action", sorted(MANAGERS | {"transfer_ownership"}))
@pytest.mark.parametrize("actor", ACTORS)
def test_organisation_permission_matrix(app, client, cast, actor, action):
    browser = client if actor == "visitor" else client_for(app, cast.people[actor])
    method, path, data = request_for(action, cast)
    before = snapshot(cast.org.id)

    response = browser.get(path) if method == "get" else browser.post(path, data=data)

    after = snapshot(cast.org.id)
    if action in ALLOWED[actor]:
        assert response.status_code == (200 if method == "get" else 302), action
        check_effect(action, actor, cast, before, after)
    elif actor == "visitor":
        assert response.status_code == 302
        assert response.headers["Location"] == login_redirect(path)
        assert after == before
    else:
        assert response.status_code == 403
        assert after == before


def test_members_cannot_post_without_the_csrf_token(app, cast):
    browser = client_for(app, cast.people["owner"])
    before = snapshot(cast.org.id)

    response = browser.post(f"/orgs/collectif/members/{cast.target.id}/remove", data={},
                            csrf=False)

    assert response.status_code == 400
    assert snapshot(cast.org.id) == before


def test_an_admin_cannot_remove_or_demote_an_owner(app, cast, make_member, make_account):
    second_owner = make_account("co_owner")
    make_member(cast.org, second_owner, "owner")
    browser = client_for(app, cast.people["admin"])
    before = snapshot(cast.org.id)

    demote = browser.post(f"/orgs/collectif/members/{second_owner.id}/role",
                          data={"role": "member"})
    remove = browser.post(f"/orgs/collectif/members/{second_owner.id}/remove", data={})
    promote = browser.post(f"/orgs/collectif/members/{cast.target.id}/role",
                           data={"role": "owner"})

    assert (demote.status_code, remove.status_code, promote.status_code) == (403, 403, 403)
    assert snapshot(cast.org.id) == before


def test_an_admin_cannot_invite_an_owner(app, cast):
    browser = client_for(app, cast.people["admin"])
    before = snapshot(cast.org.id)

    response = browser.post("/orgs/collectif/invitations", data={"who": "newcomer",
                                                                 "role": "owner"})

    assert response.status_code == 403
    assert snapshot(cast.org.id) == before
