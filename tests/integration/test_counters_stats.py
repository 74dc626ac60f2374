"""The organisation's statistics page: editors only, the last 30 days, fixed query count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.content import counters
from hub.content.models import Discussion, Event, Post, Resource, ViewCount
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.orgs_support import client_for, login_redirect


@pytest.fixture
def owner(make_account):
    return make_account("owner")


@pytest.fixture
def org(make_org, owner):
    return make_org(owner=owner, handle="collectif", name="Collectif")


def add_views(kind: str, item_id: int, count: int, days_ago: int = 0) -> None:
    db.session.add(ViewCount(target_type=kind, target_id=item_id, count=count,
                             day=counters.today() - timedelta(days=days_ago)))
    db.session.commit()


def make_items(org, suffix: str = "") -> dict[str, object]:
    now = utcnow()
    items = {
        "post": Post(org_id=org.id, title=f"Billet secret{suffix}", status="published",
                     visibility="members", published_at=now),
        "resource": Resource(org_id=org.id, kind="link", title=f"Guide{suffix}",
                             title_key=f"guide{suffix}"),
        "discussion": Discussion(org_id=org.id, title=f"Débat{suffix}"),
        "event": Event(org_id=org.id, title=f"Rencontre{suffix}", starts_at=now,
                       ends_at=now + timedelta(hours=2)),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


def stats_page(browser, handle="collectif"):
    return browser.get(f"/@{handle}/stats")


@pytest.mark.parametrize(("role", "status"), [
    ("owner", 200), ("admin", 200), ("editor", 200), ("member", 403), (None, 403),
])
def test_only_editors_and_above_see_the_statistics(app, org, owner, make_account,
                                                   make_member, role, status):
    person = owner if role == "owner" else make_account()
    if role not in (None, "owner"):
        make_member(org, person, role)
    response = stats_page(client_for(app, person))
    assert response.status_code == status
    if status == 403:
        assert "Billet" not in response.get_data(as_text=True)


def test_instance_admins_see_the_statistics(app, org, make_account):
    admin = make_account(role="admin")
    assert stats_page(client_for(app, admin)).status_code == 200


def test_visitors_are_sent_to_log_in_and_see_no_numbers(client, org):
    items = make_items(org)
    add_views("post", items["post"].id, 42)
    response = stats_page(client)
    assert response.status_code == 302
    assert response.headers["Location"] == login_redirect("/@collectif/stats")


def test_an_unknown_organisation_is_404(app, owner):
    assert stats_page(client_for(app, owner), "nobody").status_code == 404


def test_the_page_lists_the_items_viewed_in_the_last_30_days(app, org, owner, make_org):
    items = make_items(org)
    add_views("post", items["post"].id, 7)
    add_views("post", items["post"].id, 3, days_ago=29)
    add_views("post", items["post"].id, 100, days_ago=30)  # too old
    add_views("resource", items["resource"].id, 12, days_ago=2)
    add_views("discussion", items["discussion"].id, 1)
    add_views("event", items["event"].id, 4, days_ago=1)
    gone = Post(org_id=org.id, title="Billet supprimé", status="published",
                published_at=utcnow(), deleted_at=utcnow())
    other = make_org(handle="voisins")
    theirs = Post(org_id=other.id, title="Billet des voisins", status="published",
                  published_at=utcnow())
    db.session.add_all([gone, theirs])
    db.session.commit()
    add_views("post", gone.id, 50)
    add_views("post", theirs.id, 60)
    counters.record_view("event", items["event"].id)  # still in memory: shown all the same

    html = stats_page(client_for(app, owner)).get_data(as_text=True)
    order = [html.index(title) for title in ("Guide", "Billet secret", "Rencontre", "Débat")]
    assert order == sorted(order)  # most viewed first
    assert "<td class=\"num\">10</td>" in html and "<td class=\"num\">5</td>" in html
    assert "Billet supprimé" not in html and "Billet des voisins" not in html
    assert "28 views in the last 30 days." in html


def test_the_page_runs_a_fixed_number_of_queries(app, org, owner, count_queries):
    browser = client_for(app, owner)
    first = make_items(org)
    for kind, item in first.items():
        add_views(kind, item.id, 1)
    stats_page(browser)
    db.session.expire_all()
    with count_queries() as few:
        assert stats_page(browser).status_code == 200
    for n in range(15):
        for kind, item in make_items(org, suffix=f" {n}").items():
            add_views(kind, item.id, n + 1)
            add_views(kind, item.id, 1, days_ago=3)
    db.session.expire_all()
    with count_queries() as many:
        assert stats_page(browser).status_code == 200
    assert many.count == few.count, many.statements
