"""Events: announcing, validation, time zones, the agendas, roles, visibility, queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.content.events.services import EventDraft, create_event
from hub.content.models import Event, SearchDocument
from hub.extensions import db
from tests.integration.orgs_support import client_for, english  # noqa: F401

ROLES = ("visitor", "non_member", "member", "editor", "admin", "owner", "instance_admin")
WRITERS = {"editor", "admin", "owner", "instance_admin"}
FORM = {"title": "Assemblée générale", "description": "Venez *nombreux*",
        "start_date": "2031-06-14", "start_time": "10:00", "end_date": "2031-06-14",
        "end_time": "17:30", "timezone": "Europe/Paris", "place_name": "Salle des fêtes",
        "address": "3 place du Marché\n69001 Lyon", "latitude": "45.7676",
        "longitude": "4.8345", "online_url": "", "themes": "", "status": "confirmed",
        "visibility": "public", "submit": "Publish"}


@pytest.fixture
def cast(app, make_account, make_org, make_member):
    owner = make_account("owner", timezone="America/Montreal")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    people = {"owner": owner, "non_member": make_account("outsider"),
              "instance_admin": make_account("sysadmin", role="admin")}
    for role in ("member", "editor", "admin"):
        people[role] = make_account(f"the_{role}")
        make_member(org, people[role], role)
    return org, people


def browser(app, client, people, who):
    return client if who == "visitor" else client_for(app, people[who])


def add_event(org, title, starts_at, hours=2, **extra):
    event = Event(org_id=org.id, title=title, starts_at=starts_at,
                  ends_at=starts_at + timedelta(hours=hours), **extra)
    db.session.add(event)
    db.session.commit()
    return event


def events():
    return db.session.execute(select(Event.title, Event.starts_at, Event.deleted_at,
                                     Event.status)).all()


def test_an_editor_announces_an_event_shown_in_its_zone(app, client, cast):
    org, people = cast
    editor = client_for(app, people["editor"])

    response = editor.post("/@collectif/events/new", data=FORM)

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    event = db.session.scalar(select(Event))
    assert response.headers["Location"] == f"/@collectif/events/{event.id}"
    assert event.starts_at == datetime(2031, 6, 14, 8, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2031, 6, 14, 15, 30, tzinfo=UTC)
    assert db.session.scalar(select(func.count()).where(SearchDocument.kind == "event")) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    page = page.replace("\u202f", " ").replace("\xa0", " ")
    assert "Saturday, June 14, 2031, 10:00 AM – 5:30 PM" in page
    assert "Europe/Paris" in page and "<em>nombreux</em>" in page
    assert ("https://www.openstreetmap.org/?mlat=45.76760&amp;mlon=4.83450"
            "#map=16/45.76760/4.83450") in page
    assert "<iframe" not in page and "tile" not in page
    french = client.get(response.headers["Location"],
                        headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "samedi 14 juin 2031, 10:00 – 17:30" in french


def test_the_form_offers_the_accounts_time_zone(app, cast):
    org, people = cast

    page = client_for(app, people["owner"]).get("/@collectif/events/new").get_data(as_text=True)

    assert '<option selected value="America/Montreal">' in page or re.search(
        r'<option[^>]*value="America/Montreal"[^>]*selected', page)


def test_times_in_another_zone_are_stored_in_utc(app, cast):
    org, people = cast

    client_for(app, people["owner"]).post("/@collectif/events/new",
                                          data={**FORM, "timezone": "America/Montreal"})

    assert db.session.scalar(select(Event.starts_at)) == datetime(2031, 6, 14, 14, 0, tzinfo=UTC)
    assert db.session.scalar(select(Event.timezone)) == "America/Montreal"


@pytest.mark.parametrize("changes, message", [
    ({"end_date": "2031-06-13"}, "The end must come after the start."),
    ({"end_time": "10:00"}, "The end must come after the start."),
    ({"latitude": "95"}, "Latitude must be between -90 and 90."),
    ({"longitude": "-181"}, "Longitude must be between -180 and 180."),
    ({"longitude": ""}, "Give both latitude and longitude, or neither."),
    ({"online_url": "http://visio.example.org/salle"}, "The online link must start with https://."),
    ({"online_url": "javascript:alert(1)"}, "The online link must start with https://."),
    ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
    ({"title": "  "}, "This field is required."),
    ({"status": "maybe"}, "Choose a status."),
])
def test_bad_input_is_refused_with_a_message_and_nothing_stored(app, cast, changes, message):
    org, people = cast

    response = client_for(app, people["editor"]).post("/@collectif/events/new",
                                                      data={**FORM, **changes})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True) or changes.get("status")
    assert events() == []


def test_an_online_event_with_an_https_link(app, client, cast):
    org, people = cast

    client_for(app, people["editor"]).post("/@collectif/events/new", data={
        **FORM, "place_name": "", "address": "", "latitude": "", "longitude": "",
        "online_url": "https://visio.example.org/salle"})

    event = db.session.scalar(select(Event))
    page = client.get(f"/@collectif/events/{event.id}").get_data(as_text=True)
    assert 'href="https://visio.example.org/salle"' in page and "openstreetmap" not in page


@pytest.mark.parametrize("who", ROLES)
def test_only_editors_and_above_announce(app, client, cast, who):
    org, people = cast

    response = browser(app, client, people, who).post("/@collectif/events/new", data=FORM)

    if who in WRITERS:
        assert response.status_code == 302 and len(events()) == 1
    else:
        assert response.status_code == (302 if who == "visitor" else 403)
        assert events() == []


@pytest.mark.parametrize("who", ROLES)
def test_only_editors_and_above_edit(app, client, cast, who):
    org, people = cast
    event = add_event(org, "Avant", datetime(2031, 1, 1, 9, tzinfo=UTC))
    before = events()

    response = browser(app, client, people, who).post(
        f"/@collectif/events/{event.id}/edit", data={**FORM, "status": "cancelled"})

    if who in WRITERS:
        assert response.status_code == 302
        assert events()[0][0] == "Assemblée générale" and events()[0][3] == "cancelled"
        page = client.get(f"/@collectif/events/{event.id}").get_data(as_text=True)
        assert "Cancelled" in page
    else:
        assert response.status_code in (302, 403) and events() == before


@pytest.mark.parametrize("who", ROLES)
def test_only_editors_and_above_delete(app, client, cast, who):
    org, people = cast
    event = add_event(org, "À supprimer", datetime(2031, 1, 1, 9, tzinfo=UTC))
    before = events()

    response = browser(app, client, people, who).post(f"/@collectif/events/{event.id}/delete",
                                                      data={})

    if who in WRITERS:
        assert response.status_code == 302 and events()[0][2] is not None
        assert client.get(f"/@collectif/events/{event.id}").status_code == 404
        assert "À supprimer" not in client.get("/agenda").get_data(as_text=True)
    else:
        assert response.status_code in (302, 403) and events() == before


def test_the_edit_form_shows_times_in_the_events_zone(app, cast):
    org, people = cast
    event = add_event(org, "Réunion", datetime(2031, 1, 1, 9, tzinfo=UTC),
                      timezone="Europe/Paris")

    page = client_for(app, people["editor"]).get(
        f"/@collectif/events/{event.id}/edit").get_data(as_text=True)

    assert 'value="10:00"' in page and 'value="2031-01-01"' in page


def test_the_agenda_lists_upcoming_soonest_first_and_past_latest_first(app, client, cast,
                                                                        make_org):
    org, people = cast
    other = make_org(handle="autre", name="Autre")
    now = datetime.now(UTC)
    add_event(org, "Bientôt", now + timedelta(days=1))
    add_event(other, "Plus tard", now + timedelta(days=30))
    add_event(org, "En cours", now - timedelta(hours=1), hours=3)
    add_event(org, "Hier", now - timedelta(days=1))
    add_event(other, "L'an dernier", now - timedelta(days=365))

    upcoming = client.get("/agenda").get_data(as_text=True)
    past = client.get("/agenda?when=past").get_data(as_text=True)
    mine = client.get("/@collectif/agenda").get_data(as_text=True)

    assert upcoming.index("En cours") < upcoming.index("Bientôt") < upcoming.index("Plus tard")
    assert "Hier" not in upcoming
    assert past.index("Hier") < past.index("L&#39;an dernier") and "Bientôt" not in past
    assert "Bientôt" in mine and "Plus tard" not in mine
    org_page = client.get("/@collectif").get_data(as_text=True)
    assert "Bientôt" in org_page and "Hier" not in org_page


def test_the_agenda_pages_with_a_keyset_cursor(app, client, cast):
    org, people = cast
    start = datetime.now(UTC) + timedelta(days=1)
    for number in range(35):
        add_event(org, f"Rdv {number:02d}", start + timedelta(hours=number // 2))

    first = client.get("/agenda").get_data(as_text=True)
    next_url = re.search(r'href="(/agenda\?after=[^"]+)"', first).group(1)
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)

    titles = re.findall(r"Rdv (\d\d)", first) + re.findall(r"Rdv (\d\d)", second)
    assert titles == [f"{n:02d}" for n in range(35)]


def test_cancelled_events_carry_a_badge(app, client, cast):
    org, people = cast
    add_event(org, "Annulé", datetime.now(UTC) + timedelta(days=2), status="cancelled")

    assert "Cancelled" in client.get("/agenda").get_data(as_text=True)


def test_members_only_events_are_hidden_from_visitors_and_other_members(
        app, client, cast, make_account, make_org, make_member):
    org, people = cast
    soon = datetime.now(UTC) + timedelta(days=3)
    secret = add_event(org, "Réunion interne", soon, visibility="members")
    stranger = make_account("stranger")
    make_member(make_org(handle="autre"), stranger, "owner")

    for viewer in (client, client_for(app, stranger), client_for(app, people["non_member"])):
        assert viewer.get(f"/@collectif/events/{secret.id}").status_code == 404
        for url in ("/agenda", "/@collectif/agenda", "/@collectif"):
            assert "Réunion interne" not in viewer.get(url).get_data(as_text=True), url
    member = client_for(app, people["member"])
    assert member.get(f"/@collectif/events/{secret.id}").status_code == 200
    assert "Réunion interne" in member.get("/agenda").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/agenda", "/@collectif/agenda", "/agenda?when=past"])
def test_the_agenda_runs_a_fixed_number_of_queries(app, client, cast, make_org,
                                                   count_queries, url):
    org, people = cast
    counts = []
    now = datetime.now(UTC)
    for size in (3, 60):
        for number in range(size):
            owner = org if number % 2 else make_org()
            shift = timedelta(days=number + 1)
            add_event(owner, f"E{number}", now - shift if "past" in url else now + shift)
        with count_queries() as counter:
            assert client.get(url + ("&" if "?" in url else "?") + f"n={size}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_event_page_runs_a_fixed_number_of_queries(app, client, cast, count_queries):
    org, people = cast
    with app.test_request_context():
        event = create_event(people["editor"], org, EventDraft(
            title="Fête", start_date=datetime(2031, 5, 1).date(),
            start_time=datetime(2031, 5, 1, 18).time(), end_date=datetime(2031, 5, 1).date(),
            end_time=datetime(2031, 5, 1, 22).time()))
    db.session.commit()

    with count_queries() as counter:
        assert client.get(f"/@collectif/events/{event.id}").status_code == 200
    assert counter.count < 15
