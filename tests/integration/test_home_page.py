"""The home page: latest public content, upcoming events, active themes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.models_base import utcnow
from tests.integration.content_rows import (  # noqa: F401
    english,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)


@pytest.fixture
def org(make_org):
    return make_org(handle="terre", name="Terre Vivante")


def test_home_shows_latest_content_events_and_themes(client, org):
    make_post(org, title="Nouvelles du jardin", themes="Jardins")
    make_resource(org, title="Guide du compost", themes="Jardins, Compost")
    make_event(org, title="Troc de graines")
    make_event(org, title="Vieille fête", starts_in=timedelta(days=-10))
    html = client.get("/").get_data(as_text=True)
    for text in ("Nouvelles du jardin", "Guide du compost", "Troc de graines", "Jardins",
                 "Compost", "Terre Vivante"):
        assert text in html
    assert "Vieille fête" not in html
    assert html.index(">Jardins<") < html.index(">Compost<")


@pytest.mark.parametrize("extra", [{"visibility": "members"}, {"status": "draft"},
                                   {"status": "scheduled"}, {"deleted_at": "now"},
                                   {"hidden_at": "now"}])
def test_home_hides_what_visitors_may_not_see(client, org, extra):
    extra = {k: (utcnow() if v == "now" else v) for k, v in extra.items()}
    make_post(org, title="Billet caché", themes="Confidentiel", **extra)
    html = client.get("/").get_data(as_text=True)
    assert "Billet caché" not in html and "Confidentiel" not in html


def test_home_hides_members_only_resources_and_events(client, org):
    make_resource(org, title="Ressource interne", visibility="members")
    make_event(org, title="Réunion interne", visibility="members")
    html = client.get("/").get_data(as_text=True)
    assert "interne" not in html


def test_old_items_do_not_make_a_theme_active(client, org):
    make_post(org, title="Ancien", themes="Archives", when=utcnow() - timedelta(days=60))
    assert ">Archives<" not in client.get("/").get_data(as_text=True)


def test_home_runs_a_fixed_number_of_queries(client, org, count_queries, make_org):
    def make(n):
        for i in range(n):
            other = make_org()
            make_post(other, title=f"Billet {i}", themes=f"Thème {i}")
            make_resource(other, title=f"Ressource {i}", themes="Commun")
            make_event(other, title=f"Rencontre {i}")
            make_discussion(other, title=f"Débat {i}", themes="Commun")
    make(1)
    client.get("/?warm=1")
    with count_queries() as few:
        client.get("/?a=1")
    make(8)
    with count_queries() as many:
        client.get("/?a=2")
    assert many.count == few.count


def test_the_navigation_links_themes_and_search(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/themes"' in html
    assert 'action="/search"' in html
