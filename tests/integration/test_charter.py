"""The charter: versions published by instance admins (and by organisations for their
spaces), readable with their differences, accepted at sign-up, and accepted again after a
change before anyone posts, comments or reports."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account
from hub.content.models import Comment, Post
from hub.errors import PermissionDenied
from hub.extensions import db
from hub.moderation import charter
from hub.moderation.models import CharterAcceptance, CharterVersion
from tests.integration.accounts_support import signup
from tests.integration.content_rows import make_post
from tests.plugins.factories import PASSWORD

ARTICLES = {"title_1": "Respect", "body_1": "On reste **courtois**.",
            "title_2": "Sources", "body_2": "On cite ses sources."}


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def admin(make_account):
    return make_account("chief", role="admin")


def publish(admin, *articles: tuple[str, str], note: str = "") -> CharterVersion:
    version = charter.publish_version(admin, [charter.ArticleDraft(t, b) for t, b in articles],
                                      note)
    db.session.commit()
    return version


def versions() -> int:
    return db.session.scalar(select(func.count(CharterVersion.id)))


# -- publishing and reading ------------------------------------------------------------------


def test_without_a_charter_nothing_is_asked(client, org, make_account, login):
    page = client.get("/charter").get_data(as_text=True)
    assert "No charter has been published yet" in page
    assert 'href="/charter"' in client.get("/").get_data(as_text=True)  # the footer
    assert signup(client).status_code == 302  # no box to tick


def test_an_admin_publishes_versions_that_stay_readable_with_their_changes(
        client, admin, login):
    login(admin)
    assert client.post("/admin/charter", data={**ARTICLES, "note": "Début"}).status_code == 302
    changed = {**ARTICLES, "body_2": "On cite toujours ses sources.",
               "title_3": "Vie privée", "body_3": "Rien de personnel sans accord."}
    assert client.post("/admin/charter", data={**changed, "note": "Sources, vie privée"}
                       ).status_code == 302

    page = client.get("/charter").get_data(as_text=True)
    assert "Version 2" in page and "Article 3" in page and "<strong>courtois</strong>" in page
    old = client.get("/charter/v1").get_data(as_text=True)
    assert "This is not the current version" in old and "Vie privée" not in old
    diff = client.get("/charter/changes?from=1&to=2").get_data(as_text=True)
    assert "+On cite toujours ses sources." in diff and "-On cite ses sources." in diff
    assert "new" in diff  # article 3
    assert "published a new version of the charter" in client.get("/admin/log").get_data(
        as_text=True)
    # The editor accepted what they published.
    assert charter.pending_version(admin) is None


def test_bad_charters_are_refused_and_change_nothing(client, admin, login):
    login(admin)
    empty = client.post("/admin/charter", data={"title_1": "", "body_1": ""})
    assert empty.status_code == 400 and "at least one article" in empty.get_data(as_text=True)
    untitled = client.post("/admin/charter", data={"title_1": "", "body_1": "texte"})
    assert untitled.status_code == 400 and "needs a title" in untitled.get_data(as_text=True)
    client.post("/admin/charter", data=ARTICLES)
    same = client.post("/admin/charter", data=ARTICLES)
    assert same.status_code == 400 and "Nothing changed" in same.get_data(as_text=True)
    assert versions() == 1


def test_hostile_html_in_an_article_is_cleaned(client, admin, login):
    login(admin)
    client.post("/admin/charter", data={
        "title_1": "<script>alert(1)</script>Titre",
        "body_1": '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'})
    page = client.get("/charter").get_data(as_text=True)
    assert "<script>alert(1)" not in page and 'onerror="' not in page
    assert 'href="javascript:' not in page and "<img" not in page


def test_only_instance_admins_edit_the_charter(client, make_account, login):
    login(make_account("someone"))
    assert client.get("/admin/charter").status_code == 403
    assert client.post("/admin/charter", data=ARTICLES).status_code == 403
    assert versions() == 0


# -- accepting -------------------------------------------------------------------------------


def test_sign_up_needs_the_box_ticked_and_stores_the_acceptance(client, admin):
    version = publish(admin, ("Respect", "Soyez courtois."))

    refused = signup(client)
    assert refused.status_code == 400 and "Accept the charter" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Account.id)).where(
        Account.handle == "newcomer")) == 0

    assert signup(client, charter="y").status_code == 302
    account = db.session.scalar(select(Account).where(Account.handle == "newcomer"))
    row = db.session.scalar(select(CharterAcceptance).where(
        CharterAcceptance.account_id == account.id))
    assert row.version_id == version.id and row.accepted_at is not None


@pytest.mark.parametrize("language, banner, refusal", [
    ("en", "The charter of", "The charter changed (version 2)"),
    ("fr", "La charte de", "La charte a changé (version 2)"),
])
def test_a_new_version_blocks_posting_and_commenting_until_accepted(
        client, admin, org, make_account, make_member, login, language, banner, refusal):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    editor = make_account("redac")
    make_member(org, editor, "editor")
    v1 = publish(admin, ("Respect", "Soyez courtois."))
    charter.accept(editor, v1)
    db.session.commit()
    billet = make_post(org, title="Ouvert")
    publish(admin, ("Respect", "Soyez courtois et bienveillants."), note="Bienveillance")
    login(editor)

    page = client.get("/").get_data(as_text=True)
    assert banner in page
    created = client.post(f"/@{org.handle}/news/new",
                          data={"title": "Bloqué", "body": "x", "status": "published",
                                "visibility": "public", "timezone": "Europe/Paris"})
    assert created.status_code == 403 and refusal in created.get_data(as_text=True)
    thread = client.get(f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)
    assert refusal in thread
    commented = client.post(f"/comments/post/{billet.id}", data={"body": "Bloqué aussi"})
    assert commented.status_code in (400, 403)
    assert db.session.scalar(select(func.count(Post.id)).where(Post.title == "Bloqué")) == 0
    assert db.session.scalar(select(func.count(Comment.id))) == 0

    # What changed since version 1, then acceptance.
    charter_page = client.get("/charter").get_data(as_text=True)
    assert "+Soyez courtois et bienveillants." in charter_page and "Bienveillance" in charter_page
    assert client.post("/charter/accept", data={}).status_code == 302
    assert banner not in client.get("/").get_data(as_text=True)
    with pytest.raises(PermissionDenied):
        charter.require_charter(make_account("new_member_never_accepted"))
    charter.require_charter(db.session.get(Account, editor.id))  # no error now


# -- an organisation's own rules -----------------------------------------------------------


def test_an_organisation_adds_rules_asked_before_the_first_comment_in_its_space(
        client, org, make_account, login):
    owner = db.session.scalar(select(Account).where(Account.handle == "fondatrice"))
    login(owner)
    assert client.post(f"/@{org.handle}/rules/edit", data={
        "title_1": "Pas de hors-sujet", "body_1": "On reste sur le thème."}).status_code == 302
    billet = make_post(org, title="Débat")
    visitor_page = client.get(f"/@{org.handle}/rules").get_data(as_text=True)
    assert "Pas de hors-sujet" in visitor_page

    reader = make_account("lectrice")
    client.post("/logout", data={})
    login(reader)
    thread = client.get(f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)
    assert "own rules for its spaces" in thread and f"/@{org.handle}/rules" in thread
    assert client.post(f"/comments/post/{billet.id}", data={"body": "Trop tôt"}
                       ).status_code in (400, 403)
    assert db.session.scalar(select(func.count(Comment.id))) == 0

    client.post(f"/@{org.handle}/rules/accept", data={})
    assert client.post(f"/comments/post/{billet.id}", data={"body": "Maintenant"}
                       ).status_code == 302
    assert db.session.scalar(select(func.count(Comment.id))) == 1


def test_only_organisation_admins_edit_its_rules(client, org, make_account, make_member,
                                                 login):
    editor = make_account("redac")
    make_member(org, editor, "editor")
    login(editor)
    assert client.get(f"/@{org.handle}/rules/edit").status_code == 403
    assert client.post(f"/@{org.handle}/rules/edit", data={"title_1": "X", "body_1": "y"}
                       ).status_code == 403
    assert versions() == 0


def test_login_still_works_for_someone_who_has_not_accepted(client, admin, make_account):
    person = make_account("ancienne")
    publish(admin, ("Respect", "Soyez courtois."))
    response = client.post("/login", data={"login": person.handle, "password": PASSWORD})
    assert response.status_code == 302
