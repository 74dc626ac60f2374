"""Scheduled publication: times on the author's clock, invisible until due, published once
by the sweeper and its job."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hub.content.models import Post
from hub.content.posts import services
from hub.extensions import db
from hub.jobs import jobs
from hub.notifications.models import Notification
from tests.integration import posts_support
from tests.integration.posts_support import (
    browser_for,
    post_columns,
    search_document,
)

# Fixtures shared by the post tests (assigned, so pytest finds them in this module).
cast = posts_support.cast
english = posts_support.english
make_post = posts_support.make_post

FORM = {"title": "Fête de quartier", "summary": "", "body": "Venez !", "themes": "",
        "visibility": "public", "status": "scheduled", "publish_date": "2099-01-15",
        "publish_time": "10:00", "timezone": "Europe/Paris"}


def newest_post() -> Post:
    return db.session.scalars(select(Post).order_by(Post.id.desc())).first()


@pytest.mark.parametrize("day, clock, zone, expected", [
    ("2099-01-15", "10:00", "Europe/Paris", datetime(2099, 1, 15, 9, 0, tzinfo=UTC)),
    ("2099-07-15", "10:00", "Europe/Paris", datetime(2099, 7, 15, 8, 0, tzinfo=UTC)),
    ("2099-01-15", "10:00", "America/Montreal", datetime(2099, 1, 15, 15, 0, tzinfo=UTC)),
    ("2099-01-15", "10:00", "UTC", datetime(2099, 1, 15, 10, 0, tzinfo=UTC)),
])
def test_the_time_is_read_on_the_chosen_clock_and_stored_in_utc(
        app, client, cast, day, clock, zone, expected):
    editor = browser_for(app, client, cast, "editor")

    response = editor.post("/@collectif/news/new", data={
        **FORM, "publish_date": day, "publish_time": clock, "timezone": zone})

    post = newest_post()
    assert response.status_code == 302
    assert (post.status, post.publish_at, post.timezone) == ("scheduled", expected, zone)
    assert post.published_at is None


def test_the_edit_form_shows_the_time_as_the_author_gave_it(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data=FORM)
    post = newest_post()

    form = editor.get(f"/@collectif/news/{post.id}/edit").get_data(as_text=True)

    assert 'value="2099-01-15"' in form
    assert 'value="10:00"' in form
    assert '<option selected value="Europe/Paris">' in form or \
        'value="Europe/Paris" selected' in form


def test_the_post_form_starts_on_the_authors_time_zone(app, client, cast):
    cast.people["editor"].timezone = "America/Montreal"
    db.session.commit()
    editor = browser_for(app, client, cast, "editor")

    form = editor.get("/@collectif/news/new").get_data(as_text=True)

    assert '<option selected value="America/Montreal">' in form


def test_people_choose_their_time_zone_in_their_profile(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    assert 'value="Europe/Paris"' in editor.get("/settings/profile").get_data(as_text=True)

    response = editor.post("/settings/profile", data={
        "display_name": "Éditrice", "bio": "", "locale": "", "timezone": "Asia/Tokyo"})
    refused = editor.post("/settings/profile", data={
        "display_name": "Éditrice", "bio": "", "locale": "", "timezone": "Nowhere/City"})

    assert response.status_code == 302
    assert refused.status_code == 400
    db.session.expire_all()
    assert cast.people["editor"].timezone == "Asia/Tokyo"


def test_a_scheduled_post_is_invisible_until_published(app, client, cast):
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data=FORM)
    post = newest_post()
    member = browser_for(app, client, cast, "member")

    assert client.get(f"/@collectif/news/{post.id}").status_code == 404
    assert member.get(f"/@collectif/news/{post.id}").status_code == 404
    for browser in (client, member):
        assert "Fête de quartier" not in browser.get("/@collectif/news").get_data(as_text=True)
        assert "Fête de quartier" not in browser.get("/@collectif").get_data(as_text=True)
    assert search_document(post.id) is None
    page = editor.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "Scheduled" in page
    assert re.search(r"1/15/99, 10:00\sAM \(Europe/Paris\)", page)  # babel: a narrow space
    listing = editor.get("/@collectif/news").get_data(as_text=True)
    assert "Drafts and scheduled posts" in listing and "Fête de quartier" in listing


def test_the_sweeper_publishes_a_due_post_and_not_before(app, client, cast, run_jobs):
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data=FORM)
    post = newest_post()
    due = datetime(2099, 1, 15, 9, 0, tzinfo=UTC)

    jobs.sweep(now=due - timedelta(minutes=1))
    run_jobs()
    db.session.expire_all()
    assert post.status == "scheduled"
    assert client.get(f"/@collectif/news/{post.id}").status_code == 404

    jobs.sweep(now=due + timedelta(seconds=30))
    run_jobs()

    db.session.expire_all()
    assert (post.status, post.published_at) == ("published", due)
    assert client.get(f"/@collectif/news/{post.id}").status_code == 200
    assert "Fête de quartier" in client.get("/@collectif/news").get_data(as_text=True)
    assert search_document(post.id) is not None
    assert services.due_posts(due + timedelta(days=1)) == []


def test_publication_runs_once_whatever_the_number_of_jobs(app, client, cast, make_account,
                                                           run_jobs):
    reader = make_account("lea")
    editor = browser_for(app, client, cast, "editor")
    editor.post("/@collectif/news/new", data={**FORM, "body": "Avec @lea"})
    post = newest_post()
    later = datetime(2099, 1, 16, tzinfo=UTC)
    assert db.session.scalars(select(Notification)).all() == []  # not at scheduling time

    jobs.sweep(now=later)
    jobs.sweep(now=later)  # queued twice, as after a crash or with two sweepers
    run_jobs()
    services.publish_post(post.id, later.isoformat())  # and a late duplicate
    db.session.commit()

    notes = db.session.scalars(select(Notification).where(
        Notification.account_id == reader.id)).all()
    assert [(n.kind, n.target_id, n.actor_id) for n in notes] == [
        ("mention", post.id, cast.people["editor"].id)]
    db.session.expire_all()
    assert post.status == "published"


def test_a_deleted_or_rescheduled_post_is_not_published_by_an_old_job(app, cast, make_post):
    now = datetime(2030, 1, 1, tzinfo=UTC)
    deleted = make_post(cast.org, cast.people["editor"], "Supprimé", status="scheduled",
                        publish_date=datetime(2099, 1, 1).date(),
                        publish_time=datetime(2099, 1, 1, 10).time(), now=now)
    moved = make_post(cast.org, cast.people["editor"], "Reporté", status="scheduled",
                      publish_date=datetime(2099, 1, 1).date(),
                      publish_time=datetime(2099, 1, 1, 10).time(), now=now)
    sweep_time = datetime(2099, 1, 2, tzinfo=UTC)
    queued = services.due_posts(sweep_time)
    assert sorted(args[0] for _, args in queued) == sorted([deleted.id, moved.id])
    with app.test_request_context():
        services.delete_post(cast.people["editor"], deleted)
        moved.publish_at = datetime(2099, 2, 1, tzinfo=UTC)
        db.session.commit()

    for name, args in queued:
        services.publish_post(*args)
    db.session.commit()

    assert post_columns(deleted.id)[4] == "scheduled"
    assert post_columns(moved.id)[4] == "scheduled"
    assert search_document(deleted.id) is None and search_document(moved.id) is None


def test_a_published_post_cannot_be_scheduled_again(app, client, cast, make_post):
    post = make_post(cast.org, cast.people["editor"])
    editor = browser_for(app, client, cast, "editor")
    before = post_columns(post.id)

    response = editor.post(f"/@collectif/news/{post.id}/edit", data=FORM)

    assert response.status_code == 400
    assert "already published" in response.get_data(as_text=True)
    assert post_columns(post.id) == before
