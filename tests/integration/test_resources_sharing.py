"""Sharing resources: links, files checked by content, notes, metadata, who may."""

from __future__ import annotations

import pytest

from hub.content.models import Resource
from hub.extensions import db
from tests.integration.resources_support import (  # noqa: F401
    english,
    resource_ids,
    resource_row,
    sample,
    share,
    shelf_count,
    stored_files,
)


@pytest.fixture
def owner(make_account):
    return make_account("owner")


@pytest.fixture
def org(make_org, owner):
    return make_org(owner=owner, handle="collectif", name="Collectif")


@pytest.fixture
def member(make_account, make_member, org):
    account = make_account("mia")
    make_member(org, account, "member")
    return account


ACCEPTED = [
    ("sample.pdf", "application/pdf", ".pdf"),
    ("sample.odt", "application/vnd.oasis.opendocument.text", ".odt"),
    ("sample.ods", "application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    ("sample.odp", "application/vnd.oasis.opendocument.presentation", ".odp"),
    ("sample.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     ".docx"),
    ("sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     ".xlsx"),
    ("sample.png", "image/png", ".png"),
    ("sample.jpg", "image/jpeg", ".jpg"),
    ("sample.gif", "image/gif", ".gif"),
    ("sample.webp", "image/webp", ".webp"),
    ("sample.txt", "text/plain; charset=utf-8", ".txt"),
]


@pytest.mark.parametrize("name, mime, extension", ACCEPTED)
def test_each_accepted_type_is_recognised_by_its_content_whatever_its_name(
        app, client, login, member, org, name, mime, extension):
    login(member)
    # Named as something else: the bytes decide.
    response = share(client, "collectif", upload=(sample(name), "rapport annuel.bin"),
                     title="Rapport")

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    [resource_id] = resource_ids()
    row = resource_row(resource_id)
    assert row["kind"] == "file" and row["file_type"] == mime
    assert row["file_name"] == f"rapport annuel{extension}"
    assert row["file_size"] == len(sample(name))
    assert row["author_id"] == member.id and row["org_id"] == org.id
    [stored] = stored_files(app)
    assert stored.name == row["file_path"] and stored.suffix == extension
    assert "rapport" not in stored.name  # a random name, never the uploader's
    assert stored.read_bytes() == sample(name)
    assert response.headers["Location"] == f"/library/{resource_id}"


@pytest.mark.parametrize("name", ["program.exe", "page.html", "archive.zip", "macro.docm"])
def test_a_file_of_another_type_is_refused_even_when_named_pdf(app, client, login, member,
                                                               name):
    login(member)

    response = share(client, "collectif", upload=(sample(name), "rapport.pdf"), title="Rapport")

    assert response.status_code == 400
    assert "not of a type we accept" in response.get_data(as_text=True)
    assert resource_ids() == [] and shelf_count() == 0
    assert stored_files(app) == []


def test_text_with_nul_bytes_or_invalid_utf8_is_refused(app, client, login, member):
    login(member)
    for data in (b"hello\x00world", b"caf\xe9 au lait"):
        response = share(client, "collectif", upload=(data, "notes.txt"), title="Notes")
        assert response.status_code == 400
    assert resource_ids() == [] and stored_files(app) == []


def _set_limit(mb: int) -> None:
    from hub.admin.services import ensure_settings

    ensure_settings().max_upload_mb = mb
    db.session.commit()


def test_a_file_over_the_admin_limit_is_refused(app, client, login, member):
    _set_limit(1)
    login(member)
    big = b"compost " * (160 * 1024)  # 1.25 MB of text

    response = share(client, "collectif", upload=(big, "big.txt"), title="Big")

    assert response.status_code == 400
    assert "larger than the limit of 1 MB" in response.get_data(as_text=True)
    assert resource_ids() == [] and stored_files(app) == []


def test_a_request_far_over_the_admin_limit_gets_413_with_that_limit(app, client, login,
                                                                     member):
    _set_limit(1)
    login(member)
    huge = b"compost " * (400 * 1024)  # 3.2 MB

    response = share(client, "collectif", upload=(huge, "huge.txt"), title="Huge")

    assert response.status_code == 413
    assert "limit of 1 MB" in response.get_data(as_text=True)
    assert resource_ids() == []


def test_the_admin_limit_may_exceed_the_global_request_limit(make_app, make_account,
                                                             make_org):
    app = make_app(HUB_MAX_UPLOAD_MB=1)
    with app.app_context():
        from tests.plugins.factories import PASSWORD

        owner = make_account("big")
        make_org(owner=owner, handle="gros")
        _set_limit(3)
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        client.post("/login", data={"login": "big", "password": PASSWORD})
        data = b"compost " * (250 * 1024)  # 2 MB

        response = share(client, "gros", upload=(data, "notes.txt"), title="Notes")

        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_link_is_shared_with_its_metadata(client, login, member, org):
    from hub.content.models import Tag

    db.session.add(Tag(slug="habitat", label="Habitat", label_en="Housing",
                       is_thesaurus=True))
    db.session.commit()
    login(member)

    response = share(client, "collectif", kind="link", source_url="https://example.org/guide",
                     title="Guide de l'habitat", authors="Ana Lopez\n\nBen Kiri\n",
                     publisher="Éditions du Commun", date_published="2023-05",
                     language="fr", doc_type="guide", licence="cc-by-sa",
                     abstract="Un guide sur le #logement.", themes="habitat",
                     keywords="coopératives, Écologie", visibility="members")

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    [resource_id] = resource_ids()
    row = resource_row(resource_id)
    assert row["kind"] == "link" and row["source_url"] == "https://example.org/guide"
    assert row["authors"] == "Ana Lopez\nBen Kiri"
    assert (row["date_published"], row["year"]) == ("2023-05", 2023)
    assert (row["language"], row["doc_type"], row["licence"]) == ("fr", "guide", "cc-by-sa")
    assert row["visibility"] == "members" and row["job_status"] == "pending"
    assert row["title_key"] == "guide de l'habitat"
    resource = db.session.get(Resource, resource_id)
    assert sorted(t.slug for t in resource.themes) == ["cooperatives", "ecologie", "habitat",
                                                       "logement"]
    assert shelf_count() == 1

    page = client.get(f"/library/{resource_id}").get_data(as_text=True)
    for text in ("Guide de l&#39;habitat", "Ana Lopez<br>Ben Kiri", "Éditions du Commun",
                 "2023-05", "Français", "Guide or handbook", "CC BY-SA", "#Housing",
                 'href="https://example.org/guide"'):
        assert text in page, text


def test_a_note_needs_a_title_and_a_body(client, login, member):
    login(member)

    missing = share(client, "collectif", kind="note", title="", body="Texte")
    empty = share(client, "collectif", kind="note", title="Titre", body="")
    ok = share(client, "collectif", kind="note", title="Compte rendu", body="**Réunion**")

    assert missing.status_code == 400 and "The title is required" in missing.get_data(
        as_text=True)
    assert empty.status_code == 400 and "Write the note" in empty.get_data(as_text=True)
    assert ok.status_code == 302
    [resource_id] = resource_ids()
    assert resource_row(resource_id)["body_html"].strip() == "<p><strong>Réunion</strong></p>"
    assert resource_row(resource_id)["job_status"] == ""


@pytest.mark.parametrize("fields, message", [
    ({"date_published": "2024-13"}, "YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"date_published": "2024-02-30"}, "YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"date_published": "mars 2024"}, "YYYY, YYYY-MM or YYYY-MM-DD"),
    ({"language": "xx"}, "Choose one of the values offered"),
    ({"licence": "gpl"}, "Choose one of the values offered"),
    ({"doc_type": "spam"}, "Choose one of the values offered"),
    ({"themes": "not-in-thesaurus"}, "Choose themes from the list"),
    ({"source_url": "javascript:alert(1)"}, "https:// or http://"),
    ({"source_url": ""}, "Give the address of the link"),
    ({"visibility": "unlisted"}, "Choose who may see it"),
])
def test_bad_metadata_is_refused_with_a_clear_message(client, login, member, fields, message):
    login(member)
    values = {"kind": "link", "source_url": "https://example.org/", "title": "T", **fields}

    response = share(client, "collectif", **values)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert resource_ids() == []


@pytest.mark.parametrize("who, status", [
    ("visitor", 302), ("outsider", 403), ("member", 302), ("editor", 302), ("admin", 302),
])
def test_who_may_share_into_an_organisation(client, login, make_account, make_member, org,
                                            who, status):
    if who != "visitor":
        account = make_account(f"{who}1", role="admin" if who == "admin" else "user")
        if who in ("member", "editor"):
            make_member(org, account, who)
        login(account)

    response = share(client, "collectif", kind="note", title="Note", body="Texte")

    assert response.status_code == status
    if who == "visitor":
        assert "/login" in response.headers["Location"]
    assert len(resource_ids()) == (1 if who in ("member", "editor", "admin") else 0)


def test_the_share_form_shows_the_limit_and_the_thesaurus(client, login, member):
    from hub.content.models import Tag

    db.session.add(Tag(slug="eau", label="Eau", is_thesaurus=True))
    db.session.add(Tag(slug="libre", label="libre"))  # a free keyword: not offered
    db.session.commit()
    login(member)

    page = client.get("/@collectif/library/new").get_data(as_text=True)

    assert "20 MB at most" in page
    assert 'value="eau"' in page and 'value="libre"' not in page
    assert 'enctype="multipart/form-data"' in page


def test_the_preview_button_renders_markdown_and_saves_nothing(client, login, member):
    login(member)

    response = share(client, "collectif", kind="note", title="T", body="*ok*",
                     preview="body")

    assert response.status_code == 200
    assert "<em>ok</em>" in response.get_data(as_text=True)
    assert resource_ids() == []


SETTINGS = {"name": "Maillage", "description": "", "contact_email": "",
            "default_locale": "en", "registration_mode": "open", "org_creation": "anyone"}


def test_the_admin_sets_the_upload_size_limit(client, login, make_account):
    from hub.admin.models import InstanceSettings

    login(make_account("chief", role="admin"))
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Upload size limit (MB)" in page and 'value="20"' in page

    assert client.post("/admin/settings", data={**SETTINGS, "max_upload_mb": "5"}
                       ).status_code == 302
    assert db.session.get(InstanceSettings, 1).max_upload_mb == 5
    for bad in ("0", "5000", "abc"):
        response = client.post("/admin/settings", data={**SETTINGS, "max_upload_mb": bad})
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(InstanceSettings, 1).max_upload_mb == 5
