"""Theme pages, the theme index and the thesaurus admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.admin.models import AdminAction
from hub.content.models import Tag
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.content_rows import (  # noqa: F401
    english,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)


@pytest.fixture
def org(make_org):
    return make_org(handle="terre", name="Terre Vivante")


def tag_row(slug: str) -> tuple | None:
    row = db.session.execute(select(Tag.label, Tag.label_fr, Tag.label_en, Tag.is_thesaurus,
                                    Tag.parent_id).where(Tag.slug == slug)).first()
    return tuple(row) if row else None


def test_a_theme_gathers_content_across_organisations(client, org, make_org):
    other = make_org(handle="mer", name="Mer Bleue")
    make_post(org, title="Billet écolo", themes="Écologie")
    make_resource(other, title="Guide écolo", themes="ecologie")
    make_event(org, title="Fête écolo", themes="ÉCOLOGIE")
    make_event(org, title="Fête passée", themes="Écologie", starts_in=timedelta(days=-3))
    make_discussion(other, title="Débat écolo", themes="écologie")
    make_post(org, title="Hors sujet", themes="Vélo")
    html = client.get("/themes/ecologie").get_data(as_text=True)
    for title in ("Billet écolo", "Guide écolo", "Fête écolo", "Débat écolo"):
        assert title in html
    assert "Fête passée" not in html and "Hors sujet" not in html
    assert "Mer Bleue" in html and "Terre Vivante" in html


def test_any_spelling_of_a_theme_redirects_to_its_address(client, org):
    make_post(org, title="Billet", themes="Écologie")
    response = client.get("/themes/%C3%89COLOGIE")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/themes/ecologie")
    assert client.get("/themes/nothing-here").status_code == 404


@pytest.mark.parametrize("extra", [{"visibility": "members"}, {"status": "draft"},
                                   {"deleted_at": "now"}, {"hidden_at": "now"}])
def test_the_theme_page_hides_what_visitors_may_not_see(client, org, extra):
    extra = {k: (utcnow() if v == "now" else v) for k, v in extra.items()}
    make_post(org, title="Caché", themes="Secret", **extra)
    make_post(org, title="Visible", themes="Secret")
    html = client.get("/themes/secret").get_data(as_text=True)
    assert "Visible" in html and "Caché" not in html


def test_members_see_their_members_only_items(client, org, make_account, make_member, login):
    make_resource(org, title="Interne", themes="Secret", visibility="members")
    member = make_account()
    make_member(org, member)
    assert "Interne" not in client.get("/themes/secret").get_data(as_text=True)
    login(member)
    assert "Interne" in client.get("/themes/secret").get_data(as_text=True)


def test_the_index_lists_the_thesaurus_then_used_keywords(client, org, make_account):
    admin = make_account(role="admin")
    from hub.content.themes import ThemeDraft, save_theme

    env = save_theme(admin, None, ThemeDraft(label="Environnement", label_en="Environment"))
    save_theme(admin, None, ThemeDraft(label="Eau", parent_id=env.id))
    db.session.commit()
    make_post(org, title="Billet", themes="Vélo")
    make_post(org, title="Caché", themes="Plan secret", visibility="members")
    html = client.get("/themes").get_data(as_text=True)
    assert "Environment" in html and "Eau" in html and "Vélo" in html
    assert html.index("Environment") < html.index("Vélo")
    assert "Plan secret" not in html


def test_the_theme_page_runs_a_fixed_number_of_queries(client, org, count_queries):
    def make(n):
        for i in range(n):
            make_post(org, title=f"Billet {i}", themes="Climat")
            make_resource(org, title=f"Ressource {i}", themes="Climat")
            make_event(org, title=f"Rencontre {i}", themes="Climat")
            make_discussion(org, title=f"Débat {i}", themes="Climat")
    make(1)
    client.get("/themes/climat")  # warm the page cache of settings
    with count_queries() as few:
        client.get("/themes/climat?a=1")
    make(5)
    with count_queries() as many:
        client.get("/themes/climat?a=2")
    assert many.count == few.count


# -- the thesaurus admin -------------------------------------------------------------------


@pytest.fixture
def admin(make_account):
    return make_account("chief", role="admin")


def test_an_admin_creates_and_edits_a_theme(client, admin, login):
    login(admin)
    response = client.post("/admin/themes/new", data={
        "label": "Écologie", "label_fr": "Écologie", "label_en": "Ecology", "parent_id": "0",
        "description": "La planète"})
    assert response.status_code == 302
    assert tag_row("ecologie") == ("Écologie", "Écologie", "Ecology", True, None)
    eco = db.session.scalar(select(Tag.id).where(Tag.slug == "ecologie"))
    client.post("/admin/themes/new", data={"label": "Eau", "parent_id": str(eco)})
    water = db.session.scalar(select(Tag.id).where(Tag.slug == "eau"))
    assert tag_row("eau")[4] == eco
    response = client.post(f"/admin/themes/{eco}", data={
        "label": "Écologie", "label_en": "Ecology!", "parent_id": str(water)})
    assert response.status_code == 400
    assert "under itself" in response.get_data(as_text=True)
    assert tag_row("ecologie")[2] == "Ecology"
    actions = db.session.scalars(select(AdminAction.action)).all()
    assert actions.count("theme.create") == 2


def test_creating_a_theme_that_exists_as_keyword_promotes_it(client, admin, login, org):
    make_post(org, title="Billet", themes="vélo")
    login(admin)
    client.post("/admin/themes/new", data={"label": "Vélo", "label_en": "Cycling",
                                            "parent_id": "0"})
    assert tag_row("velo") == ("Vélo", "", "Cycling", True, None)
    response = client.post("/admin/themes/new", data={"label": "VELO", "parent_id": "0"})
    assert response.status_code == 400
    assert "already has this theme" in response.get_data(as_text=True)


def test_an_admin_promotes_a_free_keyword(client, admin, login, org):
    make_post(org, title="Billet", themes="Jardins")
    login(admin)
    tag_id = db.session.scalar(select(Tag.id).where(Tag.slug == "jardins"))
    assert f"/admin/themes/{tag_id}/promote" in client.get("/admin/themes").get_data(
        as_text=True)
    response = client.post(f"/admin/themes/{tag_id}/promote", data={})
    assert response.status_code == 302
    assert tag_row("jardins")[3] is True
    assert db.session.scalar(select(AdminAction.action).where(
        AdminAction.action == "theme.promote")) == "theme.promote"


@pytest.mark.parametrize("role", ["user", "moderator"])
@pytest.mark.parametrize("action", ["new", "edit", "promote"])
def test_only_admins_manage_the_thesaurus(client, make_account, login, org, admin, role,
                                          action):
    from hub.content.themes import ThemeDraft, save_theme

    make_post(org, title="Billet", themes="Jardins")
    save_theme(admin, None, ThemeDraft(label="Eau"))
    db.session.commit()
    login(make_account(role=role))
    tag_id = db.session.scalar(select(Tag.id).where(Tag.slug == "jardins"))
    water = db.session.scalar(select(Tag.id).where(Tag.slug == "eau"))
    url = {"new": "/admin/themes/new", "edit": f"/admin/themes/{water}",
           "promote": f"/admin/themes/{tag_id}/promote"}[action]
    assert client.post(url, data={"label": "X", "parent_id": "0"}).status_code == 403
    assert tag_row("x") is None and tag_row("jardins")[3] is False
    assert tag_row("eau")[0] == "Eau"


def test_a_bad_label_is_refused(client, admin, login):
    login(admin)
    response = client.post("/admin/themes/new", data={"label": "!!!", "parent_id": "0"})
    assert response.status_code == 400
    assert "at least one letter" in response.get_data(as_text=True)
    assert db.session.scalar(select(Tag.id)) is None
