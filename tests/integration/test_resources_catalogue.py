"""The catalogue /library and an organisation's library: filters, sorting, keyset pages,
visibility, folders, "add to our library", who may, and query counts."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.content.models import Folder, Resource, Shelf, Tag
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.resources_support import (  # noqa: F401
    english,
    new_resource,
    resource_row,
    shelf_count,
)


@pytest.fixture
def owner(make_account):
    return make_account("owner")


@pytest.fixture
def org(make_org, owner):
    return make_org(owner=owner, handle="collectif", name="Collectif")


@pytest.fixture
def other_org(make_org, make_account):
    return make_org(owner=make_account("autre"), handle="voisins", name="Les Voisins")


def titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h3><a href="/library/\d+">([^<]+)</a>',
                                                 page)]


def _note(org, author, title, **values):
    return new_resource(org, author, title=title, **values)


def test_filters_by_language_type_year_licence_and_organisation(client, org, other_org,
                                                                owner):
    _note(org, owner, "Rapport fr", language="fr", doc_type="report", licence="cc-by",
          date_published="2021-06")
    _note(org, owner, "Guide en", language="en", doc_type="guide", licence="arr",
          date_published="2022")
    _note(other_org, other_org_owner(other_org), "Étude voisine", language="fr",
          doc_type="study", date_published="2021")

    def shown(query: str) -> list[str]:
        return sorted(titles(client.get(f"/library?{query}").get_data(as_text=True)))

    assert shown("") == ["Guide en", "Rapport fr", "Étude voisine"]
    assert shown("language=fr") == ["Rapport fr", "Étude voisine"]
    assert shown("type=guide") == ["Guide en"]
    assert shown("year=2021") == ["Rapport fr", "Étude voisine"]
    assert shown("licence=arr") == ["Guide en"]
    assert shown("org=voisins") == ["Étude voisine"]
    assert shown("org=collectif&year=2021") == ["Rapport fr"]
    assert shown("org=nobody") == []
    assert shown("language=zz&type=nope&year=abc") == ["Guide en", "Rapport fr",
                                                        "Étude voisine"]


def other_org_owner(org):
    from hub.orgs.models import Membership

    return db.session.scalar(select(Membership).where(Membership.org_id == org.id)).account


def test_the_theme_filter_and_the_thesaurus(client, org, owner):
    db.session.add(Tag(slug="eau", label="Eau", label_en="Water", is_thesaurus=True))
    db.session.commit()
    _note(org, owner, "Sur l'eau", themes=("eau",))
    _note(org, owner, "Mots libres", keywords="Écologie")

    page = client.get("/library?theme=ecologie").get_data(as_text=True)

    assert titles(page) == ["Mots libres"]
    assert titles(client.get("/library?theme=eau").get_data(as_text=True)) == ["Sur l'eau"]
    assert '<option value="eau">Water</option>' in page


def test_members_only_deleted_and_hidden_resources_are_listed_for_no_visitor(
        client, login, org, owner, make_account, make_member):
    _note(org, owner, "Public")
    _note(org, owner, "Interne", visibility="members")
    gone = _note(org, owner, "Supprimée")
    gone.deleted_at = utcnow()
    hidden = _note(org, owner, "Masquée")
    hidden.hidden_at = utcnow()
    db.session.commit()

    for url in ("/library", "/@collectif/library", "/@collectif"):
        page = client.get(url).get_data(as_text=True)
        assert "Public" in page, url
        for secret in ("Interne", "Supprimée", "Masquée"):
            assert secret not in page, (url, secret)

    member = make_account("mem")
    make_member(org, member, "member")
    login(member)
    assert sorted(titles(client.get("/library").get_data(as_text=True))) == ["Interne",
                                                                             "Public"]
    assert "Interne" in client.get("/@collectif/library").get_data(as_text=True)


def _many(org, author, count: int) -> list[Resource]:
    made = []
    start = utcnow() - timedelta(days=1)
    for n in range(count):
        resource = _note(org, author, f"Titre {n:03d}", language="fr")
        resource.created_at = start + timedelta(minutes=n)
        made.append(resource)
    db.session.commit()
    return made


def test_newest_first_in_keyset_pages_that_keep_the_filters(client, org, owner):
    _many(org, owner, 65)
    _note(org, owner, "English one", language="en")

    first = client.get("/library?language=fr").get_data(as_text=True)
    assert titles(first)[:2] == ["Titre 064", "Titre 063"] and len(titles(first)) == 30
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "language=fr" in next_url and "after=" in next_url
    assert "offset" not in next_url and "page=" not in next_url

    second = client.get(next_url).get_data(as_text=True)
    assert titles(second)[0] == "Titre 034" and len(titles(second)) == 30
    third_url = re.search(r'href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
    third = client.get(third_url).get_data(as_text=True)
    assert titles(third) == ["Titre 004", "Titre 003", "Titre 002", "Titre 001", "Titre 000"]
    assert 'rel="next"' not in third
    assert "English one" not in first + second + third


def test_sorted_by_title_ignoring_case_and_accents(client, org, owner):
    for title in ("banane", "Été", "abricot", "Cerise", "«Datte»"):
        _note(org, owner, title)

    page = client.get("/library?sort=title").get_data(as_text=True)

    assert titles(page) == ["abricot", "banane", "Cerise", "«Datte»", "Été"]


def test_title_sort_pages_with_a_cursor_and_a_forged_cursor_is_ignored(client, org, owner):
    _many(org, owner, 35)

    first = client.get("/library?sort=title").get_data(as_text=True)
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "sort=title" in next_url
    second = client.get(next_url).get_data(as_text=True)

    assert titles(first)[0] == "Titre 000" and titles(second) == [
        "Titre 030", "Titre 031", "Titre 032", "Titre 033", "Titre 034"]
    for forged in ("!!!", "e30", "x" * 2000, "MjAyNC0wMS0wMXx4"):
        assert client.get(f"/library?after={forged}").status_code == 200


def test_the_catalogue_runs_a_fixed_number_of_queries(client, org, other_org, owner,
                                                      count_queries):
    db.session.add(Tag(slug="eau", label="Eau", is_thesaurus=True))
    db.session.commit()
    _note(org, owner, "Seule", themes=("eau",), keywords="un, deux")

    with count_queries() as few:
        assert client.get("/library?sort=title&language=").status_code == 200
    for n in range(40):
        other = other_org if n % 2 else org
        _note(other, other_org_owner(other), f"Note {n}", themes=("eau",), keywords=f"k{n}",
              date_published=str(2000 + n))
    with count_queries() as many:
        assert client.get("/library?sort=title&language=").status_code == 200

    assert many.count == few.count, many.statements


def test_an_organisation_library_runs_a_fixed_number_of_queries(client, org, owner,
                                                                count_queries):
    folder = Folder(org_id=org.id, name="Guides", slug="guides")
    db.session.add(folder)
    db.session.commit()
    _note(org, owner, "Seule", keywords="un")

    with count_queries() as few:
        assert client.get("/@collectif/library").status_code == 200
    for n in range(40):
        resource = _note(org, owner, f"Note {n}", keywords=f"k{n}, commun")
        db.session.execute(Shelf.__table__.update().where(Shelf.resource_id == resource.id)
                           .values(folder_id=folder.id))
    db.session.commit()
    with count_queries() as many:
        assert client.get("/@collectif/library").status_code == 200
    with count_queries() as page:
        assert client.get("/@collectif").status_code == 200
    _note(org, owner, "Encore")
    with count_queries() as page_more:
        assert client.get("/@collectif").status_code == 200

    assert many.count == few.count, many.statements
    assert page_more.count == page.count


# -- folders ------------------------------------------------------------------------------


def test_editors_create_rename_and_delete_folders(client, login, make_account, make_member,
                                                  org, owner):
    editor = make_account("eddie")
    make_member(org, editor, "editor")
    resource = _note(org, owner, "Dans un dossier")
    login(editor)

    created = client.post("/@collectif/library/folders", data={"name": "Guides pratiques",
                                                               "description": "Nos guides"})
    assert created.status_code == 302
    folder = db.session.scalar(select(Folder).where(Folder.org_id == org.id))
    assert (folder.name, folder.slug) == ("Guides pratiques", "guides-pratiques")
    shelf = db.session.scalar(select(Shelf).where(Shelf.resource_id == resource.id))
    moved = client.post(f"/@collectif/library/shelves/{shelf.id}/folder",
                        data={"folder_id": str(folder.id)})
    assert moved.status_code == 302
    page = client.get("/@collectif/library/guides-pratiques").get_data(as_text=True)
    assert "Dans un dossier" in page and "Nos guides" in page

    client.post(f"/@collectif/library/folders/{folder.id}/rename",
                data={"name": "Fiches", "description": ""})
    db.session.expire_all()
    assert db.session.get(Folder, folder.id).slug == "fiches"
    assert client.get("/@collectif/library/guides-pratiques").status_code == 404

    client.post(f"/@collectif/library/folders/{folder.id}/delete", data={})
    assert db.session.get(Folder, folder.id) is None
    db.session.expire_all()
    assert db.session.get(Shelf, shelf.id).folder_id is None
    assert "Dans un dossier" in client.get("/@collectif/library").get_data(as_text=True)


def test_a_folder_named_new_does_not_hide_the_share_page(client, login, org, owner):
    login(owner)
    client.post("/@collectif/library/folders", data={"name": "New", "description": ""})

    assert db.session.scalar(select(Folder.slug)) == "new-folder"
    assert client.get("/@collectif/library/new").status_code == 200


@pytest.mark.parametrize("who, allowed", [
    ("visitor", False), ("outsider", False), ("member", False), ("editor", True),
    ("instance_admin", True),
])
def test_who_may_manage_folders(client, login, make_account, make_member, org, owner,
                                who, allowed):
    folder = Folder(org_id=org.id, name="Dossier", slug="dossier")
    db.session.add(folder)
    db.session.commit()
    folder_id = folder.id
    if who != "visitor":
        account = make_account(f"{who}1", role="admin" if who == "instance_admin" else "user")
        if who in ("member", "editor"):
            make_member(org, account, who)
        login(account)

    responses = [
        client.post("/@collectif/library/folders", data={"name": "Autre", "description": ""}),
        client.post(f"/@collectif/library/folders/{folder_id}/rename",
                    data={"name": "Renommé", "description": ""}),
    ]

    db.session.expire_all()
    names = sorted(db.session.scalars(select(Folder.name)))
    if allowed:
        assert all(r.status_code == 302 for r in responses)
        assert names == ["Autre", "Renommé"]
    else:
        expected = 302 if who == "visitor" else 403
        assert all(r.status_code == expected for r in responses)
        assert names == ["Dossier"]
    deleted = client.post(f"/@collectif/library/folders/{folder_id}/delete", data={})
    assert (db.session.get(Folder, folder_id) is None) == allowed
    assert deleted.status_code == (302 if allowed or who == "visitor" else 403)


# -- "add to our library" -------------------------------------------------------------------


def test_an_editor_adds_another_organisation_resource_to_its_library(
        client, login, make_account, make_member, org, other_org, owner):
    resource = _note(org, owner, "Un bon guide")
    editor = make_account("vera")
    make_member(other_org, editor, "editor")
    login(editor)

    page = client.get(f"/library/{resource.id}").get_data(as_text=True)
    assert "Add to our library" in page and f'value="{other_org.id}"' in page
    response = client.post(f"/library/{resource.id}/add", data={"org_id": str(other_org.id)})

    assert response.status_code == 302
    shelves = db.session.execute(select(Shelf.org_id, Shelf.shared_by_id).where(
        Shelf.resource_id == resource.id).order_by(Shelf.id)).all()
    assert shelves == [(org.id, owner.id), (other_org.id, editor.id)]
    assert db.session.scalar(select(db.func.count()).select_from(Resource)) == 1
    library = client.get("/@voisins/library").get_data(as_text=True)
    assert "Un bon guide" in library and "added to this library" in library
    assert "Un bon guide" in client.get("/library?org=voisins").get_data(as_text=True)
    page = client.get(f"/library/{resource.id}").get_data(as_text=True)
    assert "Les Voisins" in page and "added by Vera" in page
    assert "Add to our library" not in page  # already there

    again = client.post(f"/library/{resource.id}/add", data={"org_id": str(other_org.id)})
    assert again.status_code == 302 and shelf_count() == 2

    shelf_id = db.session.scalar(select(Shelf.id).where(Shelf.org_id == other_org.id))
    removed = client.post(f"/@voisins/library/shelves/{shelf_id}/remove", data={})
    assert removed.status_code == 302
    assert shelf_count() == 1 and resource_row(resource.id)["deleted_at"] is None


@pytest.mark.parametrize("role", [None, "member"])
def test_only_editors_may_add_to_their_library(client, login, make_account, make_member, org,
                                               other_org, owner, role):
    resource = _note(org, owner, "Un guide")
    account = make_account("someone")
    if role:
        make_member(other_org, account, role)
    login(account)

    assert "Add to our library" not in client.get(f"/library/{resource.id}").get_data(
        as_text=True)
    response = client.post(f"/library/{resource.id}/add", data={"org_id": str(other_org.id)})

    assert response.status_code == 403 and shelf_count() == 1


def test_members_only_resources_cannot_be_added_elsewhere(client, login, make_account,
                                                          make_member, org, other_org, owner):
    resource = _note(org, owner, "Interne", visibility="members")
    account = make_account("both")
    make_member(org, account, "member")
    make_member(other_org, account, "editor")
    login(account)

    response = client.post(f"/library/{resource.id}/add", data={"org_id": str(other_org.id)})

    assert response.status_code == 403 and shelf_count() == 1


def test_the_sharing_organisation_cannot_remove_its_own_shelf(client, login, org, owner):
    resource = _note(org, owner, "À nous")
    login(owner)
    shelf_id = db.session.scalar(select(Shelf.id).where(Shelf.resource_id == resource.id))

    response = client.post(f"/@collectif/library/shelves/{shelf_id}/remove", data={})

    assert response.status_code == 302 and shelf_count() == 1
    assert "delete the resource instead" in client.get("/@collectif/library").get_data(
        as_text=True)


# -- edit and delete ------------------------------------------------------------------------


EDIT = {"title": "Nouveau titre", "source_url": "", "abstract": "", "visibility": "public",
        "authors": "", "publisher": "", "date_published": "", "language": "", "doc_type": "",
        "licence": "", "keywords": "", "body": "Nouveau texte"}


@pytest.mark.parametrize("who, allowed", [
    ("visitor", False), ("outsider", False), ("other_member", False), ("author", True),
    ("editor", True), ("other_org_editor", False), ("instance_admin", True),
])
def test_who_may_edit_and_delete_a_resource(client, login, make_account, make_member, org,
                                            other_org, who, allowed):
    author = make_account("author")
    make_member(org, author, "member")
    resource = _note(org, author, "Original")
    if who == "author":
        login(author)
    elif who != "visitor":
        account = make_account(f"{who.replace('_', '')}1",
                               role="admin" if who == "instance_admin" else "user")
        if who == "other_member":
            make_member(org, account, "member")
        elif who == "editor":
            make_member(org, account, "editor")
        elif who == "other_org_editor":
            make_member(other_org, account, "editor")
        login(account)

    edit_page = client.get(f"/library/{resource.id}/edit")
    edited = client.post(f"/library/{resource.id}/edit", data=EDIT)
    after_edit = resource_row(resource.id)
    deleted = client.post(f"/library/{resource.id}/delete", data={})

    refused = 302 if who == "visitor" else 403
    if allowed:
        assert edit_page.status_code == 200
        assert edited.status_code == 302 and after_edit["title"] == "Nouveau titre"
        assert deleted.status_code == 302
        assert resource_row(resource.id)["deleted_at"] is not None
    else:
        assert edit_page.status_code == refused and edited.status_code == refused
        assert after_edit["title"] == "Original" and after_edit["edited_at"] is None
        assert deleted.status_code == refused
        assert resource_row(resource.id)["deleted_at"] is None


def test_a_deleted_resource_leaves_every_list_and_the_search_index(client, login, org, owner):
    from hub.content.models import SearchDocument

    resource = _note(org, owner, "Bientôt partie")
    assert db.session.scalar(select(SearchDocument.id).where(
        SearchDocument.object_id == resource.id, SearchDocument.kind == "resource"))
    login(owner)
    client.post(f"/library/{resource.id}/delete", data={})

    assert db.session.scalar(select(SearchDocument.id).where(
        SearchDocument.object_id == resource.id, SearchDocument.kind == "resource")) is None
    for url in ("/library", "/@collectif/library", "/@collectif"):
        assert "Bientôt partie" not in client.get(url).get_data(as_text=True)
