"""The notifications page: newest first, paged, unread marked, read one / all, open, badge."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications.models import Notification
from hub.notifications.services import notify
from tests.integration.orgs_support import client_for, login_redirect


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def alice(make_account):
    return make_account("alice")


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def add(account, actor=None, kind="reply", url="/orgs", excerpt="Hello there", ago=0):
    note = notify(account, kind, actor=actor, url=url, excerpt=excerpt, send_email=False)
    note.created_at = utcnow() - timedelta(minutes=ago)
    db.session.commit()
    return note


def read_state() -> dict[int, bool]:
    db.session.expire_all()
    return {n.id: n.read_at is not None for n in db.session.scalars(select(Notification))}


def page(browser, path="/notifications") -> str:
    response = browser.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_list_needs_a_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302
    assert response.headers["Location"] == login_redirect("/notifications")


def test_the_list_shows_newest_first_with_actor_excerpt_link_and_date(app, alice, bob):
    add(alice, bob, "reply", excerpt="Oldest words", ago=120)
    newest = add(alice, bob, "mention", excerpt="Newest words", ago=5)
    html = page(client_for(app, alice))
    assert html.index("Newest words") < html.index("Oldest words")
    assert "@bob mentioned you" in html and "@bob replied to you" in html
    assert f'href="/notifications/{newest.id}"' in html
    assert "5 minutes ago" in html and "2 hours ago" in html
    assert html.count('class="notification unread"') == 2


def test_someone_elses_notifications_are_not_listed(app, alice, bob):
    add(bob, alice, excerpt="For Bob only")
    assert "For Bob only" not in page(client_for(app, alice))


def test_a_notification_from_oneself_is_not_made(alice):
    assert notify(alice, "reply", actor=alice, url="/") is None


def test_opening_marks_read_and_redirects_to_its_local_url(app, alice, bob):
    note = add(alice, bob, url="/@somewhere/news/3#comment-4")
    other = add(alice, bob)
    response = client_for(app, alice).get(f"/notifications/{note.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/@somewhere/news/3#comment-4"
    assert read_state() == {note.id: True, other.id: False}


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                 "javascript:alert(1)", ""])
def test_opening_never_leaves_the_site(app, alice, bob, url):
    note = add(alice, bob, url=url)
    response = client_for(app, alice).get(f"/notifications/{note.id}")
    assert response.headers["Location"] == "/notifications"


def test_someone_elses_notification_cannot_be_opened_or_marked(app, alice, bob):
    note = add(bob, alice)
    browser = client_for(app, alice)
    assert browser.get(f"/notifications/{note.id}").status_code == 404
    assert browser.post(f"/notifications/{note.id}/read", data={}).status_code == 404
    assert read_state() == {note.id: False}


def test_mark_one_as_read(app, alice, bob):
    first, second = add(alice, bob), add(alice, bob)
    response = client_for(app, alice).post(f"/notifications/{first.id}/read", data={})
    assert response.status_code == 302
    assert read_state() == {first.id: True, second.id: False}


def test_mark_as_read_without_the_form_token_changes_nothing(app, alice, bob):
    note = add(alice, bob)
    browser = client_for(app, alice)
    assert browser.post(f"/notifications/{note.id}/read", data={}, csrf=False).status_code == 400
    assert browser.post("/notifications/read", data={}, csrf=False).status_code == 400
    assert read_state() == {note.id: False}


def test_mark_all_as_read_touches_only_mine(app, alice, bob):
    mine = [add(alice, bob) for _ in range(3)]
    theirs = add(bob, alice)
    response = client_for(app, alice).post("/notifications/read", data={})
    assert response.status_code == 302
    assert read_state() == {**{n.id: True for n in mine}, theirs.id: False}


def test_the_header_shows_the_unread_count_to_its_owner(app, alice, bob):
    for _ in range(3):
        add(alice, bob)
    browser = client_for(app, alice)
    html = page(browser, "/orgs")
    assert re.search(r'class="badge unread-count">3<', html)
    browser.post("/notifications/read", data={})
    assert "unread-count" not in page(browser, "/orgs")
    assert "unread-count" not in page(client_for(app, bob), "/orgs")


def test_the_badge_costs_one_count_query(app, alice, bob, count_queries):
    add(alice, bob)
    browser = client_for(app, alice)
    browser.get("/orgs")
    with count_queries() as counter:
        browser.get("/orgs")
    counts = [s for s in counter.statements if "FROM notification" in s]
    assert len(counts) == 1 and "count(" in counts[0].lower()


def test_visitors_pages_ask_nothing_about_notifications(app, client, make_org, count_queries):
    from hub.admin.services import ensure_settings

    ensure_settings()
    db.session.commit()
    make_org(handle="jardins")
    client.get("/orgs")
    with count_queries() as counter:
        response = client.get("/orgs")
    assert response.status_code == 200 and "Notifications" not in response.get_data(as_text=True)
    assert counter.count == 1  # still served from the page cache
    assert not any("notification" in s for s in counter.statements)


def test_pages_are_keyset_paginated(app, alice, bob):
    notes = [add(alice, bob, excerpt=f"number {n:02d}", ago=100 - n) for n in range(35)]
    browser = client_for(app, alice)
    first = page(browser)
    assert "number 34" in first and "number 05" in first and "number 04" not in first
    cursor = re.search(r'href="(/notifications\?after=[^"]+)" rel="next"', first).group(1)
    second = page(browser, cursor.replace("&amp;", "&"))
    assert "number 04" in second and "number 00" in second and "number 05" not in second
    assert 'rel="next"' not in second
    assert len(notes) == 35


def test_a_broken_cursor_shows_the_first_page(app, alice, bob):
    add(alice, bob, excerpt="still here")
    assert "still here" in page(client_for(app, alice), "/notifications?after=nonsense-x")


def test_the_list_runs_a_fixed_number_of_queries(app, alice, make_account, count_queries):
    browser = client_for(app, alice)
    actors = [make_account() for _ in range(3)]
    add(alice, actors[0])
    browser.get("/notifications")
    db.session.expire_all()  # as a new request would find it
    with count_queries() as few:
        browser.get("/notifications")
    for n in range(25):
        add(alice, actors[n % 3])
    db.session.expire_all()
    with count_queries() as many:
        browser.get("/notifications")
    assert many.count == few.count, (few.statements, many.statements)


def test_a_deleted_actor_shows_as_someone(app, alice, bob):
    add(alice, bob, excerpt="orphan")
    bob.status = "deleted"
    db.session.commit()
    assert "Someone replied to you" in page(client_for(app, alice))


def test_mentions_notify_each_person_once_and_skip_those_already_told(
        alice, bob, make_account):
    from hub.notifications.services import notify_mentions

    carol = make_account("carol")
    told = notify_mentions(bob, [alice, carol, alice, bob], target_type="comment",
                           target_id=3, url="/comments/3", excerpt="hi", skip=[carol.id])
    db.session.commit()
    assert told == {alice.id, bob.id}
    rows = db.session.execute(select(Notification.account_id, Notification.kind)).all()
    assert rows == [(alice.id, "mention")]  # not Bob himself, not Carol (skipped)


def test_excerpts_are_plain_text_cut_on_a_word():
    from hub.notifications.services import excerpt_of

    assert excerpt_of("<p>Un <strong>petit</strong>\n mot</p>") == "Un petit mot"
    cut = excerpt_of("<p>" + "mot " * 100 + "</p>", limit=20)
    assert cut == "mot mot mot mot mot…"


def test_relative_dates_follow_the_language(app, alice, bob):
    add(alice, bob, ago=5)
    browser = client_for(app, alice)
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    browser.get("/locale?locale=fr&next=/")
    assert "il y a 5 minutes" in page(browser)
