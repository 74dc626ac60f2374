"""Who sees which post where: its page, the organisation's news, the organisation page and
search; keyset pages of the news list; a fixed number of queries whatever the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from hub import pagecache
from hub.extensions import db
from tests.integration import posts_support
from tests.integration.posts_support import (
    browser_for,
    search_document,
)

# Fixtures shared by the post tests (assigned, so pytest finds them in this module).
cast = posts_support.cast
english = posts_support.english
make_post = posts_support.make_post

VIEWERS = ("visitor", "non_member", "member", "editor", "other_editor", "instance_admin")
EVERYONE = set(VIEWERS)
MEMBERS = {"member", "editor"}
EDITORS = {"editor", "instance_admin"}

#: (visibility, status) → who opens the page, who finds it in lists and search.
CASES = {
    ("public", "published"): (EVERYONE, EVERYONE),
    ("unlisted", "published"): (EVERYONE, set()),
    ("members", "published"): (MEMBERS | {"instance_admin"}, MEMBERS),
    ("public", "draft"): (EDITORS, set()),
    ("members", "draft"): (EDITORS, set()),
    ("public", "scheduled"): (EDITORS, set()),
    ("unlisted", "scheduled"): (EDITORS, set()),
}


def news_list(html: str) -> str:
    """The published part of the news page (editors also get a drafts box above it)."""
    start = html.find('<ol class="post-list">')
    return html[start:html.find("</ol>", start)] if start >= 0 else ""


def org_news(html: str) -> str:
    start = html.find('class="org-news"')
    return html[start:html.find("</section>", start)] if start >= 0 else ""


@pytest.mark.parametrize("visibility, status", sorted(CASES))
@pytest.mark.parametrize("viewer", VIEWERS)
def test_visibility_matrix(app, client, cast, make_post, viewer, visibility, status):
    extra = {}
    if status == "scheduled":
        extra = {"publish_date": date(2099, 1, 1), "publish_time": time(10, 0)}
    post = make_post(cast.org, cast.people["editor"], "Billet à voir", visibility=visibility,
                     status=status, **extra)
    opens, lists = CASES[(visibility, status)]
    browser = browser_for(app, client, cast, viewer)

    page = browser.get(f"/@collectif/news/{post.id}")
    listing = news_list(browser.get("/@collectif/news").get_data(as_text=True))
    org_page = org_news(browser.get("/@collectif").get_data(as_text=True))

    assert page.status_code == (200 if viewer in opens else 404)
    assert ("Billet à voir" in listing) == (viewer in lists)
    assert ("Billet à voir" in org_page) == (viewer in lists)
    document = search_document(post.id)
    if not lists:
        assert document is None
    else:
        assert document is not None
        assert document.visibility == visibility


def test_a_members_only_post_turns_public_and_back(app, client, cast, make_post):
    post = make_post(cast.org, cast.people["editor"], "Interne", visibility="members")
    from hub.content.posts.services import PostDraft, update_post

    with app.test_request_context():
        update_post(cast.people["editor"], post,
                    PostDraft(title="Interne", visibility="public", status="published"))
        db.session.commit()
    assert client.get(f"/@collectif/news/{post.id}").status_code == 200
    assert search_document(post.id).visibility == "public"

    with app.test_request_context():
        update_post(cast.people["editor"], post,
                    PostDraft(title="Interne", visibility="unlisted", status="published"))
        db.session.commit()
    assert search_document(post.id) is None
    assert "Interne" not in news_list(client.get("/@collectif/news").get_data(as_text=True))


def test_the_news_list_pages_with_a_cursor_and_pinned_posts_head_page_one(
        app, client, cast, make_post):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    posts = []
    for i in range(25):
        # Pairs of posts share a date: the id breaks the tie.
        posts.append(make_post(cast.org, cast.people["editor"], f"Billet n°{i:02d}",
                               now=start + timedelta(hours=i // 2)))
    posts[3].is_pinned = True
    db.session.commit()

    first = client.get("/@collectif/news").get_data(as_text=True)
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&")).get_data(as_text=True)

    def titles(html: str) -> list[str]:
        import re

        return re.findall(r"Billet n°(\d\d)", news_list(html))

    assert next_link.startswith("/@collectif/news?before=")
    page_one, page_two = titles(first), titles(second)
    assert page_one[0] == "03"
    assert page_one[1:] == [f"{i:02d}" for i in range(24, 4, -1) if i != 3][:20]
    assert page_two == [f"{i:02d}" for i in range(24, -1, -1) if i != 3][20:]
    assert set(page_one) | set(page_two) == {f"{i:02d}" for i in range(25)}
    assert 'rel="next"' not in second
    assert "Latest news" in second


def test_a_bad_cursor_shows_the_first_page(app, client, cast, make_post):
    make_post(cast.org, cast.people["editor"], "Billet")

    response = client.get("/@collectif/news?before=nonsense' OR 1=1")

    assert response.status_code == 200
    assert "Billet" in response.get_data(as_text=True)


@pytest.mark.parametrize("viewer", ["visitor", "member", "editor"])
def test_the_news_list_runs_the_same_queries_for_3_or_30_posts(
        app, client, cast, make_post, count_queries, viewer):
    browser = browser_for(app, client, cast, viewer)
    author = cast.people["editor"]

    def measure() -> int:
        browser.get("/@collectif/news")  # warm-up
        pagecache.clear()
        db.session.expire_all()
        with count_queries() as counter:
            assert browser.get("/@collectif/news").status_code == 200
        return counter.count

    def add(number: int, offset: int) -> None:
        for i in range(number):
            make_post(cast.org, author, f"Billet {offset + i}", themes="écologie, climat",
                      visibility="members" if i % 3 == 0 else "public")
        make_post(cast.org, author, f"Brouillon {offset}", status="draft")

    add(3, 0)
    few = measure()
    add(27, 3)
    many = measure()

    assert few == many


@pytest.mark.parametrize("viewer", ["visitor", "member"])
def test_the_organisation_page_news_runs_the_same_queries_for_3_or_30_posts(
        app, client, cast, make_post, count_queries, viewer):
    browser = browser_for(app, client, cast, viewer)

    def measure() -> int:
        browser.get("/@collectif")
        pagecache.clear()
        db.session.expire_all()
        with count_queries() as counter:
            assert browser.get("/@collectif").status_code == 200
        return counter.count

    for i in range(3):
        make_post(cast.org, cast.people["editor"], f"Billet {i}", themes="climat")
    few = measure()
    for i in range(27):
        make_post(cast.org, cast.people["editor"], f"Billet {i + 3}", themes="climat")
    many = measure()

    assert few == many
