"""Every page of the admin area is for active instance administrators only."""

from __future__ import annotations

import pytest

from tests.integration.admin_support import log_in

PAGES = [
    "/admin/",
    "/admin/settings",
    "/admin/accounts",
    "/admin/accounts?status=pending",
    "/admin/log",
    "/admin/invitations",
]


@pytest.mark.parametrize("path", PAGES)
def test_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ["user", "moderator"])
@pytest.mark.parametrize("path", PAGES)
def test_non_admin_is_forbidden(client, make_account, path, role):
    log_in(client, make_account(role=role))
    response = client.get(path)
    assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_admin_sees_the_page(client, make_account, path):
    log_in(client, make_account(role="admin"))
    response = client.get(path)
    assert response.status_code == 200
    assert 'aria-current="page"' in response.get_data(as_text=True)


def test_admin_without_trailing_slash_redirects_to_the_index(client, make_account):
    log_in(client, make_account(role="admin"))
    response = client.get("/admin")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/admin/")


def test_base_layout_links_admins_only_to_administration(client, make_account):
    user = make_account()
    log_in(client, user)
    assert 'href="/admin/"' not in client.get("/me").get_data(as_text=True)
    client.post("/logout", data={})
    log_in(client, make_account(role="admin"))
    assert 'href="/admin/"' in client.get("/me").get_data(as_text=True)


def test_suspended_admin_loses_access(client, make_account):
    from hub.extensions import db

    admin = make_account(role="admin")
    log_in(client, admin)
    admin.status = "suspended"
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
