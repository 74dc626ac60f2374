"""Feed writers (pure): every document is read back by a real consumer — feedparser for
RSS and Atom, ``json`` against JSON Feed 1.1, ``icalendar`` for calendars, ``xml.etree``
for OPML — and checked on what a reader would show."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from icalendar import Calendar as ICalendar

from hub.feeds.build import (
    MIMETYPES,
    PRODID,
    absolutize,
    render,
    render_atom,
    render_ical,
    render_json,
    render_opml,
    render_rss,
)
from hub.feeds.entries import Calendar, CalendarEvent, Enclosure, Entry, Feed, Outline

HUB = "https://hub.example"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOSTILE = 'Tom & "Jerry" <script>alert(1)</script> ]]> &amp; l\'été'
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
PDF = Enclosure(f"{HUB}/files/rapport.pdf", 123456, "application/pdf")
COVER = Enclosure(f"{HUB}/files/cover.jpg", 2048, "image/jpeg")
CHECK_FEED = Path("/work/shared/peers/feeds/check_feed.py")


def make_entry(n: int = 1, **overrides) -> Entry:
    values = dict(
        id=f"tag:hub.example,2026-01-05:post:{n}",
        url=f"{HUB}/@collectif/posts/{n}",
        title=f"Assemblée générale n°{n}",
        content_html=f'<p>Ordre du jour &amp; <a href="{HUB}/p" rel="nofollow">lien</a></p>'
                     f'<img src="{HUB}/img/{n}.png" alt="">',
        summary="Ordre du jour et lien",
        published=T0 + timedelta(hours=n),
        updated=T0 + timedelta(hours=n, minutes=30),
        author_name="Camille Martin",
        author_url=f"{HUB}/@camille",
        categories=("écologie", "économie sociale"),
        enclosures=(PDF, COVER),
        image=COVER.url,
        language="fr",
    )
    values.update(overrides)
    return Entry(**values)


def make_feed(*entries: Entry, **overrides) -> Feed:
    values = dict(
        id="tag:hub.example,2026:org:collectif",
        title="Collectif Coredem",
        url=f"{HUB}/@collectif",
        feed_url=f"{HUB}/@collectif/feed.atom",
        description="Nouvelles du collectif",
        language="fr",
        updated=T0 + timedelta(days=1),
        entries=entries or (make_entry(1), make_entry(2)),
        icon=f"{HUB}/static/icon.png",
        author_name="Collectif Coredem",
    )
    values.update(overrides)
    return Feed(**values)


def parse(body: bytes):
    # No clean-up on reading back: the test sees exactly what a reader receives.
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


# -- RSS and Atom ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, version", [("rss", "rss20"), ("atom", "atom10")])
def test_feed_reads_back_with_its_links_and_language(fmt, version):
    parsed = parse(render(fmt, make_feed()))
    assert parsed.version == version
    assert parsed.feed.title == "Collectif Coredem"
    assert parsed.feed.link == f"{HUB}/@collectif"
    assert {(link.rel, link.href) for link in parsed.feed.links} >= {
        ("self", f"{HUB}/@collectif/feed.atom")}
    assert parsed.feed.language == "fr"
    assert parsed.feed.updated_parsed[:5] == (2026, 1, 6, 9, 0)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_entries_keep_order_ids_links_content_author_and_dates(fmt):
    entries = (make_entry(3), make_entry(2), make_entry(1))
    parsed = parse(render(fmt, make_feed(*entries)))
    assert [e.id for e in parsed.entries] == [e.id for e in entries]
    item, entry = parsed.entries[0], entries[0]
    assert item.link == entry.url
    assert item.title == entry.title
    assert item.content[0].value == entry.content_html
    assert item.author == "Camille Martin"
    assert [t.term for t in item.tags] == ["écologie", "économie sociale"]
    assert item.published_parsed[:5] == (2026, 1, 5, 12, 0)


def test_rss_guid_is_not_a_permalink():
    body = render_rss(make_feed())
    assert b'<guid isPermaLink="false">tag:hub.example,2026-01-05:post:1</guid>' in body
    assert parse(body).entries[0].guidislink is False


def test_rss_summary_is_escaped_html_of_the_plain_text():
    entry = make_entry(summary="<b>pas du gras</b> & co")
    item = parse(render_rss(make_feed(entry))).entries[0]
    assert item.summary == escape("<b>pas du gras</b> & co", quote=False)


def test_atom_summary_is_text_and_updated_is_the_edit_date():
    entry = make_entry(summary="<b>pas du gras</b> & co")
    item = parse(render_atom(make_feed(entry))).entries[0]
    assert item.summary == "<b>pas du gras</b> & co"
    assert item.summary_detail.type == "text/plain"
    assert item.content[0].type == "text/html"
    assert item.updated_parsed[:5] == (2026, 1, 5, 10, 30)
    assert item.author_detail.href == f"{HUB}/@camille"


def test_atom_lists_every_enclosure_with_length_and_type():
    item = parse(render_atom(make_feed())).entries[0]
    assert [(e.href, e.length, e.type) for e in item.enclosures] == [
        (PDF.url, "123456", "application/pdf"), (COVER.url, "2048", "image/jpeg")]
    alternate = [link for link in item.links if link.rel == "alternate"]
    assert [link.href for link in alternate] == [item.link]


@pytest.mark.parametrize("enclosures, expected", [
    ((COVER, PDF), PDF), ((PDF, COVER), PDF), ((COVER,), COVER), ((), None)])
def test_rss_has_one_enclosure_preferring_the_file(enclosures, expected):
    item = parse(render_rss(make_feed(make_entry(enclosures=enclosures)))).entries[0]
    found = [(e.href, int(e.length), e.type) for e in item.enclosures]
    assert found == ([] if expected is None else [(expected.url, expected.length,
                                                   expected.type)])


def test_atom_entry_language_is_xml_lang():
    body = render_atom(make_feed(make_entry(language="en")))
    item = parse(body).entries[0]
    assert item.content[0].language == "en"


def test_entry_without_optional_parts_is_still_valid():
    bare = make_entry(summary="", author_name="", author_url="", categories=(),
                      enclosures=(), image="", language="")
    for fmt in ("rss", "atom"):
        item = parse(render(fmt, make_feed(bare, icon="", author_name=""))).entries[0]
        assert item.id == bare.id and item.title == bare.title


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_hostile_text_stays_literal_and_the_feed_well_formed(fmt):
    entry = make_entry(title=HOSTILE + CONTROLS, author_name=HOSTILE + "\x00",
                       categories=(HOSTILE + "\x1f",), summary=HOSTILE,
                       content_html="<p>a ]]&gt; b</p>" + CONTROLS)
    parsed = parse(render(fmt, make_feed(entry, title=HOSTILE + "\x0b",
                                         description=HOSTILE)))
    item = parsed.entries[0]
    assert parsed.feed.title == HOSTILE
    assert item.title == HOSTILE
    assert item.author == HOSTILE
    assert [t.term for t in item.tags] == [HOSTILE]
    assert item.content[0].value == "<p>a ]]&gt; b</p>"


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_a_title_of_control_characters_falls_back_to_the_url(fmt):
    entry = make_entry(title=CONTROLS)
    item = parse(render(fmt, make_feed(entry, title="\x01"))).entries[0]
    assert item.title == entry.url


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_very_long_text_is_written_whole(fmt):
    title = "Très long titre " * 20_000
    body = render(fmt, make_feed(make_entry(title=title, content_html="<p>x</p>" * 20_000)))
    if fmt == "json":
        assert json.loads(body)["items"][0]["title"] == title
    else:
        assert parse(body).entries[0].title == title.strip()


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render("rdf", make_feed())


def test_mimetypes_cover_every_format():
    assert MIMETYPES == {
        "rss": "application/rss+xml; charset=utf-8",
        "atom": "application/atom+xml; charset=utf-8",
        "json": "application/feed+json; charset=utf-8",
        "ics": "text/calendar; charset=utf-8",
        "opml": "text/x-opml; charset=utf-8",
    }


# -- JSON Feed 1.1 ---------------------------------------------------------------------------


def test_json_feed_has_the_1_1_fields_with_their_types():
    doc = json.loads(render_json(make_feed()))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Collectif Coredem"
    assert doc["home_page_url"] == f"{HUB}/@collectif"
    assert doc["feed_url"] == f"{HUB}/@collectif/feed.atom"
    assert doc["language"] == "fr" and doc["icon"] == f"{HUB}/static/icon.png"
    assert doc["authors"] == [{"name": "Collectif Coredem", "url": f"{HUB}/@collectif"}]
    item = doc["items"][0]
    assert item["id"] == "tag:hub.example,2026-01-05:post:1"
    assert item["url"] == f"{HUB}/@collectif/posts/1"
    assert item["content_html"] == make_entry(1).content_html
    assert item["summary"] == "Ordre du jour et lien"
    assert item["image"] == COVER.url
    assert item["date_published"] == "2026-01-05T10:00:00Z"
    assert datetime.fromisoformat(item["date_modified"]) == T0 + timedelta(hours=1, minutes=30)
    assert item["authors"] == [{"name": "Camille Martin", "url": f"{HUB}/@camille"}]
    assert item["tags"] == ["écologie", "économie sociale"]
    assert item["language"] == "fr"
    assert item["attachments"] == [
        {"url": PDF.url, "mime_type": "application/pdf", "size_in_bytes": 123456},
        {"url": COVER.url, "mime_type": "image/jpeg", "size_in_bytes": 2048}]
    for item in doc["items"]:
        assert isinstance(item["id"], str)
        assert "content_html" in item or "content_text" in item


def test_json_feed_is_utf8_and_keeps_hostile_text_literal():
    body = render_json(make_feed(make_entry(title=HOSTILE + "\x07")))
    assert "Assemblée".encode() in body or "l'été".encode() in body
    assert json.loads(body.decode("utf-8"))["items"][0]["title"] == HOSTILE


def test_json_feed_omits_empty_optional_fields():
    bare = make_entry(summary="", author_name="", categories=(), enclosures=(), image="",
                      language="")
    item = json.loads(render_json(make_feed(bare)))["items"][0]
    assert not {"summary", "authors", "tags", "attachments", "image", "language"} & set(item)


@pytest.mark.skipif(importlib.util.find_spec("jsonfeedvalidator") is None,
                    reason="jsonfeedvalidator (peer checker dependency) is not installed")
def test_json_feed_passes_the_peer_checker(tmp_path):
    path = tmp_path / "feed.json"
    path.write_bytes(render_json(make_feed()))
    run = subprocess.run([sys.executable, str(CHECK_FEED), str(path), "--kind", "jsonfeed"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not CHECK_FEED.exists(), reason="peer feed checker not present")
@pytest.mark.parametrize("kind, build", [
    ("xml", lambda: render_rss(make_feed())),
    ("xml", lambda: render_atom(make_feed())),
    ("ical", lambda: render_ical(make_calendar(make_event(1), make_event(2)))),
], ids=["rss", "atom", "ics"])
def test_documents_pass_the_peer_checker(tmp_path, kind, build):
    path = tmp_path / "document"
    path.write_bytes(build())
    run = subprocess.run([sys.executable, str(CHECK_FEED), str(path), "--kind", kind],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


# -- iCalendar -------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def make_event(n: int = 1, **overrides) -> CalendarEvent:
    values = dict(
        uid=f"event-{n}@hub.example",
        url=f"{HUB}/@collectif/events/{n}",
        title="Atelier, débat; apéro",
        description="Première ligne, avec virgule; et point-virgule\nDeuxième ligne",
        starts_at=datetime(2026, 1, 15, 18, 30, tzinfo=PARIS).astimezone(UTC),
        ends_at=datetime(2026, 1, 15, 21, 0, tzinfo=PARIS).astimezone(UTC),
        timezone="Europe/Paris",
        status="confirmed",
        created=T0,
        updated=T0 + timedelta(hours=2),
        sequence=3,
        place_name="Maison des associations",
        address="12 rue de la Paix, 69001 Lyon",
        latitude=45.7676,
        longitude=4.8344,
        categories=("écologie", "a,b"),
        organiser_name="Collectif Coredem",
        organiser_url=f"{HUB}/@collectif",
    )
    values.update(overrides)
    return CalendarEvent(**values)


def make_calendar(*events: CalendarEvent) -> Calendar:
    return Calendar(name="Agenda du collectif", description="Événements; réunions, ateliers",
                    url=f"{HUB}/@collectif/events", events=events or (make_event(),))


def read_ical(body: bytes):
    cal = ICalendar.from_ical(body)
    assert [err for c in cal.walk() for err in c.errors] == []
    return cal


def test_calendar_header_names_the_software_and_the_calendar():
    body = render_ical(make_calendar())
    cal = read_ical(body)
    assert str(cal["PRODID"]) == PRODID == "-//Maillage//NONSGML Maillage//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN" and str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["NAME"]) == str(cal["X-WR-CALNAME"]) == "Agenda du collectif"
    assert str(cal["DESCRIPTION"]) == "Événements; réunions, ateliers"
    # icalendar leaves X- properties raw on reading: they were written as escaped TEXT.
    assert "X-WR-CALDESC:Événements\\; réunions\\, ateliers\r\n".encode() in body


def test_event_keeps_its_wall_clock_time_and_zone():
    event = read_ical(render_ical(make_calendar())).walk("VEVENT")[0]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start.hour, start.minute) == (18, 30) and str(start.tzinfo) == "Europe/Paris"
    assert start.astimezone(UTC) == datetime(2026, 1, 15, 17, 30, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 1, 15, 20, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"


def test_each_zone_used_gets_one_vtimezone():
    montreal = make_event(2, timezone="America/Montreal")
    cal = read_ical(render_ical(make_calendar(make_event(1), montreal, make_event(3))))
    assert sorted(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")) == [
        "America/Montreal", "Europe/Paris"]
    assert cal.get_missing_tzids() == set()
    assert cal.walk("VEVENT")[1].decoded("DTSTART").hour == 12  # 17:30 UTC in Montreal


def test_event_fields_round_trip():
    event = read_ical(render_ical(make_calendar())).walk("VEVENT")[0]
    source = make_event()
    assert str(event["UID"]) == "event-1@hub.example"
    assert str(event["SUMMARY"]) == source.title
    assert str(event["DESCRIPTION"]).startswith(source.description + "\n\n")
    assert source.url in str(event["DESCRIPTION"])
    assert "Collectif Coredem" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == source.url
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Maison des associations, 12 rue de la Paix, 69001 Lyon"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (45.7676, 4.8344)
    assert [str(c) for c in event["CATEGORIES"].cats] == ["écologie", "a,b"]
    assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED") == source.updated
    assert event.decoded("CREATED") == T0 and event.decoded("SEQUENCE") == 3
    assert str(event["CONTACT"]) == "Collectif Coredem"
    assert event["CONTACT"].params["ALTREP"] == f"{HUB}/@collectif"
    assert "ORGANIZER" not in event


def test_online_event_puts_its_link_in_location_and_description():
    online = make_event(place_name="", address="", latitude=None, longitude=None,
                        online_url="https://visio.example/room?id=1;2", status="tentative")
    event = read_ical(render_ical(make_calendar(online))).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "https://visio.example/room?id=1;2"
    assert "https://visio.example/room?id=1;2" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == online.url
    assert str(event["STATUS"]) == "TENTATIVE"
    assert "GEO" not in event


def test_cancelled_event_says_so():
    event = read_ical(render_ical(make_calendar(make_event(status="cancelled"))))
    assert str(event.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_calendar_lines_are_folded_and_hostile_text_survives():
    hostile = make_event(title=HOSTILE + CONTROLS + " é€😀" * 40,
                         description=HOSTILE + "\r\nligne 2, ; \\ fin" * 30)
    body = render_ical(make_calendar(hostile))
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    event = read_ical(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == HOSTILE + " é€😀" * 40
    assert "ligne 2, ; \\ fin" in str(event["DESCRIPTION"])


def test_empty_calendar_is_valid():
    cal = read_ical(render_ical(Calendar(name="Vide", description="", url="", events=())))
    assert cal.walk("VEVENT") == [] and str(cal["NAME"]) == "Vide"


# -- OPML ------------------------------------------------------------------------------------


def test_opml_lists_each_feed_with_literal_text():
    outlines = [Outline(HOSTILE + "\x01", f"{HUB}/@a/feed.atom", f"{HUB}/@a", "desc\n2"),
                Outline("Collectif B", f"{HUB}/@b/feed.atom?x=1&y=2", f"{HUB}/@b")]
    root = ET.fromstring(render_opml(HOSTILE + "\x02", outlines, T0))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == HOSTILE
    assert root.findtext("head/dateCreated") == "Mon, 05 Jan 2026 09:00:00 GMT"
    found = [o.attrib for o in root.iter("outline")]
    assert found[0] == {"type": "rss", "text": HOSTILE, "title": HOSTILE,
                        "xmlUrl": f"{HUB}/@a/feed.atom", "htmlUrl": f"{HUB}/@a",
                        "description": "desc\n2"}
    assert found[1]["xmlUrl"] == f"{HUB}/@b/feed.atom?x=1&y=2" and "description" not in found[1]


# -- absolutize ------------------------------------------------------------------------------


@pytest.mark.parametrize("html, expected", [
    ('<a href="/@org/posts/1" rel="nofollow">x</a>',
     '<a href="https://hub.example/@org/posts/1" rel="nofollow">x</a>'),
    ('<img src="/media/a.png" alt="/b">', '<img src="https://hub.example/media/a.png" alt="/b">'),
    ('<a href="https://other.example/x">x</a>', '<a href="https://other.example/x">x</a>'),
    ('<img src="//cdn.example/a.png">', '<img src="//cdn.example/a.png">'),
    ('<a title="/x" href="#top">x</a>', '<a title="/x" href="#top">x</a>'),
    ('<p>Write &lt;a href="/x"&gt; in code</p>', '<p>Write &lt;a href="/x"&gt; in code</p>'),
    ('<a title="see href=&quot;/x&quot;" href="/y">y</a>',
     '<a title="see href=&quot;/x&quot;" href="https://hub.example/y">y</a>'),
])
def test_absolutize_only_touches_root_relative_links(html, expected):
    assert absolutize(html, "https://hub.example/") == expected


def test_absolutize_uses_the_origin_of_base():
    assert absolutize('<a href="/x">x</a>', "https://hub.example/sub/page") == (
        '<a href="https://hub.example/x">x</a>')


def test_sanitized_html_comes_out_with_absolute_links():
    from hub.sanitize import render_markdown

    html = render_markdown("[page](/about) ![i](/media/i.png)", local_host="hub.example")
    out = absolutize(html, HUB)
    assert 'href="https://hub.example/about"' in out
    assert 'src="https://hub.example/media/i.png"' in out

