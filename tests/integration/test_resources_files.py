"""Downloads: the type found by content, always an attachment, visibility applies."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.integration.resources_support import (  # noqa: F401
    english,
    resource_ids,
    resource_row,
    sample,
    share,
)


@pytest.fixture
def org(make_org, make_account):
    return make_org(owner=make_account("owner"), handle="collectif", name="Collectif")


@pytest.fixture
def member(make_account, make_member, org):
    account = make_account("mia")
    make_member(org, account, "member")
    return account


def _upload(client, login, member, data: bytes, name: str, **fields) -> int:
    login(member)
    response = share(client, "collectif", upload=(data, name), title="Doc", **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/logout", data={})
    return resource_ids()[-1]


def test_a_file_is_served_as_an_attachment_of_its_real_type(client, login, member):
    resource_id = _upload(client, login, member, sample("sample.pdf"), "Étude été 2024.exe")

    response = client.get(f"/library/{resource_id}/file")
    body = response.data
    response.close()

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert body == sample("sample.pdf")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="Etude ete 2024.pdf"' in disposition
    assert f"filename*=UTF-8''{quote('Étude été 2024.pdf', safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_text_is_served_as_plain_text_never_as_a_page(client, login, member):
    resource_id = _upload(client, login, member, "Bonjour <b>à</b> tous\n".encode(),
                          "page.html")

    response = client.get(f"/library/{resource_id}/file")
    response.close()

    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.txt"' in response.headers["Content-Disposition"]


def test_the_resource_page_links_the_download_with_its_size_and_type(client, login, member):
    resource_id = _upload(client, login, member, sample("sample.pdf"), "rapport.pdf")

    page = client.get(f"/library/{resource_id}").get_data(as_text=True)

    assert f'href="/library/{resource_id}/file"' in page
    assert "rapport.pdf — PDF, 665 B" in page or "rapport.pdf — PDF," in page


@pytest.mark.parametrize("viewer, status", [
    ("visitor", 404), ("outsider", 404), ("member", 200), ("instance_admin", 200),
])
def test_a_members_only_file_is_served_to_members_only(client, login, make_account,
                                                       make_member, org, member,
                                                       viewer, status):
    resource_id = _upload(client, login, member, sample("sample.txt"), "notes.txt",
                          visibility="members")
    if viewer == "outsider":
        login(make_account("out"))
    elif viewer == "member":
        other = make_account("mo")
        make_member(org, other, "member")
        login(other)
    elif viewer == "instance_admin":
        login(make_account("boss", role="admin"))

    file_response = client.get(f"/library/{resource_id}/file")
    file_response.close()
    page = client.get(f"/library/{resource_id}")

    assert file_response.status_code == status
    assert page.status_code == status
    if status == 200:
        assert "private" in file_response.headers["Cache-Control"]


def test_a_deleted_resource_has_no_file_any_more(client, login, member):
    resource_id = _upload(client, login, member, sample("sample.png"), "affiche.png")
    login(member)
    assert client.post(f"/library/{resource_id}/delete", data={}).status_code == 302

    assert client.get(f"/library/{resource_id}/file").status_code == 404
    assert client.get(f"/library/{resource_id}").status_code == 404
    assert resource_row(resource_id)["deleted_at"] is not None


def test_links_and_notes_have_no_file(client, login, member):
    login(member)
    share(client, "collectif", kind="note", title="Note", body="Texte")
    [resource_id] = resource_ids()

    assert client.get(f"/library/{resource_id}/file").status_code == 404
