"""Writing news posts: the form, the page it makes, preview, edits, pins, deletion, mentions."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from hub.content.models import Post
from hub.extensions import db
from hub.notifications.models import Notification
from tests.integration import posts_support
from tests.integration.posts_support import (
    browser_for,
    post_columns,
    search_document,
    snapshot,
)

# Fixtures shared by the post tests (assigned, so pytest finds them in this module).
cast = posts_support.cast
english = posts_support.english
make_post = posts_support.make_post

FORM = {"title": "Assemblée générale", "summary": "Samedi à la maison des associations.",
        "body": "Nous vous **attendons** nombreux.", "themes": "", "visibility": "public",
        "status": "published", "timezone": "Europe/Paris"}


def png_bytes() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (200, 80, 40)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def newest_post() -> Post:
    return db.session.scalars(select(Post).order_by(Post.id.desc())).first()


def test_an_editor_publishes_a_post_and_everyone_reads_it(app, client, cast):
    editor = browser_for(app, client, cast, "editor")

    response = editor.post("/@collectif/news/new", data=FORM)

    post = newest_post()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/@collectif/news/{post.id}"
    assert (post.status, post.author_id) == ("published", cast.people["editor"].id)
    assert post.published_at is not None and post.edited_at is None
    page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "Assemblée générale" in page
    assert "<strong>attendons</strong>" in page
    assert "Samedi à la maison des associations." in page
    assert "The_Editor" in page and "Collectif" in page
    assert search_document(post.id) is not None


def test_the_post_date_is_shown_in_the_readers_language(app, client, cast, make_post):
    from datetime import UTC, datetime

    post = make_post(cast.org, cast.people["editor"], now=datetime(2025, 1, 15, 9, 0, tzinfo=UTC))

    english_page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    french_page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)

    assert "January 15, 2025" in english_page
    assert "15 janvier 2025" in french_page


def test_a_draft_is_saved_and_seen_only_by_editors(app, client, cast):
    editor = browser_for(app, client, cast, "editor")

    editor.post("/@collectif/news/new", data={**FORM, "status": "draft"})

    post = newest_post()
    assert (post.status, post.published_at) == ("draft", None)
    page = editor.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "Draft" in page
    assert "Assemblée générale" in editor.get("/@collectif/news").get_data(as_text=True)
    member = browser_for(app, client, cast, "member")
    assert member.get(f"/@collectif/news/{post.id}").status_code == 404
    assert client.get(f"/@collectif/news/{post.id}").status_code == 404
    assert "Assemblée générale" not in member.get("/@collectif/news").get_data(as_text=True)
    assert search_document(post.id) is None


def test_publishing_a_draft_later_sets_its_date_without_edited_mark(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data={**FORM, "status": "draft"})
    post = newest_post()

    editor.post(f"/@collectif/news/{post.id}/edit", data=FORM)

    db.session.expire_all()
    assert post.status == "published" and post.published_at is not None
    assert post.edited_at is None
    assert client.get(f"/@collectif/news/{post.id}").status_code == 200


@pytest.mark.parametrize("changes, message", [
    ({"title": "  "}, "This field is required."),
    ({"visibility": "everyone"}, "Not a valid choice"),
    ({"status": "scheduled"}, "Give the date and time of publication."),
    ({"status": "scheduled", "publish_date": "2001-01-01", "publish_time": "10:00"},
     "Choose a date and time in the future."),
    ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
    ({"title": "x" * 201}, "200"),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(app, client, cast, changes, message):
    editor = browser_for(app, client, cast, "editor")
    before = snapshot()

    response = editor.post("/@collectif/news/new", data={**FORM, **changes})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_cover_image_is_stored_with_its_description(app, client, cast):
    editor = browser_for(app, client, cast, "editor")

    response = editor.post("/@collectif/news/new", data={
        **FORM, "cover": (png_bytes(), "cover.png"), "cover_alt": "La salle comble"},
        content_type="multipart/form-data")

    post = newest_post()
    assert response.status_code == 302
    assert post.cover_path and post.cover_path.endswith(".webp")
    page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert f'src="/media/{post.cover_path}"' in page
    assert 'alt="La salle comble"' in page
    media = client.get(f"/media/{post.cover_path}")
    media.close()
    assert media.status_code == 200


def test_a_cover_needs_a_description_and_must_be_an_image(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    before = snapshot()

    no_alt = editor.post("/@collectif/news/new", data={**FORM, "cover": (png_bytes(), "c.png")},
                         content_type="multipart/form-data")
    not_image = editor.post("/@collectif/news/new", data={
        **FORM, "cover": (io.BytesIO(b"<svg onload=alert(1)>"), "c.png"), "cover_alt": "x"},
        content_type="multipart/form-data")

    assert no_alt.status_code == 400
    assert "Describe the cover image" in no_alt.get_data(as_text=True)
    assert not_image.status_code == 400
    assert "not an image" in not_image.get_data(as_text=True)
    assert snapshot() == before


def test_editing_a_published_post_shows_an_edited_mark(app, client, cast, make_post):
    post = make_post(cast.org, cast.people["editor"], "Premier titre", body="Avant")
    admin = browser_for(app, client, cast, "admin")

    form = admin.get(f"/@collectif/news/{post.id}/edit").get_data(as_text=True)
    response = admin.post(f"/@collectif/news/{post.id}/edit",
                          data={**FORM, "title": "Titre corrigé", "body": "Après"})

    assert "Premier titre" in form and "Avant" in form
    assert response.status_code == 302
    db.session.expire_all()
    assert post.edited_at is not None
    page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "Titre corrigé" in page and "Après" in page
    assert re.search(r"edited on \w+ \d+, \d{4}", page)
    assert search_document(post.id).title == "Titre corrigé"


def test_the_preview_button_renders_the_text_and_saves_nothing(app, client, cast, make_post):
    post = make_post(cast.org, cast.people["editor"], "Titre", body="Ancien texte")
    editor = browser_for(app, client, cast, "editor")
    before = snapshot()

    new = editor.post("/@collectif/news/new", data={
        **FORM, "body": "Un *aperçu* <script>alert(1)</script>", "preview": "body"})
    edit = editor.post(f"/@collectif/news/{post.id}/edit", data={
        **FORM, "title": "Pas enregistré", "body": "Nouveau **texte**", "preview": "body"})

    assert new.status_code == 200
    html = new.get_data(as_text=True)
    assert "<em>aperçu</em>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'value="Assemblée générale"' in html  # the form keeps what was typed
    assert "<strong>texte</strong>" in edit.get_data(as_text=True)
    assert snapshot() == before
    assert post_columns(post.id)[0] == "Titre"


def test_the_preview_endpoint_returns_clean_html_and_saves_nothing(app, client, cast):
    editor = browser_for(app, client, cast, "member")
    before = snapshot()

    response = editor.post("/preview", data={
        "source": "# Titre\n\n**gras** <img src=x onerror=alert(1)> [x](javascript:alert(1))"})

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<strong>gras</strong>" in html
    assert "onerror" not in html.replace("&lt;img src=x onerror", "")
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "<html" not in html  # a fragment, not a page
    assert snapshot() == before


def test_the_preview_endpoint_needs_login_and_the_csrf_token(app, client, cast):
    visitor = client.post("/preview", data={"source": "x"})
    editor = browser_for(app, client, cast, "editor")
    forged = editor.post("/preview", data={"source": "x"}, csrf=False)

    assert visitor.status_code == 302
    assert forged.status_code == 400


def test_the_form_loads_the_live_preview_script(app, client, cast):
    editor = browser_for(app, client, cast, "editor")

    page = editor.get("/@collectif/news/new").get_data(as_text=True)

    assert 'src="/static/preview.js"' in page
    assert 'data-preview-url="/preview"' in page
    assert 'name="preview"' in page
    script = client.get("/static/preview.js")
    script.close()
    assert script.status_code == 200


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_html_in_title_summary_and_body_is_never_live(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data={
        **FORM, "title": f"Titre {HOSTILE}", "summary": f"Résumé {HOSTILE}",
        "body": f"Texte {HOSTILE}\n\n[lien](javascript:alert(1)) <a href=\"x\" onclick=y>z</a>",
        "cover_alt": ""})
    post = newest_post()

    pages = [client.get(f"/@collectif/news/{post.id}").get_data(as_text=True),
             client.get("/@collectif/news").get_data(as_text=True),
             client.get("/@collectif").get_data(as_text=True)]

    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "onerror=alert(1)>" not in page
        assert 'href="javascript' not in page
        assert "onclick" not in page.replace("&lt;a href=&#34;x&#34; onclick", "").replace(
            'onclick=y&gt;', "")
    assert "Titre &lt;script&gt;" in pages[0]


def test_themes_come_from_the_field_and_the_text(app, client, cast):
    editor = browser_for(app, client, cast, "editor")

    editor.post("/@collectif/news/new", data={
        **FORM, "themes": "Écologie, logement", "body": "Sur le #climat et l'#ecologie."})

    db.session.expire_all()
    post = newest_post()
    assert [tag.slug for tag in post.themes] == ["climat", "ecologie", "logement"]
    page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert 'href="/themes/ecologie"' in page
    assert 'href="/themes/logement"' in page
    assert sorted(search_document(post.id).themes.split()) == ["climat", "ecologie", "logement"]


def test_pinned_posts_come_first_and_can_be_unpinned(app, client, cast, make_post):
    old = make_post(cast.org, cast.people["editor"], "Ancien billet")
    make_post(cast.org, cast.people["editor"], "Billet récent")
    editor = browser_for(app, client, cast, "editor")

    editor.post(f"/@collectif/news/{old.id}/pin", data={"pinned": "1"})
    pinned_list = client.get("/@collectif/news").get_data(as_text=True)
    pinned_page = client.get("/@collectif").get_data(as_text=True)
    editor.post(f"/@collectif/news/{old.id}/pin", data={"pinned": "0"})
    unpinned_list = client.get("/@collectif/news").get_data(as_text=True)

    assert pinned_list.index("Ancien billet") < pinned_list.index("Billet récent")
    assert pinned_page.index("Ancien billet") < pinned_page.index("Billet récent")
    assert "Pinned" in pinned_list
    assert unpinned_list.index("Billet récent") < unpinned_list.index("Ancien billet")


def test_at_most_five_posts_are_pinned(app, client, cast, make_post):
    posts = [make_post(cast.org, cast.people["editor"], f"Billet {i}") for i in range(6)]
    editor = browser_for(app, client, cast, "editor")
    for post in posts[:5]:
        editor.post(f"/@collectif/news/{post.id}/pin", data={"pinned": "1"})

    response = editor.post(f"/@collectif/news/{posts[5].id}/pin", data={"pinned": "1"},
                           follow_redirects=True)

    assert "At most 5 posts can be pinned" in response.get_data(as_text=True)
    assert post_columns(posts[5].id)[7] is False


def test_a_deleted_post_disappears_everywhere(app, client, cast, make_post):
    post = make_post(cast.org, cast.people["editor"], "Billet supprimé")
    editor = browser_for(app, client, cast, "owner")
    assert search_document(post.id) is not None

    response = editor.post(f"/@collectif/news/{post.id}/delete", data={})

    assert response.status_code == 302
    assert post_columns(post.id)[9] is not None  # soft: the row stays
    assert client.get(f"/@collectif/news/{post.id}").status_code == 404
    assert editor.get(f"/@collectif/news/{post.id}").status_code == 404
    assert "Billet supprimé" not in client.get("/@collectif/news").get_data(as_text=True)
    assert "Billet supprimé" not in client.get("/@collectif").get_data(as_text=True)
    assert search_document(post.id) is None


def test_mentions_notify_local_people_once(app, client, cast, make_account):
    reader = make_account("lea")
    editor = browser_for(app, client, cast, "editor")

    editor.post("/@collectif/news/new", data={**FORM, "body": "Merci @lea et @nobody !"})
    post = newest_post()
    editor.post(f"/@collectif/news/{post.id}/edit",
                data={**FORM, "body": "Merci encore @lea !"})

    notes = db.session.scalars(select(Notification).where(
        Notification.account_id == reader.id)).all()
    assert [(n.kind, n.target_type, n.target_id) for n in notes] == [
        ("mention", "post", post.id)]
    assert notes[0].url == f"/@collectif/news/{post.id}"


def test_a_draft_notifies_nobody_until_published(app, client, cast, make_account):
    reader = make_account("lea")
    editor = browser_for(app, client, cast, "editor")

    editor.post("/@collectif/news/new", data={**FORM, "status": "draft", "body": "Salut @lea"})
    post = newest_post()
    before = db.session.scalars(select(Notification.id)).all()
    editor.post(f"/@collectif/news/{post.id}/edit", data={**FORM, "body": "Salut @lea"})

    after = db.session.scalars(select(Notification).where(
        Notification.account_id == reader.id)).all()
    assert before == []
    assert len(after) == 1


def test_a_members_only_post_notifies_only_members(app, client, cast, make_account):
    outsider = make_account("lea")
    editor = browser_for(app, client, cast, "editor")

    editor.post("/@collectif/news/new", data={
        **FORM, "visibility": "members", "body": "Merci @lea et @the_member"})

    told = db.session.scalars(select(Notification.account_id)).all()
    assert told == [cast.people["member"].id]
    assert outsider.id not in told
