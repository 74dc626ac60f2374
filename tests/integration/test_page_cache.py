"""The anonymous page cache: fast for visitors, never stale, never personal."""

from __future__ import annotations

from sqlalchemy import select

from hub.accounts.models import Account
from hub.admin.models import InstanceSettings
from hub.admin.services import ensure_settings
from hub.extensions import db
from hub.orgs.services import OrgDraft, update_organisation


def _settings_row():
    ensure_settings()
    db.session.commit()


def _version() -> int:
    db.session.expire_all()
    return db.session.scalar(select(InstanceSettings.content_version))


def test_a_visitor_page_is_rendered_once_then_served_with_one_query(
        app, client, make_org, count_queries):
    _settings_row()
    org = make_org(handle="jardins", name="Jardins partagés")
    first = client.get("/@jardins")
    assert first.status_code == 200 and "Jardins partagés" in first.get_data(as_text=True)
    with count_queries() as counter:
        second = client.get("/@jardins")
    assert second.get_data() == first.get_data()
    assert counter.count == 1, counter.statements  # the instance settings, nothing else
    assert org.id


def test_an_edit_shows_at_once(app, client, make_org):
    _settings_row()
    org = make_org(handle="jardins", name="Jardins partagés")
    owner = db.session.scalar(select(Account))
    client.get("/orgs")
    before = _version()
    update_organisation(owner, org, OrgDraft(name="Jardins en commun"))
    db.session.commit()
    assert _version() == before + 1
    assert "Jardins en commun" in client.get("/orgs").get_data(as_text=True)
    assert "Jardins en commun" in client.get("/@jardins").get_data(as_text=True)


def test_another_process_sees_the_change(make_app):
    """Two apps on one database: the version lives in the database, not in a process."""
    first, second = make_app(), make_app()
    with first.app_context():
        from tests.plugins.factories import _password_hash  # noqa: F401

        _settings_row()
        from hub.accounts.services import claim_handle

        typed, key = claim_handle("owner_x", "account")
        owner = Account(handle=typed, handle_key=key, email="o@example.org",
                        security_stamp="s", status="active")
        db.session.add(owner)
        db.session.flush()
        from hub.orgs.services import found_organisation

        found_organisation(owner, "ateliers", OrgDraft(name="Ateliers du lundi"))
        db.session.commit()
        assert "Ateliers du lundi" in first.test_client().get("/@ateliers").get_data(
            as_text=True)
        db.session.remove()
    with second.app_context():
        from hub.orgs.queries import get_organisation

        org = get_organisation("ateliers")
        org.name = "Ateliers du mardi"
        org.name_key = org.name.lower()
        db.session.commit()
        db.session.remove()
    with first.app_context():
        page = first.test_client().get("/@ateliers").get_data(as_text=True)
        assert "Ateliers du mardi" in page
        db.session.remove()


def test_a_bulk_delete_bumps_the_version(app, make_org, make_account):
    from sqlalchemy import delete

    from hub.orgs.models import Membership

    _settings_row()
    org = make_org()
    before = _version()
    db.session.execute(delete(Membership).where(Membership.org_id == org.id))
    db.session.commit()
    assert _version() == before + 1


def test_etag_revalidation_answers_304_until_something_changes(app, client, make_org):
    _settings_row()
    org = make_org(handle="jardins", name="Jardins partagés")
    etag = client.get("/@jardins").headers["ETag"]
    not_modified = client.get("/@jardins", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not not_modified.get_data()
    org.summary = "Nouveau résumé"
    db.session.commit()
    fresh = client.get("/@jardins", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and "Nouveau résumé" in fresh.get_data(as_text=True)
    assert fresh.headers["ETag"] != etag


def test_logged_in_people_never_get_a_visitor_page(app, client, make_org, make_account,
                                                   make_member, login):
    _settings_row()
    org = make_org(handle="jardins", name="Jardins partagés")
    anonymous = client.get("/@jardins").get_data(as_text=True)
    assert "Leave this organisation" not in anonymous
    member = make_account("membre")
    make_member(org, member, "member")
    login(member)
    page = client.get("/@jardins")
    assert "Leave this organisation" in page.get_data(as_text=True)
    assert "ETag" not in page.headers


def test_each_language_has_its_own_page(app, client, make_org):
    _settings_row()
    make_org(handle="jardins", name="Jardins partagés")
    english = client.get("/orgs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get("/orgs", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="fr"' in french
    assert 'lang="en"' in client.get("/orgs", headers={"Accept-Language": "en"}).get_data(
        as_text=True)


def test_visitor_pages_set_no_session_cookie(app, client, make_org):
    _settings_row()
    make_org(handle="jardins")
    for path in ("/", "/orgs", "/@jardins"):
        response = client.get(path)
        assert not [h for h in response.headers.getlist("Set-Cookie")
                    if h.startswith("session=")], path


def test_a_login_keeps_the_cache_but_a_new_display_name_clears_it(app, client, make_account,
                                                                  login):
    _settings_row()
    account = make_account("camille")
    before = _version()
    login(account)
    assert _version() == before  # last_login_at is not shown anywhere public
    account.display_name = "Camille M."
    db.session.commit()
    assert _version() == before + 1
