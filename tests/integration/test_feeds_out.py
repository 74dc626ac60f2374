"""Outgoing feeds as a feed reader sees them: parsed by feedparser and icalendar.

Content is made through the real services (posts, events, discussions) or as the services
make it (tests/integration/content_rows.py); every feed is read over the app's HTTP
interface and parsed by the same libraries readers use.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import feedparser
import icalendar
import pytest

from hub.content.models import Post, Resource
from hub.content.search import index
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.content_rows import (
    english,  # noqa: F401
    make_comment,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)
from tests.plugins.hostile import assert_nothing_executable


@pytest.fixture(autouse=True)
def settings_row(app):
    """The settings row `maillage init` creates: it holds the content version (validators)."""
    from hub.admin.services import ensure_settings

    ensure_settings()
    db.session.commit()


def shelved(org, title: str, **fields) -> Resource:
    """A resource on its organisation's shelf, as the sharing service leaves it."""
    from hub.content.models import Shelf

    resource = make_resource(org, title, **fields)
    db.session.add(Shelf(org_id=org.id, resource_id=resource.id,
                         created_at=resource.created_at))
    db.session.commit()
    return resource


@pytest.fixture
def orgs(make_org, make_account):
    owner = make_account("writer", display_name="Ada Writer")
    collectif = make_org(owner=owner, handle="collectif", name="Collectif Terre")
    voisins = make_org(handle="voisins", name="Voisins")
    return collectif, voisins, owner


def parse(client, url: str, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    parsed = feedparser.parse(response.data)
    assert parsed.bozo == 0, (url, parsed.get("bozo_exception"))
    return parsed, response


def titles(parsed) -> list[str]:
    return [entry.title for entry in parsed.entries]


# -- what is in, what is not ------------------------------------------------------------------


def test_instance_feed_lists_public_content_of_every_kind_newest_first(client, orgs):
    collectif, voisins, _owner = orgs
    now = utcnow()
    make_post(collectif, "Billet ancien", when=now - timedelta(hours=5))
    make_resource(voisins, "Guide du compost", when=now - timedelta(hours=4))
    make_discussion(collectif, "Un échange", created_at=now - timedelta(hours=3))
    make_event(voisins, "Une rencontre", created_at=now - timedelta(hours=2))
    make_post(voisins, "Billet récent", when=now - timedelta(hours=1))
    for fmt in ("atom", "rss"):
        parsed, response = parse(client, f"/feed.{fmt}")
        assert titles(parsed) == ["Billet récent", "Une rencontre", "Un échange",
                                  "Guide du compost", "Billet ancien"]
        assert response.content_type.startswith(
            "application/atom+xml" if fmt == "atom" else "application/rss+xml")
    document = json.loads(client.get("/feed.json").data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert [item["title"] for item in document["items"]][0] == "Billet récent"


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_members_only_draft_scheduled_unlisted_hidden_and_deleted_never_appear(
        client, orgs, fmt):
    collectif, _voisins, _owner = orgs
    make_post(collectif, "Public")
    make_post(collectif, "Réservé", visibility="members")
    make_post(collectif, "Non listé", visibility="unlisted")
    make_post(collectif, "Brouillon", status="draft")
    make_post(collectif, "Programmé", status="scheduled",
              publish_at=utcnow() + timedelta(days=1))
    make_post(collectif, "Caché", hidden_at=utcnow())
    make_post(collectif, "Supprimé", deleted_at=utcnow())
    shelved(collectif, "Ressource réservée", visibility="members")
    make_event(collectif, "Rencontre réservée", visibility="members")
    make_discussion(collectif, "Discussion réservée", visibility="members")
    for url in (f"/feed.{fmt}", f"/@collectif/feed.{fmt}", f"/library/feed.{fmt}"):
        body = client.get(url).get_data(as_text=True)
        for secret in ("Réservé", "Non listé", "Brouillon", "Programmé", "Caché", "Supprimé",
                       "réservée"):
            assert secret not in body, (url, secret)
    assert "Public" in client.get(f"/feed.{fmt}").get_data(as_text=True)


def test_a_logged_in_member_gets_the_public_feed_too(client, app, orgs, make_member,
                                                       make_account, login):
    collectif, _voisins, _owner = orgs
    member = make_account("membre")
    make_member(collectif, member, "member")
    make_post(collectif, "Réservé", visibility="members")
    login(member)
    assert "Réservé" not in client.get("/@collectif/feed.atom").get_data(as_text=True)


def test_entry_fields_are_absolute_stable_and_complete(client, orgs, make_post_service):
    collectif, _voisins, owner = orgs
    post = make_post_service(collectif, owner, title="Assemblée générale",
                             summary="Le résumé.", body="Texte **gras** et #climat.\n\n"
                             "![photo](https://img.example/a.png)", themes="Climat, Eau")
    parsed, _response = parse(client, "/@collectif/feed.atom")
    entry = parsed.entries[0]
    assert entry.id.startswith("tag:localhost,") and entry.id.endswith(f":post:{post.id}")
    assert entry.link == f"http://localhost/@collectif/news/{post.id}"
    assert entry.title == "Assemblée générale"
    assert entry.summary == "Le résumé."
    html = entry.content[0].value
    assert "<strong>gras</strong>" in html
    # The theme link written as a path in the stored HTML comes out absolute.
    assert 'href="http://localhost/themes/climat"' in html
    assert entry.author == "Ada Writer"
    assert {tag.term for tag in entry.tags} == {"Climat", "Eau"}
    assert entry.published_parsed is not None and entry.updated_parsed is not None
    assert parsed.feed.title == "Collectif Terre"
    assert parsed.feed.link == "http://localhost/@collectif"
    rss, _ = parse(client, "/@collectif/feed.rss")
    assert rss.entries[0].id == entry.id
    assert rss.entries[0].link == entry.link
    assert "<strong>gras</strong>" in rss.entries[0].content[0].value


def test_ids_do_not_change_on_edit_but_title_and_updated_do(client, app, orgs,
                                                             make_post_service):
    from hub.content.posts.services import PostDraft, update_post

    collectif, _voisins, owner = orgs
    post = make_post_service(collectif, owner, title="Avant")
    before = parse(client, "/@collectif/feed.atom")[0].entries[0]
    with app.test_request_context():
        row = db.session.get(Post, post.id)
        update_post(owner, row, PostDraft(title="Après", body="Nouveau", status="published"),
                    now=utcnow() + timedelta(minutes=5))
        db.session.commit()
    after = parse(client, "/@collectif/feed.atom")[0].entries[0]
    assert after.id == before.id
    assert after.title == "Après"
    assert after.updated_parsed > before.updated_parsed
    assert after.published_parsed == before.published_parsed


def test_file_resources_and_covers_are_enclosures_with_length_and_type(client, app, orgs):
    collectif, _voisins, owner = orgs
    resource = make_resource(collectif, "Rapport", file_path="ab/rapport.pdf",
                             file_name="rapport.pdf", file_type="application/pdf",
                             file_size=123456)
    resource.kind = "file"
    db.session.commit()
    parsed, _ = parse(client, "/library/feed.atom")
    enclosure = parsed.entries[0].enclosures[0]
    assert enclosure.href == f"http://localhost/library/{resource.id}/file"
    assert enclosure.type == "application/pdf"
    assert enclosure.length == "123456"
    rss, _ = parse(client, "/library/feed.rss")
    assert rss.entries[0].enclosures[0].href == enclosure.href
    item = json.loads(client.get("/library/feed.json").data)["items"][0]
    assert item["attachments"][0] == {"url": enclosure.href, "mime_type": "application/pdf",
                                      "size_in_bytes": 123456}


def test_a_post_cover_is_an_enclosure_and_the_json_image(client, app, orgs):
    from pathlib import Path

    collectif, _voisins, _owner = orgs
    media = Path(app.config["HUB_MEDIA_PATH"]) / "covers"
    media.mkdir(parents=True, exist_ok=True)
    (media / "c.webp").write_bytes(b"RIFF" + b"\0" * 996)
    make_post(collectif, "Avec image", cover_path="covers/c.webp", cover_alt="Un champ")
    parsed, _ = parse(client, "/@collectif/feed.atom")
    enclosure = parsed.entries[0].enclosures[0]
    assert enclosure.href == "http://localhost/media/covers/c.webp"
    assert enclosure.length == "1000" and enclosure.type == "image/webp"
    item = json.loads(client.get("/@collectif/feed.json").data)["items"][0]
    assert item["image"] == "http://localhost/media/covers/c.webp"


# -- scopes ------------------------------------------------------------------------------------


def test_organisation_feed_holds_its_own_content_and_filters_by_kind(client, orgs):
    collectif, voisins, _owner = orgs
    make_post(collectif, "À nous")
    make_post(voisins, "Aux voisins")
    make_discussion(collectif, "Notre échange")
    shelved(collectif, "Notre guide")
    shelved(voisins, "Leur guide")
    assert set(titles(parse(client, "/@collectif/feed.atom")[0])) == {
        "À nous", "Notre échange", "Notre guide"}
    assert titles(parse(client, "/@collectif/feed.atom?kind=post")[0]) == ["À nous"]
    assert titles(parse(client, "/@collectif/feed.rss?kind=discussion")[0]) == [
        "Notre échange"]


def test_a_reshared_resource_is_in_the_organisation_feed_of_both(client, orgs):
    from hub.content.models import Shelf

    collectif, voisins, _owner = orgs
    resource = make_resource(collectif, "Partagée")
    db.session.add_all([Shelf(org_id=collectif.id, resource_id=resource.id),
                        Shelf(org_id=voisins.id, resource_id=resource.id)])
    db.session.commit()
    assert "Partagée" in titles(parse(client, "/@voisins/feed.atom")[0])
    assert "Partagée" in titles(parse(client, "/library/feed.atom?org=voisins")[0])


def test_account_feed_holds_what_the_person_published(client, orgs, make_post_service,
                                                       make_account):
    collectif, _voisins, owner = orgs
    make_post_service(collectif, owner, title="Par Ada")
    make_post(collectif, "Par personne")
    assert titles(parse(client, "/@writer/feed.atom")[0]) == ["Par Ada"]
    make_account("pending", status="pending")
    assert client.get("/@pending/feed.atom").status_code == 404
    assert client.get("/@nobody/feed.atom").status_code == 404


def test_theme_feed_and_canonical_redirect(client, orgs):
    collectif, voisins, _owner = orgs
    make_post(collectif, "Sur l'eau", themes="Eau")
    make_resource(voisins, "Guide de l'eau", themes="Eau")
    make_post(collectif, "Autre chose", themes="Climat")
    assert set(titles(parse(client, "/themes/eau/feed.atom")[0])) == {"Sur l'eau",
                                                                     "Guide de l'eau"}
    response = client.get("/themes/EAU/feed.rss")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/themes/eau/feed.rss")
    assert client.get("/themes/inconnu/feed.atom").status_code == 404


def test_discussion_feed_holds_its_visible_comments(client, orgs):
    collectif, _voisins, _owner = orgs
    discussion = make_discussion(collectif, "Le jardin")
    make_comment("discussion", discussion, "Premier avis")
    make_comment("discussion", discussion, "Avis masqué", hidden_at=utcnow())
    make_comment("discussion", discussion, "Avis supprimé", deleted_at=utcnow())
    parsed, _ = parse(client, f"/@collectif/discussions/{discussion.id}/feed.atom")
    assert len(parsed.entries) == 1
    assert "Premier avis" in parsed.entries[0].content[0].value
    assert parsed.entries[0].link.endswith(f"/@collectif/discussions/{discussion.id}"
                                           f"#comment-{_comment_id(parsed.entries[0])}")
    secret = make_discussion(collectif, "Entre nous", visibility="members")
    assert client.get(f"/@collectif/discussions/{secret.id}/feed.atom").status_code == 404
    assert client.get(f"/@voisins/discussions/{discussion.id}/feed.atom").status_code == 404


def _comment_id(entry) -> str:
    return entry.id.rsplit(":", 1)[1]


def test_catalogue_feed_filters_by_theme_organisation_and_language(client, orgs):
    collectif, voisins, _owner = orgs
    shelved(collectif, "Guide FR", themes="Eau", language="fr")
    shelved(voisins, "Guide EN", themes="Eau", language="en")
    shelved(voisins, "Autre", themes="Climat", language="fr")
    assert set(titles(parse(client, "/library/feed.atom?theme=eau")[0])) == {"Guide FR",
                                                                            "Guide EN"}
    assert set(titles(parse(client, "/library/feed.atom?org=voisins")[0])) == {"Guide EN",
                                                                              "Autre"}
    assert titles(parse(client, "/library/feed.atom?lang=en")[0]) == ["Guide EN"]
    assert titles(parse(client, "/library/feed.atom?theme=eau&lang=fr")[0]) == ["Guide FR"]
    assert client.get("/library/feed.atom?lang=french").status_code == 400
    assert client.get("/library/feed.atom?org=nobody").status_code == 404


def test_a_search_is_a_feed_of_its_public_results(client, orgs):
    collectif, _voisins, _owner = orgs
    make_post(collectif, "Compost collectif", body="Le compost du quartier")
    make_post(collectif, "Compost secret", visibility="members")
    make_resource(collectif, "Manuel du compost")
    make_post(collectif, "Sans rapport")
    parsed, _ = parse(client, "/search/feed.atom?q=compost")
    assert set(titles(parsed)) == {"Compost collectif", "Manuel du compost"}
    assert all(entry.link.startswith("http://localhost/") for entry in parsed.entries)
    assert client.get("/search/feed.atom").status_code == 400
    parsed, _ = parse(client, "/search/feed.rss?q=compost&kind=resource")
    assert titles(parsed) == ["Manuel du compost"]


def test_limit_defaults_to_20_and_is_capped_at_100(client, orgs):
    collectif, _voisins, _owner = orgs
    base = utcnow()
    rows = [Post(org_id=collectif.id, title=f"Billet {n}", body_html="<p>x</p>",
                 status="published", visibility="public",
                 published_at=base - timedelta(minutes=n), created_at=base)
            for n in range(120)]
    db.session.add_all(rows)
    db.session.commit()
    assert len(parse(client, "/@collectif/feed.atom")[0].entries) == 20
    assert len(parse(client, "/@collectif/feed.atom?limit=5")[0].entries) == 5
    assert len(parse(client, "/@collectif/feed.atom?limit=500")[0].entries) == 100
    for bad in ("abc", "0", "-3", "1e3"):
        response = client.get(f"/@collectif/feed.atom?limit={bad}")
        assert response.status_code == 400
        assert b"limit" in response.data
    assert client.get("/feed.atom?kind=spam").status_code == 400


def test_feed_cost_does_not_grow_with_the_data(client, orgs, count_queries):
    collectif, _voisins, _owner = orgs

    def queries_for(url: str) -> int:
        from hub.feeds import http

        http.clear()
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    for n in range(3):
        make_post(collectif, f"Billet {n}", themes="Eau, Climat")
        make_resource(collectif, f"Ressource {n}", themes="Eau")
        make_event(collectif, f"Rencontre {n}", themes="Eau")
        make_discussion(collectif, f"Échange {n}", themes="Eau")
    few = {url: queries_for(url) for url in ("/feed.atom", "/@collectif/feed.atom",
                                             "/themes/eau/feed.atom", "/agenda.ics")}
    for n in range(3, 15):
        make_post(collectif, f"Billet {n}", themes="Eau, Climat")
        make_resource(collectif, f"Ressource {n}", themes="Eau")
        make_event(collectif, f"Rencontre {n}", themes="Eau")
        make_discussion(collectif, f"Échange {n}", themes="Eau")
    many = {url: queries_for(url) for url in few}
    assert many == few
    assert max(many.values()) <= 16


# -- hostile text ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_hostile_titles_and_bodies_are_escaped(client, orgs, fmt):
    collectif, _voisins, _owner = orgs
    title = 'Fin ]]> <script>alert("x")</script> & "guillemets"\x0b'
    make_post(collectif, title,
              body='<img src=x onerror=alert(1)> [clic](javascript:alert(2)) <svg onload=alert(3)>')
    parsed, _ = parse(client, f"/@collectif/feed.{fmt}")
    entry = parsed.entries[0]
    assert entry.title == title.replace("\x0b", "")
    assert_nothing_executable(entry.content[0].value)
    document = json.loads(client.get("/@collectif/feed.json").data)
    assert document["items"][0]["title"] == title.replace("\x0b", "")
    assert_nothing_executable(document["items"][0]["content_html"])


# -- HTTP: validators, 304, freshness --------------------------------------------------------


def test_validators_answer_304_and_the_headers_allow_public_caching(client, orgs):
    collectif, _voisins, _owner = orgs
    make_post(collectif, "Premier", when=utcnow() - timedelta(minutes=5))
    db.session.execute(db.text("UPDATE instance_settings SET content_changed_at = :t"),
                       {"t": utcnow() - timedelta(minutes=5)})
    db.session.commit()
    response = client.get("/@collectif/feed.atom")
    etag, last_modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get("/@collectif/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get("/@collectif/feed.atom", headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304
    older = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert client.get("/@collectif/feed.atom",
                      headers={"If-Modified-Since": older}).status_code == 200
    # A stale ETag wins over a matching date (RFC 9110: If-None-Match first).
    assert client.get("/@collectif/feed.atom", headers={
        "If-None-Match": '"stale"', "If-Modified-Since": last_modified}).status_code == 200
    # Each format and each query string has its own validator.
    assert client.get("/@collectif/feed.rss").headers["ETag"] != etag
    assert client.get("/@collectif/feed.atom?limit=3").headers["ETag"] != etag


def _fresh(client, url: str, etag: str):
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200, "the feed did not change"
    return feedparser.parse(response.data)


def test_edit_delete_and_moderation_hide_change_the_feed_at_once(client, app, orgs,
                                                                  make_post_service):
    from hub.content.posts.services import PostDraft, delete_post, update_post

    collectif, _voisins, owner = orgs
    post = make_post_service(collectif, owner, title="Original")
    other = shelved(collectif, "Ressource")
    url = "/@collectif/feed.atom"
    etag = client.get(url).headers["ETag"]
    with app.test_request_context():
        update_post(owner, db.session.get(Post, post.id),
                    PostDraft(title="Corrigé", status="published"))
        db.session.commit()
    parsed = _fresh(client, url, etag)
    assert "Corrigé" in titles(parsed) and "Original" not in titles(parsed)
    etag = client.get(url).headers["ETag"]
    # Moderation (issue 4) hides by stamping hidden_at: the next request no longer has it.
    row = db.session.get(Resource, other.id)
    row.hidden_at = utcnow()
    index.sync("resource", row)
    db.session.commit()
    parsed = _fresh(client, url, etag)
    assert "Ressource" not in titles(parsed)
    etag = client.get(url).headers["ETag"]
    with app.test_request_context():
        delete_post(owner, db.session.get(Post, post.id))
        db.session.commit()
    assert titles(_fresh(client, url, etag)) == []


def test_a_scheduled_post_enters_the_feed_when_the_job_publishes_it(client, app, orgs,
                                                                     make_post_service,
                                                                     run_jobs):
    from hub.content.posts.services import due_posts, publish_post

    collectif, _voisins, owner = orgs
    post = make_post_service(collectif, owner, title="Plus tard", status="scheduled",
                             publish_date=(utcnow() + timedelta(days=1)).date(),
                             publish_time=datetime.min.time(), timezone="UTC")
    assert "Plus tard" not in client.get("/feed.atom").get_data(as_text=True)
    etag = client.get("/feed.atom").headers["ETag"]
    db.session.execute(db.update(Post).where(Post.id == post.id).values(
        publish_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    for _name, args in due_posts(utcnow()):
        publish_post(*args)
    assert "Plus tard" in titles(_fresh(client, "/feed.atom", etag))


# -- iCalendar ---------------------------------------------------------------------------------


def test_calendars_parse_and_keep_the_organisers_time_zone(client, orgs):
    collectif, voisins, _owner = orgs
    starts = datetime(2027, 1, 15, 17, 30, tzinfo=UTC)  # 18:30 in Paris
    event = make_event(collectif, "Soirée, débat; et suite", themes="Eau",
                       starts_in=starts - utcnow(), timezone="Europe/Paris",
                       place_name="Salle des fêtes", address="1 rue de la Paix, Lyon",
                       latitude=45.76, longitude=4.83, status="tentative")
    make_event(voisins, "Ailleurs", starts_in=timedelta(days=2))
    make_event(collectif, "Réservée", visibility="members")
    for url, expected in (("/agenda.ics", {"Soirée, débat; et suite", "Ailleurs"}),
                          ("/@collectif/agenda.ics", {"Soirée, débat; et suite"}),
                          ("/themes/eau/agenda.ics", {"Soirée, débat; et suite"}),
                          (f"/@collectif/events/{event.id}.ics", {"Soirée, débat; et suite"})):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content_type.startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.data)
        events = calendar.walk("VEVENT")
        assert {str(e["SUMMARY"]) for e in events} == expected, url
        assert calendar.walk("VTIMEZONE"), url
    vevent = next(e for e in icalendar.Calendar.from_ical(
        client.get("/@collectif/agenda.ics").data).walk("VEVENT"))
    start = vevent.decoded("DTSTART")
    assert (start.hour, start.minute) == (18, 30)
    assert str(start.tzinfo) == "Europe/Paris"
    assert str(vevent["UID"]) == f"event-{event.id}@localhost"
    assert str(vevent["STATUS"]) == "TENTATIVE"
    assert "Salle des fêtes" in str(vevent["LOCATION"])
    assert str(vevent["URL"]) == f"http://localhost/@collectif/events/{event.id}"
    secret = make_event(collectif, "Secrète", visibility="members")
    assert client.get(f"/@collectif/events/{secret.id}.ics").status_code == 404


# -- OPML, feed lists, announcements ------------------------------------------------------------


def test_opml_subscribes_a_reader_to_every_organisation(client, orgs):
    response = client.get("/feeds/organisations.opml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = {o.get("title"): o.get("xmlUrl") for o in root.iter("outline")}
    assert outlines == {"Collectif Terre": "http://localhost/@collectif/feed.atom",
                        "Voisins": "http://localhost/@voisins/feed.atom"}
    for url in outlines.values():
        assert client.get(url.removeprefix("http://localhost")).status_code == 200


def _alternates(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)"', html)


def test_pages_announce_their_feeds_and_show_a_subscribe_link(client, orgs):
    collectif, _voisins, _owner = orgs
    discussion = make_discussion(collectif, "Le jardin")
    event = make_event(collectif, "Rencontre")
    make_post(collectif, "Billet", themes="Eau")
    expectations = {
        "/": "/feed.atom",
        "/@collectif": "/@collectif/feed.atom",
        "/@collectif/news": "/@collectif/feed.atom?kind=post",
        "/@collectif/library": "/library/feed.atom?org=collectif",
        "/@collectif/agenda": "/@collectif/agenda.ics",
        f"/@collectif/events/{event.id}": f"/@collectif/events/{event.id}.ics",
        f"/@collectif/discussions/{discussion.id}":
            f"/@collectif/discussions/{discussion.id}/feed.atom",
        "/themes/eau": "/themes/eau/feed.atom",
        "/library?theme=eau&lang=fr": "/library/feed.atom?theme=eau&amp;lang=fr",
        "/search?q=jardin": "/search/feed.atom?q=jardin",
        "/@writer": "/@writer/feed.atom",
        "/agenda": "/agenda.ics",
    }
    for page, feed in expectations.items():
        html = client.get(page).get_data(as_text=True)
        hrefs = [href for _type, href in _alternates(html)]
        assert feed in hrefs, (page, hrefs)
        assert 'class="subscribe"' in html, page
        assert f'href="{feed}"' in html, page
    assert _alternates(client.get("/search").get_data(as_text=True)) == []


def test_the_feed_pages_list_every_feed(client, orgs):
    html = client.get("/@collectif/feeds").get_data(as_text=True)
    for href in ("/@collectif/feed.atom", "/@collectif/feed.rss", "/@collectif/feed.json",
                 "/@collectif/feed.atom?kind=post", "/library/feed.atom?org=collectif",
                 "/@collectif/agenda.ics"):
        assert f'href="{href}"' in html, href
    html = client.get("/feeds").get_data(as_text=True)
    for href in ("/feed.atom", "/library/feed.atom", "/agenda.ics",
                 "/feeds/organisations.opml"):
        assert f'href="{href}"' in html, href
    assert client.get("/@nobody/feeds").status_code == 404


@pytest.fixture
def make_post_service(app):
    """A post written through the service, as its author would."""
    from hub.content.posts.services import PostDraft, create_post

    def factory(org, author, title: str = "Un billet", **fields) -> Post:
        fields.setdefault("status", "published")
        with app.test_request_context():
            post = create_post(author, org, PostDraft(title=title, **fields))
            db.session.commit()
        return post

    return factory


def test_every_kind_of_feed_passes_the_peer_feed_checker(client, orgs, tmp_path):
    """shared/peers/feeds/check_feed.py: feedparser, jsonfeedvalidator and icalendar, with
    the field checks feedparser alone does not make (ids, links, titles, dates)."""
    import subprocess
    import sys
    from pathlib import Path

    checker = Path(__file__).resolve().parents[3] / "shared" / "peers" / "feeds" / "check_feed.py"
    if not checker.exists():
        pytest.skip("shared/peers/feeds/check_feed.py is not beside the project")
    collectif, voisins, _owner = orgs
    discussion = make_discussion(collectif, "Le jardin", themes="Eau")
    make_comment("discussion", discussion, "Un avis")
    make_post(collectif, "Billet", body="Du *texte*", themes="Eau")
    shelved(voisins, "Guide", abstract="Résumé", themes="Eau")
    event = make_event(collectif, "Rencontre", themes="Eau", place_name="Salle")
    urls = [f"/{name}.{fmt}" for name in ("feed",) for fmt in ("atom", "rss", "json")]
    urls += ["/@collectif/feed.atom", "/@collectif/feed.json", "/themes/eau/feed.rss",
             f"/@collectif/discussions/{discussion.id}/feed.atom", "/library/feed.json",
             "/search/feed.atom?q=guide", "/agenda.ics", "/@collectif/agenda.ics",
             f"/@collectif/events/{event.id}.ics"]
    for url in urls:
        kind = "ical" if url.endswith(".ics") else "jsonfeed" if ".json" in url else "xml"
        path = tmp_path / "document"
        path.write_bytes(client.get(url).data)
        run = subprocess.run([sys.executable, str(checker), str(path), "--kind", kind],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (url, run.stdout + run.stderr)


def test_a_feed_is_written_in_the_instance_language_whoever_asks(client, orgs):
    """One document per URL (cached, 304s): its words follow the instance, not the reader."""
    from hub.admin.models import InstanceSettings
    from hub.feeds import http

    db.session.get(InstanceSettings, 1).default_locale = "fr"
    db.session.commit()
    for language in ("en", "fr", "de"):
        http.clear()
        parsed, _ = parse(client, "/library/feed.atom", **{"Accept-Language": language})
        assert parsed.feed.title.startswith("Bibliothèque"), language
        assert parsed.feed.language == "fr"


def test_a_304_and_a_kept_body_read_one_row_whatever_the_feed(client, orgs, count_queries):
    """shared/BENCH.md F1: the validator must not grow with the data, nor look anything up."""
    collectif, _voisins, _owner = orgs
    discussion = make_discussion(collectif, "Le jardin", themes="Eau")
    make_post(collectif, "Billet", themes="Eau")
    for url in ("/@collectif/feed.atom", "/themes/eau/feed.rss", "/library/feed.json?org=collectif",
                f"/@collectif/discussions/{discussion.id}/feed.atom", "/@collectif/agenda.ics"):
        etag = client.get(url).headers["ETag"]
        with count_queries() as counter:
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert counter.count == 1, (url, counter.statements)  # the instance settings
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        assert counter.count == 1, (url, counter.statements)
    assert client.get("/@nobody/feed.atom", headers={"If-None-Match": etag}).status_code == 404
