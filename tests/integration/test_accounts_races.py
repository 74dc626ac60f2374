"""Sign-up edges found in review: a handle claimed concurrently, the page after an
instance invitation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account, Handle
from hub.accounts.services import claim_handle
from hub.errors import ValidationFailed
from hub.extensions import db


def test_a_handle_claimed_concurrently_is_a_form_error_not_a_crash(app, make_account,
                                                                    monkeypatch):
    make_account("taken_one")
    real_get = db.session.get

    # Another request inserted the handle between our check and our insert.
    def stale_get(model, key, **kwargs):
        return None if model is Handle else real_get(model, key, **kwargs)

    monkeypatch.setattr(db.session, "get", stale_get)
    with pytest.raises(ValidationFailed) as refused:
        claim_handle("Taken_One", "account")
    assert refused.value.field == "handle"
    db.session.rollback()  # as the view does for every refusal
    assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_sign_up_from_an_instance_invitation_leads_to_plain_login(app, client, make_account,
                                                                  mailbox, run_jobs):
    from hub.admin.services import invite_to_instance

    admin = make_account("boss", role="admin")
    invite_to_instance(admin, "guest@example.org")
    db.session.commit()
    run_jobs()  # also proves the link is built outside any request, in the service
    link = mailbox.last_link("guest@example.org", "/register")
    assert link.startswith("/register?invitation=")
    token = link.split("=", 1)[1]
    page = client.get(f"/register?invitation={token}").get_data(as_text=True)
    assert re.search(rf'name="invitation" value="{re.escape(token)}"', page)
    response = client.post("/register", data={
        "handle": "guest", "email": "guest@example.org",
        "password": "a long enough passphrase", "invitation": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_pages_never_load_images_from_other_hosts(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    img = next(d for d in csp.split(";") if d.strip().startswith("img-src"))
    assert "https:" not in img and "http:" not in img and "*" not in img
