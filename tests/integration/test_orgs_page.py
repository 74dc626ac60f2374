"""The organisation page: what it shows to whom, images, hostile markup, query counts."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from hub.extensions import db
from tests.integration.orgs_support import (  # noqa: F401
    client_for,
    english,
    org_columns,
)

EDIT_FORM = {"name": "Collectif", "summary": "Un réseau", "description": "Bonjour",
             "website": "", "contact_email": "", "address": "", "latitude": "",
             "longitude": "", "themes": ""}


@pytest.fixture
def owner(make_account):
    return make_account("owner", display_name="Olga Owner")


@pytest.fixture
def org(make_org, owner):
    return make_org(owner=owner, handle="collectif", name="Collectif", summary="Un réseau",
                    website="https://collectif.example", contact_email="bonjour@collectif.example",
                    address="3 place du Marché\n69001 Lyon", latitude=45.7676, longitude=4.8345,
                    themes="Habitat, écologie")


def test_the_page_shows_the_organisation_and_its_members_to_everyone(client, org,
                                                                     make_account, make_member):
    make_member(org, make_account("ed", display_name="Ed Itor"), "editor")

    page = client.get("/@collectif").get_data(as_text=True)

    for text in ("Collectif", "@collectif", "Un réseau", 'href="https://collectif.example"',
                 "mailto:bonjour@collectif.example", "3 place du Marché<br>69001 Lyon",
                 "45.76760, 4.83450", "https://www.openstreetmap.org/?mlat=45.76760",
                 'href="/orgs?theme=habitat"', "Olga Owner", "Ed Itor"):
        assert text in page, text
    assert re.search(r"Olga Owner</a>.*?owner</span>", page, re.S)
    assert re.search(r"Ed Itor</a>.*?editor</span>", page, re.S)
    assert "<iframe" not in page and "<script" not in page


def test_handles_are_case_insensitive_in_the_url(client, org):
    assert client.get("/@COLLECTIF").status_code == 200
    assert client.get("/@nobody").status_code == 404


@pytest.mark.parametrize("viewer, links", [
    ("visitor", set()),
    ("member", {"leave"}),
    ("admin", {"edit", "members", "invite", "leave"}),
    ("instance_admin", {"edit", "members", "invite"}),
])
def test_the_page_offers_the_viewer_what_their_role_allows(app, client, org, make_account,
                                                           make_member, viewer, links):
    browser = client
    if viewer in {"member", "admin"}:
        account = make_account(f"the_{viewer}")
        make_member(org, account, viewer)
        browser = client_for(app, account)
    elif viewer == "instance_admin":
        browser = client_for(app, make_account("sysadmin", role="admin"))

    page = browser.get("/@collectif").get_data(as_text=True)

    shown = {name for name, marker in {
        "edit": 'href="/orgs/collectif/edit"',
        "members": 'href="/orgs/collectif/members"',
        "invite": 'href="/orgs/collectif/members#invite"',
        "leave": 'action="/orgs/collectif/leave"',
    }.items() if marker in page}
    assert shown == links


class Executable(HTMLParser):
    """Collects what a browser could run: scripts, on* handlers, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "object", "embed"}:
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in {"href", "src", "action"} and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag}[{name}={value}]")


def test_a_hostile_description_is_not_executable(client, make_org, owner):
    make_org(owner=owner, handle="piege", name="<script>alert('name')</script>",
             summary='<img src=x onerror="alert(1)">',
             description=('<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n'
                          '[clic](javascript:alert(3)) <a href="javascript:alert(4)">x</a>\n\n'
                          '<svg onload=alert(5)></svg> ![i](javascript:alert(6))'))

    response = client.get("/@piege")

    parser = Executable()
    parser.feed(response.get_data(as_text=True))
    assert parser.found == []
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- images -------------------------------------------------------------------------------


def png_bytes(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def media_files(app) -> list[Path]:
    root = Path(app.config["HUB_MEDIA_PATH"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def edit(browser, **files):
    data = dict(EDIT_FORM)
    for name, value in files.items():
        data[name] = (io.BytesIO(value), f"{name}.png") if isinstance(value, bytes) else value
    return browser.post("/orgs/collectif/edit", data=data, content_type="multipart/form-data")


def test_a_logo_that_is_not_an_image_is_a_form_error(app, org, owner):
    browser = client_for(app, owner)
    before = org_columns(org.id)

    response = edit(browser, logo=b"<html><script>alert(1)</script></html>")

    assert response.status_code == 400
    errors = re.search(r'<ul class="errors" id="logo-err">(.*?)</ul>',
                       response.get_data(as_text=True), re.S)
    assert errors and "This file is not an image we accept" in errors.group(1)
    assert org_columns(org.id) == before
    assert media_files(app) == []


def test_a_png_logo_is_stored_resized_and_served_from_media(app, client, org, owner):
    browser = client_for(app, owner)

    response = edit(browser, logo=png_bytes())

    assert response.status_code == 302
    logo_path = org_columns(org.id)[5]
    assert logo_path and logo_path.startswith("logo/")
    assert f'src="/media/{logo_path}"' in client.get("/@collectif").get_data(as_text=True)
    with client.get(f"/media/{logo_path}") as served:
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert Image.open(io.BytesIO(served.data)).format == "WEBP"


def test_replacing_and_removing_images_deletes_the_old_files(app, org, owner):
    browser = client_for(app, owner)
    edit(browser, logo=png_bytes("red"), banner=png_bytes("blue", (300, 100)))
    first_logo, first_banner = org_columns(org.id)[5:7]

    assert edit(browser, logo=png_bytes("green")).status_code == 302
    second_logo = org_columns(org.id)[5]
    assert second_logo != first_logo
    assert edit(browser, remove_banner="y").status_code == 302

    assert org_columns(org.id)[5:7] == (second_logo, None)
    root = Path(app.config["HUB_MEDIA_PATH"])
    assert media_files(app) == [root / second_logo]
    assert first_banner is not None


def test_a_bad_banner_keeps_the_old_logo_and_stores_nothing_new(app, org, owner):
    browser = client_for(app, owner)
    edit(browser, logo=png_bytes("red"))
    before, files = org_columns(org.id), media_files(app)

    response = edit(browser, logo=png_bytes("green"), banner=b"GIF89a not really")

    assert response.status_code == 400
    assert org_columns(org.id) == before
    assert media_files(app) == files


# -- query counts -------------------------------------------------------------------------


def page_queries(browser, count_queries) -> int:
    browser.get("/@collectif")  # warm-up
    db.session.expire_all()
    with count_queries() as counter:
        response = browser.get("/@collectif")
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("viewer", ["visitor", "member"])
def test_page_queries_do_not_grow_with_the_number_of_members(app, client, org, make_account,
                                                            make_member, count_queries, viewer):
    browser = client
    if viewer == "member":
        me = make_account("me")
        make_member(org, me, "member")
        browser = client_for(app, me)
    for i in range(2):
        make_member(org, make_account(f"few{i}"), "editor")
    few = page_queries(browser, count_queries)
    for i in range(27):
        make_member(org, make_account(f"many{i}"), "member")

    many = page_queries(browser, count_queries)

    assert few == many


def test_members_page_queries_do_not_grow_with_members_or_invitations(
        app, org, owner, make_account, make_member, count_queries):
    browser = client_for(app, owner)

    def measure() -> int:
        browser.get("/orgs/collectif/members")
        db.session.expire_all()
        with count_queries() as counter:
            assert browser.get("/orgs/collectif/members").status_code == 200
        return counter.count

    for i in range(2):
        make_member(org, make_account(f"few{i}"), "editor")
        browser.post("/orgs/collectif/invitations", data={"who": f"few{i}@example.net"})
    few = measure()
    for i in range(27):
        make_member(org, make_account(f"many{i}"), "member")
        browser.post("/orgs/collectif/invitations", data={"who": f"many{i}@example.net"})

    assert measure() == few
