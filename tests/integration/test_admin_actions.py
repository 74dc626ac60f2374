"""Admin actions change the right rows and are logged; anyone else gets 403 and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account, Handle
from hub.admin.models import AdminAction, InstanceSettings
from hub.admin.services import ensure_settings
from hub.extensions import db
from tests.integration.admin_support import SETTINGS_FORM, log_in


@pytest.fixture(autouse=True)
def english_instance(app):
    """Messages are asserted in English: make it the instance's default language."""
    ensure_settings().default_locale = "en"
    db.session.commit()


@pytest.fixture
def admin(make_account):
    return make_account("boss", role="admin")


def actions(name: str | None = None) -> list[AdminAction]:
    db.session.expire_all()
    query = select(AdminAction).order_by(AdminAction.id)
    if name:
        query = query.where(AdminAction.action == name)
    return list(db.session.scalars(query))


def reload(account: Account) -> Account | None:
    db.session.expire_all()
    return db.session.get(Account, account.id)


# -- settings ----------------------------------------------------------------------------


def test_admin_changes_the_settings(client, admin):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    log_in(client, admin)
    response = client.post("/admin/settings", data=SETTINGS_FORM)
    assert response.status_code == 302
    settings = db.session.get(InstanceSettings, 1)
    assert settings is not None
    assert (settings.name, settings.description, settings.contact_email) == (
        "Réseau Coredem", "Un réseau de centres de documentation.", "contact@coredem.example")
    assert (settings.default_locale, settings.registration_mode, settings.org_creation) == (
        "fr", "approval", "admins")
    [row] = actions("instance.settings")
    assert row.actor_id == admin.id
    assert row.details["changed"] == sorted(SETTINGS_FORM)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The settings are saved." in page
    assert 'value="Réseau Coredem"' in page


def test_settings_need_a_name(client, admin):
    log_in(client, admin)
    response = client.post("/admin/settings", data={**SETTINGS_FORM, "name": "  "})
    assert response.status_code == 400
    assert 'class="errors" id="name-err"' in response.get_data(as_text=True)
    assert db.session.get(InstanceSettings, 1).name == "Maillage"
    assert actions() == []


def test_settings_refuse_an_unknown_registration_mode(client, admin):
    log_in(client, admin)
    response = client.post("/admin/settings",
                           data={**SETTINGS_FORM, "registration_mode": "everyone"})
    assert response.status_code == 400
    assert 'id="registration_mode-err"' in response.get_data(as_text=True)
    assert actions() == []


@pytest.mark.parametrize("role", ["user", "moderator"])
def test_non_admin_cannot_change_settings(client, make_account, role):
    log_in(client, make_account(role=role))
    response = client.post("/admin/settings", data=SETTINGS_FORM)
    assert response.status_code == 403
    settings = db.session.get(InstanceSettings, 1)
    assert (settings.name, settings.registration_mode) == ("Maillage", "open")
    assert actions() == []


# -- account actions ---------------------------------------------------------------------


def test_admin_approves_a_pending_account(client, admin, make_account, run_jobs, mailbox):
    pending = make_account("hopeful", status="pending", email_confirmed_at=None,
                           approval_motivation="We run a library in Lyon.")
    log_in(client, admin)
    listing = client.get("/admin/accounts?status=pending").get_data(as_text=True)
    assert "We run a library in Lyon." in listing
    response = client.post(f"/admin/accounts/{pending.id}/approve", data={},
                           query_string={"status": "pending"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/accounts?status=pending"
    assert reload(pending).status == "active"
    [row] = actions("account.approve")
    assert (row.actor_id, row.target_type, row.target_id) == (admin.id, "account", pending.id)
    run_jobs()
    kinds = {m["Subject"].split(" — ")[0] for m in mailbox.to("hopeful@example.org")}
    assert kinds == {"Your account is approved", "Confirm your e-mail address"}


def test_admin_rejects_a_pending_account(client, admin, make_account):
    pending = make_account("spammy", status="pending")
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{pending.id}/reject", data={})
    assert response.status_code == 302
    assert reload(pending) is None
    assert db.session.get(Handle, "spammy") is None  # the handle is free again
    [row] = actions("account.reject")
    assert (row.actor_id, row.target_id, row.details["handle"]) == (
        admin.id, pending.id, "spammy")


def test_approve_refuses_an_account_that_is_not_pending(client, admin, make_account):
    active = make_account()
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{active.id}/approve", data={},
                           follow_redirects=True)
    assert "This account is not waiting for approval." in response.get_data(as_text=True)
    assert actions() == []


def test_admin_suspends_an_account_with_a_reason(client, admin, make_account):
    target = make_account("troll")
    stamp = target.security_stamp
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{target.id}/suspend",
                           data={"reason": "Insults in the comments"})
    assert response.status_code == 302
    target = reload(target)
    assert target.status == "suspended"
    assert target.security_stamp != stamp
    [row] = actions("account.suspend")
    assert (row.actor_id, row.target_id) == (admin.id, target.id)
    assert row.details["reason"] == "Insults in the comments"
    log = client.get("/admin/log").get_data(as_text=True)
    assert "Insults in the comments" in log and "@troll" in log and "@boss" in log


def test_suspend_refuses_a_pending_account(client, admin, make_account):
    # Reinstating it later would open an account nobody approved.
    pending = make_account(status="pending")
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{pending.id}/suspend", data={},
                           follow_redirects=True)
    assert "Only active accounts can be suspended." in response.get_data(as_text=True)
    assert reload(pending).status == "pending"
    assert actions() == []


def test_admin_cannot_suspend_themselves(client, admin):
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{admin.id}/suspend", data={},
                           follow_redirects=True)
    assert "You cannot suspend yourself." in response.get_data(as_text=True)
    assert reload(admin).status == "active"


def test_admin_reinstates_a_suspended_account(client, admin, make_account):
    target = make_account(status="suspended")
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{target.id}/reinstate", data={})
    assert response.status_code == 302
    assert reload(target).status == "active"
    [row] = actions("account.reinstate")
    assert (row.actor_id, row.target_id) == (admin.id, target.id)


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_admin_promotes_an_account(client, admin, make_account, role):
    target = make_account()
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{target.id}/role", data={"role": role})
    assert response.status_code == 302
    assert reload(target).role == role
    [row] = actions("account.set_role")
    assert (row.actor_id, row.target_id) == (admin.id, target.id)
    assert (row.details["before"], row.details["after"]) == ("user", role)


def test_admin_cannot_drop_their_own_admin_role(client, admin):
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{admin.id}/role", data={"role": "user"},
                           follow_redirects=True)
    assert "You cannot remove your own administrator role." in response.get_data(as_text=True)
    assert reload(admin).role == "admin"
    assert actions() == []


def test_action_on_a_missing_account_says_so(client, admin):
    log_in(client, admin)
    response = client.post("/admin/accounts/9999/reinstate", data={}, follow_redirects=True)
    assert "No such account." in response.get_data(as_text=True)


def test_action_without_csrf_token_is_refused(client, admin, make_account):
    target = make_account()
    log_in(client, admin)
    response = client.post(f"/admin/accounts/{target.id}/suspend", data={}, csrf=False)
    assert response.status_code == 400
    assert reload(target).status == "active"


ACTIONS = [
    ("approve", {}, "pending"),
    ("reject", {}, "pending"),
    ("suspend", {"reason": "no"}, "active"),
    ("reinstate", {}, "suspended"),
    ("role", {"role": "admin"}, "active"),
]


@pytest.mark.parametrize("role", ["user", "moderator"])
@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
def test_non_admin_cannot_act_on_accounts(client, make_account, role, action, data, status):
    target = make_account(status=status)
    log_in(client, make_account(role=role))
    response = client.post(f"/admin/accounts/{target.id}/{action}", data=data)
    assert response.status_code == 403
    target = reload(target)
    assert target is not None and (target.status, target.role) == (status, "user")
    assert actions() == []


@pytest.mark.parametrize(("action", "data", "status"), ACTIONS)
def test_visitor_cannot_act_on_accounts(client, make_account, action, data, status):
    target = make_account(status=status)
    response = client.post(f"/admin/accounts/{target.id}/{action}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    target = reload(target)
    assert target is not None and (target.status, target.role) == (status, "user")
    assert actions() == []


# -- suspension and sessions -------------------------------------------------------------


def test_suspended_account_cannot_log_in(client, make_account):
    target = make_account(status="suspended")
    response = client.post("/login", data={"login": target.handle,
                                           "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert "This account is suspended." in response.get_data(as_text=True)


def test_open_session_ends_when_the_account_is_suspended(app, client, admin, make_account):
    target = make_account()
    log_in(client, target)
    assert client.get("/me").status_code == 200
    admin_client = log_in(app.test_client(), admin)
    assert admin_client.post(f"/admin/accounts/{target.id}/suspend", data={}).status_code == 302
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # Reinstating does not bring the old session back.
    assert admin_client.post(f"/admin/accounts/{target.id}/reinstate",
                             data={}).status_code == 302
    assert client.get("/me").status_code == 302


# -- lists -------------------------------------------------------------------------------


def test_index_counts_accounts_by_status(client, admin, make_account):
    for status in ("pending", "pending", "suspended", "active"):
        make_account(status=status)
    make_account(status="deleted", email=None)
    log_in(client, admin)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="count-pending">2<' in page
    assert 'id="count-active">2<' in page  # the admin and one other
    assert 'id="count-suspended">1<' in page


@pytest.mark.parametrize(("query", "found"), [
    ("jeanne", {"jeanne_d"}),
    ("@JEANNE", {"jeanne_d"}),
    ("mairie.example", {"paul"}),
    ("Dupont", {"paul"}),
    ("_", {"jeanne_d"}),  # a letter here, not a LIKE wildcard
])
def test_account_search(client, admin, make_account, query, found):
    rows = {"boss": admin, "jeanne_d": make_account("jeanne_d", display_name="Jeanne"),
            "paul": make_account("paul", email="paul@mairie.example", display_name="Paul Dupont")}
    log_in(client, admin)
    page = client.get("/admin/accounts", query_string={"q": query}).get_data(as_text=True)
    assert {h for h, a in rows.items() if f'<tr id="account-{a.id}">' in page} == found


def test_account_status_filter(client, admin, make_account):
    make_account("waiting", status="pending")
    make_account("gone", status="suspended")
    log_in(client, admin)
    page = client.get("/admin/accounts?status=suspended").get_data(as_text=True)
    assert page.count('<tr id="account-') == 1
    assert ">@gone<" in page and "@waiting" not in page


def test_account_list_pages_by_id(client, admin, make_account):
    from hub.admin import views

    for _ in range(views.PAGE_SIZE + 4):
        make_account()
    log_in(client, admin)
    first = client.get("/admin/accounts").get_data(as_text=True)
    assert first.count('<tr id="account-') == views.PAGE_SIZE
    ids = db.session.scalars(select(Account.id).order_by(Account.id.desc())).all()
    assert f'id="account-{ids[0]}"' in first
    after = ids[views.PAGE_SIZE - 1]
    assert f'href="/admin/accounts?after={after}" rel="next"' in first
    second = client.get(f"/admin/accounts?after={after}").get_data(as_text=True)
    assert second.count('<tr id="account-') == 5  # four more and the admin
    assert 'rel="next"' not in second


def test_log_is_newest_first_and_paged(client, admin):
    from hub.admin import views
    from hub.admin.services import record_action

    for n in range(views.PAGE_SIZE + 3):
        record_action(admin, "instance.settings", "instance", 1, changed=[f"field{n}"])
    db.session.commit()
    log_in(client, admin)
    first = client.get("/admin/log").get_data(as_text=True)
    rows = db.session.scalars(select(AdminAction.id).order_by(AdminAction.id.desc())).all()
    assert first.count('<tr id="action-') == views.PAGE_SIZE
    assert first.index(f'id="action-{rows[0]}"') < first.index(f'id="action-{rows[1]}"')
    after = rows[views.PAGE_SIZE - 1]
    assert f'href="/admin/log?after={after}"' in first
    second = client.get(f"/admin/log?after={after}").get_data(as_text=True)
    assert second.count('<tr id="action-') == 3
    assert "field0" in second


def test_log_page_makes_no_query_per_row(client, make_account, count_queries):
    from hub.admin.services import record_action

    def page_queries(n: int) -> int:
        for _ in range(n):
            record_action(make_account(), "account.reinstate", "account", 1)
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/admin/log").status_code == 200
        return counter.count

    log_in(client, make_account(role="admin"))
    assert page_queries(2) == page_queries(10)
    assert db.session.scalar(select(func.count()).select_from(AdminAction)) == 12
