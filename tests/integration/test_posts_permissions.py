"""Who may write, edit, delete and pin news posts, walked as a matrix over the real pages.

A refusal answers 403 (a visitor is sent to log in) and leaves every post as it was.
"""

from __future__ import annotations

import pytest

from tests.integration import posts_support
from tests.integration.orgs_support import login_redirect
from tests.integration.posts_support import (
    browser_for,
    snapshot,
)

# Fixtures shared by the post tests (assigned, so pytest finds them in this module).
cast = posts_support.cast
english = posts_support.english
make_post = posts_support.make_post

ACTORS = ("visitor", "non_member", "member", "editor", "admin", "owner", "other_editor",
          "instance_admin")
WRITERS = {"editor", "admin", "owner", "instance_admin"}
ACTIONS = ("new_form", "create", "edit_form", "edit", "delete", "pin")


@pytest.fixture
def post(cast, make_post):
    return make_post(cast.org, cast.people["editor"], "Assemblée générale",
                     body="Rendez-vous samedi.")


def request_for(action: str, post_id: int) -> tuple[str, str, dict | None]:
    base = "/@collectif/news"
    return {
        "new_form": ("get", f"{base}/new", None),
        "create": ("post", f"{base}/new", {"title": "Nouveau", "body": "Texte",
                                           "visibility": "public", "status": "published",
                                           "timezone": "Europe/Paris"}),
        "edit_form": ("get", f"{base}/{post_id}/edit", None),
        "edit": ("post", f"{base}/{post_id}/edit", {"title": "Changé", "body": "Autre",
                                                    "visibility": "public",
                                                    "status": "published",
                                                    "timezone": "Europe/Paris"}),
        "delete": ("post", f"{base}/{post_id}/delete", {}),
        "pin": ("post", f"{base}/{post_id}/pin", {"pinned": "1"}),
    }[action]


def check_effect(action: str, before: dict, after: dict) -> None:
    titles_before = [row[1] for row in before["posts"]]
    titles_after = [row[1] for row in after["posts"]]
    if action == "create":
        assert titles_after == [*titles_before, "Nouveau"]
    elif action == "edit":
        assert titles_after == ["Changé"]
        assert after["posts"][0][5] is not None  # the "edited" mark
    elif action == "delete":
        assert after["posts"][0][4] is not None
    elif action == "pin":
        assert after["posts"][0][3] is True
    else:
        assert after == before


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("actor", ACTORS)
def test_post_permission_matrix(app, client, cast, post, actor, action):
    browser = browser_for(app, client, cast, actor)
    method, path, data = request_for(action, post.id)
    before = snapshot()

    response = browser.get(path) if method == "get" else browser.post(path, data=data)

    after = snapshot()
    if actor in WRITERS:
        assert response.status_code == (200 if method == "get" else 302), (
            response.get_data(as_text=True)[:2000])
        check_effect(action, before, after)
    elif actor == "visitor":
        assert response.status_code == 302
        assert response.headers["Location"] == login_redirect(path)
        assert after == before
    else:
        assert response.status_code == 403
        assert after == before


@pytest.mark.parametrize("actor", ["member", "other_editor", "non_member"])
def test_write_links_are_shown_only_to_editors(app, client, cast, post, actor):
    browser = browser_for(app, client, cast, actor)

    page = browser.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    listing = browser.get("/@collectif/news").get_data(as_text=True)

    assert "/edit" not in page and "/delete" not in page
    assert "/news/new" not in listing


def test_editor_sees_edit_pin_and_delete_buttons(app, client, cast, post):
    browser = browser_for(app, client, cast, "editor")

    page = browser.get(f"/@collectif/news/{post.id}").get_data(as_text=True)

    assert f"/@collectif/news/{post.id}/edit" in page
    assert f"/@collectif/news/{post.id}/pin" in page
    assert f"/@collectif/news/{post.id}/delete" in page


def test_a_suspended_editor_cannot_write(app, client, cast):
    browser = browser_for(app, client, cast, "editor")  # logs in while active
    from hub.extensions import db

    cast.people["editor"].status = "suspended"
    db.session.commit()
    before = snapshot()

    response = browser.post("/@collectif/news/new", data={
        "title": "Nouveau", "visibility": "public", "status": "published",
        "timezone": "Europe/Paris"})

    assert response.status_code in (302, 403)
    assert snapshot() == before


def test_posting_without_the_csrf_token_changes_nothing(app, client, cast, post):
    browser = browser_for(app, client, cast, "editor")
    before = snapshot()

    responses = [
        browser.post("/@collectif/news/new", data={"title": "x", "status": "published",
                                                   "visibility": "public",
                                                   "timezone": "Europe/Paris"}, csrf=False),
        browser.post(f"/@collectif/news/{post.id}/delete", data={}, csrf=False),
        browser.post(f"/@collectif/news/{post.id}/pin", data={"pinned": "1"}, csrf=False),
    ]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert snapshot() == before


def test_a_post_of_another_organisation_is_not_reachable_under_this_one(
        app, client, cast, make_post):
    theirs = make_post(cast.other_org, cast.people["other_editor"], "Chez les voisins")
    browser = browser_for(app, client, cast, "editor")
    before = snapshot()

    assert browser.get(f"/@collectif/news/{theirs.id}").status_code == 404
    assert browser.get(f"/@collectif/news/{theirs.id}/edit").status_code == 404
    assert browser.post(f"/@collectif/news/{theirs.id}/delete", data={}).status_code == 404
    assert snapshot() == before
