"""View counters: per item and per day, no cookie, no address, robots and HEAD left out,
cached pages counted too, increments buffered and written in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import abort, render_template_string
from flask_login import current_user
from sqlalchemy import inspect, select

from hub.content import counters
from hub.content.counters import counts_for, counts_views, daily_counts, record_view
from hub.content.models import Post, ViewCount
from hub.content.visibility import is_viewable
from hub.extensions import db
from hub.models_base import utcnow
from hub.pagecache import public_page
from tests.integration.orgs_support import client_for

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def app(app):
    """The app with a stand-in detail page, decorated as the real ones are: the counter
    outside the page cache."""

    @counts_views("post", "post_id")
    @public_page
    def show(post_id: int):
        post = db.session.get(Post, post_id)
        viewer = current_user if current_user.is_authenticated else None
        if post is None or not is_viewable(post, viewer):
            abort(404)
        return render_template_string("<h1>{{ title }}</h1>", title=post.title)

    app.add_url_rule("/test-posts/<int:post_id>", "test_post", show)
    from hub.admin.services import ensure_settings

    ensure_settings()  # the page cache needs its version row
    db.session.commit()
    return app


@pytest.fixture(autouse=True)
def a_browser(client):
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def org(make_org):
    return make_org(handle="collectif")


@pytest.fixture
def make_post(org):
    def factory(visibility="public", **fields):
        post = Post(org_id=org.id, title=fields.pop("title", "Un billet"), status="published",
                    visibility=visibility, published_at=utcnow(), **fields)
        db.session.add(post)
        db.session.commit()
        return post

    return factory


def stored() -> dict[tuple, int]:
    counters.flush()
    db.session.expire_all()
    return {(v.target_type, v.target_id, v.day): v.count
            for v in db.session.scalars(select(ViewCount))}


def test_each_view_counts_and_the_same_visitor_twice_is_two(client, make_post):
    post = make_post()
    assert client.get(f"/test-posts/{post.id}").status_code == 200
    assert client.get(f"/test-posts/{post.id}").status_code == 200
    assert stored() == {("post", post.id, counters.today()): 2}


def test_pages_served_from_the_cache_are_counted(client, make_post, count_queries):
    post = make_post()
    client.get(f"/test-posts/{post.id}")
    with count_queries() as counter:
        cached = client.get(f"/test-posts/{post.id}")
    assert cached.status_code == 200 and counter.count == 1  # the cache answered
    etag = cached.headers["ETag"]
    assert client.get(f"/test-posts/{post.id}", headers={"If-None-Match": etag}
                      ).status_code == 304
    assert stored() == {("post", post.id, counters.today()): 3}


def test_nothing_identifies_the_visitor(client, make_post):
    post = make_post()
    response = client.get(f"/test-posts/{post.id}")
    assert "Set-Cookie" not in response.headers
    columns = {c["name"] for c in inspect(db.engine).get_columns("view_count")}
    assert columns == {"id", "target_type", "target_id", "day", "count"}


@pytest.mark.parametrize("agent", [
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl)", "SomeCrawler/1.0", "Baiduspider",
    "Mozilla/5.0 (compatible; Yahoo! Slurp)",
    "http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.example/)", "curl/8.5.0", "",
])
def test_robots_and_scripts_are_not_counted(client, make_post, agent):
    post = make_post()
    assert client.get(f"/test-posts/{post.id}", headers={"User-Agent": agent}
                      ).status_code == 200
    assert stored() == {}


def test_head_requests_are_not_counted(client, make_post):
    post = make_post()
    assert client.head(f"/test-posts/{post.id}").status_code == 200
    assert stored() == {}


def test_a_missing_or_hidden_item_counts_nothing(app, client, make_post, make_account,
                                                 make_member, org):
    secret = make_post(visibility="members")
    assert client.get(f"/test-posts/{secret.id}").status_code == 404
    assert client.get("/test-posts/999999").status_code == 404
    assert stored() == {}
    member = make_account()
    make_member(org, member)
    browser = client_for(app, member)
    browser.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert browser.get(f"/test-posts/{secret.id}").status_code == 200
    assert stored() == {("post", secret.id, counters.today()): 1}


def test_views_are_kept_per_day(client, make_post):
    post = make_post()
    today = counters.today()
    db.session.add(ViewCount(target_type="post", target_id=post.id,
                             day=today - timedelta(days=1), count=5))
    db.session.add(ViewCount(target_type="post", target_id=post.id,
                             day=today - timedelta(days=40), count=9))
    db.session.commit()
    client.get(f"/test-posts/{post.id}")
    series = daily_counts("post", post.id)
    assert len(series) == 30 and series[0][0] == today - timedelta(days=29)
    assert series[-2:] == [(today - timedelta(days=1), 5), (today, 1)]
    assert sum(n for _, n in series) == 6
    assert counts_for("post", [post.id, 12345]) == {post.id: 15, 12345: 0}
    assert counts_for("post", [post.id], days=30) == {post.id: 6}


def test_increments_wait_in_memory_then_go_in_one_batch(app, client, make_post, monkeypatch):
    monkeypatch.setattr(counters, "FLUSH_VIEWS", 3)
    monkeypatch.setattr(counters, "FLUSH_SECONDS", 3600)
    post = make_post()
    for _ in range(2):
        client.get(f"/test-posts/{post.id}")
    assert db.session.scalar(select(ViewCount.count)) is None  # nothing written yet
    response = client.get(f"/test-posts/{post.id}")  # the third view fills the batch
    assert db.session.scalar(select(ViewCount.count)) is None  # not before it is sent
    response.close()  # what the WSGI server does once the page is sent
    db.session.expire_all()
    assert db.session.scalar(select(ViewCount.count)) == 3
    assert len(app.extensions["hub_views"]) == 0


def test_flushes_add_up(app, make_post):
    post = make_post()
    for _ in range(4):
        record_view("post", post.id)
    counters.flush()
    record_view("post", post.id)
    counters.flush()
    assert stored() == {("post", post.id, counters.today()): 5}


def test_a_failed_write_keeps_the_counts(app, make_post, monkeypatch):
    post = make_post()
    record_view("post", post.id)

    def broken(connection, items):
        raise RuntimeError("database away")

    monkeypatch.setattr(counters, "_upsert", broken)
    with pytest.raises(RuntimeError):
        counters.flush()
    monkeypatch.undo()
    assert stored() == {("post", post.id, counters.today()): 1}


def test_unknown_kinds_are_refused(app):
    with pytest.raises(ValueError):
        record_view("comment", 1)
    with pytest.raises(ValueError):
        counts_views("organisation", "id")


def test_a_quiet_site_writes_its_views_within_seconds(make_app, monkeypatch):
    """Outside tests a timer flushes the first pending view: no visitor needs to come
    after it for it to be written."""
    import time

    monkeypatch.setattr(counters, "FLUSH_SECONDS", 0.05)
    live = make_app(HUB_ENV="development")
    with live.app_context():
        record_view("event", 7)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.scalar(select(ViewCount.count)) == 1:
                break
            time.sleep(0.05)
        assert db.session.scalar(select(ViewCount.count)) == 1
        assert len(live.extensions["hub_views"]) == 0
        db.session.remove()


@pytest.mark.parametrize(("endpoint", "kind"), [
    ("posts.post", "post"), ("resources.resource", "resource"),
    ("discussions.discussion", "discussion"), ("events.event", "event"),
])
def test_every_detail_page_is_counted(app, endpoint, kind):
    """Each item page wears ``@counts_views(kind, "<kind>_id")`` above ``@public_page``."""
    view = app.view_functions.get(endpoint)
    assert view is not None, f"{endpoint} is missing"
    assert getattr(view, "counted_as", None) == kind, \
        f'{endpoint}: add @counts_views("{kind}", "{kind}_id") above @public_page'


def test_org_page_links_to_the_stats_for_editors_only(app, make_account, make_org,
                                                      make_member):
    from tests.plugins.factories import PASSWORD

    def login(client, account):
        client.post("/login", data={"login": account.handle, "password": PASSWORD})

    owner = make_account(handle="statsowner")
    org = make_org(owner=owner, handle="statsorg")
    member = make_account(handle="statsmember")
    make_member(org, member, "member")
    as_member, as_owner = app.test_client(), app.test_client()
    login(as_member, member)
    assert "/@statsorg/stats" not in as_member.get("/@statsorg").get_data(as_text=True)
    login(as_owner, owner)
    assert "/@statsorg/stats" in as_owner.get("/@statsorg").get_data(as_text=True)
