"""The profile form: display name, sanitised bio, preferred language and the avatar upload."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.integration.accounts_support import (
    PASSWORD,
    add_account,
    english,
    field_errors,
    fresh,
    text,
)

HOSTILE_BIO = """Hello **world**!

<script>alert(1)</script>
<img src=x onerror=alert(1)>
[click](javascript:alert(1))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<a href="https://ok.example/" onclick="alert(1)">x</a>
<svg onload=alert(1)>
"""


@pytest.fixture
def client(app):
    return english(app.test_client())


def png(width: int = 1000, height: int = 800, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "teal" if mode == "RGB" else 0).save(buffer, "PNG")
    return buffer.getvalue()


def save_profile(client, **fields):
    data = {"display_name": "", "bio": "", "locale": "", **fields}
    return client.post("/settings/profile", data=data, content_type="multipart/form-data")


def media_files(app) -> list[Path]:
    folder = Path(app.config["HUB_MEDIA_PATH"])
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_profile_form_shows_current_values(client, make_account, login):
    login(make_account("alice", display_name="Alice L.", bio_source="I *like* tea"))
    page = text(client.get("/settings/profile"))
    assert 'value="Alice L."' in page and "I *like* tea" in page
    assert 'enctype="multipart/form-data"' in page


def test_display_name_and_bio_show_on_the_profile(client, make_account, login):
    account = make_account("bob")
    login(account)
    response = save_profile(client, display_name="  Bob the Builder  ", bio="I *fix* things")
    assert response.status_code == 302
    assert response.headers["Location"] == "/@bob"
    assert fresh(account).display_name == "Bob the Builder"
    page = text(client.get("/@bob"))
    assert "<h1>Bob the Builder</h1>" in page
    assert "<em>fix</em>" in page


def test_hostile_bio_shows_nothing_executable(client, make_account, login):
    login(make_account("alice"))
    assert save_profile(client, bio=HOSTILE_BIO).status_code == 302
    response = client.get("/@alice")
    page = response.get_data(as_text=True)
    prose = re.search(r'<div class="prose">(.*?)</div>', page, re.S).group(1)
    assert "<strong>world</strong>" in prose
    assert "<script" not in page.lower()
    assert "onerror" not in prose.replace("onerror=alert(1)&gt;", "")  # shown as text only
    assert not re.search(r"<[^>]+\son\w+=", page)
    assert 'href="javascript:' not in page and 'href="data:' not in page
    assert "<svg" not in page and "<img" not in prose


def test_preferred_language_is_used_for_pages(app, make_account, login):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    account = make_account("alice")
    client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert save_profile(client, locale="en").status_code == 302
    assert fresh(account).locale == "en"
    assert '<html lang="en">' in text(client.get("/me"))
    assert save_profile(client, locale="").status_code == 302
    assert fresh(account).locale is None
    assert '<html lang="fr">' in text(client.get("/me"))


def test_unknown_language_is_refused_next_to_the_field(client, make_account, login):
    account = make_account("alice", locale="fr")
    login(account)
    response = save_profile(client, locale="xx")
    assert response.status_code == 400
    assert field_errors(text(response), "locale")
    assert fresh(account).locale == "fr"


def test_unknown_profile_is_404(client):
    assert client.get("/@nobody").status_code == 404


# -- avatar -------------------------------------------------------------------------------


def test_png_avatar_is_resized_renamed_and_served(app, client, make_account, login):
    account = make_account("alice")
    login(account)
    response = save_profile(client, avatar=(io.BytesIO(png(1000, 800)), "holiday photo.png"))
    assert response.status_code == 302
    path = fresh(account).avatar_path
    assert re.fullmatch(r"avatar/[A-Za-z0-9_-]{20,}\.webp", path)
    [stored] = media_files(app)
    assert stored == Path(app.config["HUB_MEDIA_PATH"]) / path
    with Image.open(stored) as image:
        assert max(image.size) <= 400 and image.size == (400, 320)

    with client.get(f"/media/{path}") as served:
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        with Image.open(io.BytesIO(served.get_data())) as image:
            assert image.format == "WEBP"
    assert f'src="/media/{path}"' in text(client.get("/@alice"))


def test_a_new_avatar_replaces_the_old_file_and_removing_deletes_it(app, client, make_account,
                                                                  login):
    account = make_account("alice")
    login(account)
    save_profile(client, avatar=(io.BytesIO(png()), "a.png"))
    first = fresh(account).avatar_path
    save_profile(client, avatar=(io.BytesIO(png(300, 300)), "b.png"))
    second = fresh(account).avatar_path
    assert first != second
    assert [p.name for p in media_files(app)] == [Path(second).name]
    save_profile(client, remove_avatar="y")
    assert fresh(account).avatar_path is None
    assert media_files(app) == []


@pytest.mark.parametrize(("content", "name"), [
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n", "avatar.png"),
    (b"Just some text, not an image at all.\n", "notes.txt"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "avatar.svg"),
    (b"GIF89a<script>alert(1)</script>", "avatar.gif"),
    (png()[:200], "truncated.png"),
    (b"", "empty.png"),
    (b"BM" + b"\0" * 60, "avatar.bmp"),
])
def test_non_images_are_refused_with_a_clear_message(app, client, make_account, login,
                                                    content, name):
    account = make_account("alice")
    login(account)
    response = save_profile(client, display_name="Changed", avatar=(io.BytesIO(content), name))
    assert response.status_code == 400
    message = field_errors(text(response), "avatar")
    assert message == "This file is not an image we accept (PNG, JPEG, GIF or WebP)."
    assert fresh(account).display_name != "Changed"  # nothing of the form was saved
    assert fresh(account).avatar_path is None
    assert media_files(app) == []


def test_other_image_formats_are_refused(app, client, make_account, login):
    account = make_account("alice")
    login(account)
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "BMP")
    buffer.seek(0)
    response = save_profile(client, avatar=(buffer, "avatar.png"))
    assert response.status_code == 400
    assert "not an image we accept" in field_errors(text(response), "avatar")
    assert fresh(account).avatar_path is None and media_files(app) == []


def test_no_file_chosen_keeps_the_avatar(app, client, make_account, login):
    account = make_account("alice")
    login(account)
    save_profile(client, avatar=(io.BytesIO(png()), "a.png"))
    path = fresh(account).avatar_path
    # What a browser sends when the file input is left empty: a part with no file name.
    response = save_profile(client, display_name="New name", avatar=(io.BytesIO(b""), ""))
    assert response.status_code == 302
    assert fresh(account).avatar_path == path and fresh(account).display_name == "New name"


def test_decompression_bomb_is_refused(app, client, make_account, login):
    """8000×8000 is above Pillow's limit we set (40 Mpx) but below the hard error (80 Mpx):
    before the fix Pillow only warned and the image was decoded in full."""
    account = make_account("alice")
    login(account)
    response = save_profile(client, avatar=(io.BytesIO(png(8000, 8000, "L")), "bomb.png"))
    assert response.status_code == 400
    assert "not an image we accept" in field_errors(text(response), "avatar")
    assert fresh(account).avatar_path is None
    assert media_files(app) == []


def test_upload_over_the_size_limit_answers_413_with_the_error_page(make_app):
    app = make_app(HUB_MAX_UPLOAD_MB=1)
    client = english(app.test_client())
    with app.app_context():
        account = add_account("alice")
        client.post("/login", data={"login": "alice", "password": PASSWORD})
        # The multipart body is built by hand: the test client would spool a 2 MB file to a
        # temporary file that it never closes (a ResourceWarning in a later test).
        boundary = "hubtestboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{client.csrf_token()}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f'name="avatar"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
                ).encode() + b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024) + \
            f"\r\n--{boundary}--\r\n".encode()
        response = client.post("/settings/profile", data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 413
        page = text(response)
        assert "File too large" in page
        assert "larger than the limit of 1 MB" in page
        assert fresh(account).avatar_path is None
        assert media_files(app) == []
