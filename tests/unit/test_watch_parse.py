"""parse_feed over the feed files in tests/data/feeds: pure, no app, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from hub.errors import HubError, ParseError
from hub.feeds.watch.parse import (
    AUTHOR_MAX,
    TITLE_MAX,
    FeedError,
    ParsedFeed,
    parse_feed,
)
from tests.plugins.hostile import assert_nothing_executable

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
BASE = "https://feeds.example/dir/feed.xml"


def parse(name: str, content_type: str = "application/rss+xml", url: str = BASE,
          **kwargs) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), url=url, content_type=content_type,
                      **kwargs)


def rss(items: str, *, channel: str = "<title>T</title>") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}'
            f"{items}</channel></rss>").encode()


def test_rss_091():
    feed = parse("rss091.xml")
    assert feed.title == "Ritimo — Actualités"
    assert feed.site_url == "https://www.ritimo.example/"
    first, second = feed.items
    assert first.title == "Festival des solidarités 2026"
    assert first.guid == first.link == "https://www.ritimo.example/festisol-2026"
    assert first.published_at is None
    assert second.summary_html == "Des milliers de documents &amp; de dossiers."


def test_rss_092_in_latin_1_declared_by_the_http_header_only():
    feed = parse("rss092_latin1_header.xml", "text/xml; charset=ISO-8859-1")
    assert feed.title == "Centre de documentation : nouveautés"
    assert feed.items[0].title == "Économie sociale et solidarité"
    assert feed.items[0].summary_html == "Ouvrage collectif, édition révisée."


def test_rss_10_rdf():
    [item] = parse("rss10.rdf", "application/rdf+xml").items
    assert item.title == "Rapport sur l'eau"
    assert item.link == "https://archives.example/doc/1"
    assert item.author == "Paul Durand"
    assert item.published_at == datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def test_rss_20_with_content_encoded():
    atlas, meeting = parse("rss20_content.xml").items
    assert atlas.guid == "coredem-article12"
    assert atlas.author == "Claire Martin"
    assert atlas.published_at == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)
    assert atlas.summary_html == "<p>Un atlas <em>collectif</em> des communs.</p>"
    assert "<strong>complet</strong>" in atlas.content_html
    assert 'rel="nofollow noopener ugc"' in atlas.content_html
    assert meeting.content_html == ""
    assert meeting.summary_html == "Rencontre des membres du réseau."


def test_a_summary_that_only_copies_the_content_is_not_kept_twice():
    body = rss('<item xmlns:content="http://purl.org/rss/1.0/modules/content/">'
               "<title>A</title><guid>g</guid>"
               "<content:encoded><![CDATA[<p>Tout</p>]]></content:encoded></item>")
    [item] = parse_feed(body, url=BASE).items
    assert (item.summary_html, item.content_html) == ("", "<p>Tout</p>")


def test_windows_1252_declared_in_the_prolog():
    feed = parse("rss_windows1252.xml")
    assert feed.title == "Maison des Associations — Été"
    [item] = feed.items
    assert item.title == "Fête de l’été à l’école"
    assert item.summary_html == "Un après-midi de jeux, goûter et « cœur » des bénévoles."


@pytest.mark.parametrize(("raw", "name"), [
    ("contact@mda.example (Hélène Œuvray)", "Hélène Œuvray"),
    ("jo@example.org (Jo)", "Jo"),
    ("Jo Martin <jo@example.org>", "Jo Martin"),
    ("Jo Martin", "Jo Martin"),
    ("jo@example.org", ""),  # a bare address is not shown
])
def test_rss_authors_give_a_name(raw, name):
    [item] = parse_feed(rss(f"<item><title>A</title><author>{escape(raw)}</author></item>"),
                        url=BASE).items
    assert item.author == name


def test_atom_with_xml_base_and_relative_links():
    feed = parse("atom_xmlbase.xml", "application/atom+xml")
    assert feed.title == "Le journal de l'association"  # type="html" title, as text
    assert feed.site_url == "https://blog.example/journal/"
    meeting, about = feed.items
    assert meeting.link == "https://blog.example/journal/2026/ag.html"
    assert 'href="https://blog.example/journal/2026/ag-compte-rendu.pdf"' in meeting.content_html
    assert "<img" not in meeting.content_html  # images of other sites are dropped
    assert meeting.summary_html == "Compte rendu de l'AG."
    assert meeting.published_at == datetime(2026, 10, 30, 17, 0, tzinfo=UTC)
    assert meeting.author == "L'équipe"
    assert about.author == "Sam"
    assert about.link == "https://blog.example/a-propos"
    assert about.published_at == datetime(2026, 9, 15, 8, 0, tzinfo=UTC)  # updated


def test_relative_links_without_xml_base_use_the_feed_url():
    body = rss("<item><title>A</title><link>../billets/a.html</link></item>",
               channel="<title>T</title><link>/</link>")
    feed = parse_feed(body, url=BASE)
    assert feed.site_url == "https://feeds.example/"
    assert feed.items[0].link == "https://feeds.example/billets/a.html"


def test_json_feed_11():
    feed = parse("jsonfeed11.json", "application/feed+json")
    assert (feed.title, feed.site_url) == ("Réseau Solidaire", "https://solidaire.example/")
    call, welcome, trap = feed.items
    assert call.guid == "https://solidaire.example/n/2"
    assert call.link == "https://feeds.example/n/2"
    assert call.author == "Inès, Marc"
    assert call.published_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert 'href="https://feeds.example/benevoles"' in call.content_html
    assert "<script" not in call.content_html
    # JSON Feed summaries are plain text: markup in them is text.
    assert call.summary_html == "<p>Nous cherchons des bénévoles &lt;b&gt;motivés&lt;/b&gt;.</p>"
    assert welcome.guid == "1"
    assert welcome.author == "Réseau Solidaire"  # the feed's authors, inherited
    assert welcome.published_at == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert welcome.content_html == ("<p>Premier message.</p>"
                                    "<p>Voir https://solidaire.example/charte</p>")
    assert (trap.title, trap.guid, trap.link, trap.published_at) == ("Lien piégé", "", "", None)


def test_json_feed_10_with_external_url_and_single_author():
    [item] = parse("jsonfeed10.json", "application/json").items
    assert item.link == "https://ailleurs.example/article"
    assert item.author == "Collectif Ancien"
    assert item.content_html == "<p>Un lien externe.</p>"


def test_json_feed_is_recognised_without_a_json_content_type():
    feed = parse("jsonfeed10.json", "text/plain")
    assert feed.title == "Ancien format"


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "malformed JSON"),
    (b'{"title": "no version", "items": []}', "not a feed: JSON without a JSON Feed version"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "not a feed: a JSON"),
    (b"[1, 2]", "not a feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}' + b"\xff", "malformed"),
    (b"[" * 100_000 + b"]" * 100_000, "not a feed"),
])
def test_bad_json_is_a_clear_error(body, message):
    with pytest.raises(FeedError) as caught:
        parse_feed(body, url=BASE, content_type="application/json")
    assert str(caught.value).startswith(message)


def test_deeply_nested_json_is_a_clear_error():
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with pytest.raises(FeedError, match="malformed JSON"):
        parse_feed(body, url=BASE)


@pytest.mark.parametrize(("name", "message"), [
    ("malformed.xml", "malformed XML: line 5"),
    ("not_a_feed.html", "not a feed"),
])
def test_documents_that_are_not_readable_feeds_are_refused(name, message):
    with pytest.raises(FeedError) as caught:
        parse(name)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("body", [
    b"", b"   \n", b"hello", b"/etc/passwd", b"<?xml version='1.0'?><html><body/></html>",
    b'<?xml version="1.0"?><opml version="2.0"><body/></opml>',
])
def test_other_documents_are_not_feeds(body):
    with pytest.raises(FeedError, match="^not a feed"):
        parse_feed(body, url=BASE)


def test_feed_error_belongs_to_the_error_family():
    assert issubclass(FeedError, ParseError) and issubclass(FeedError, HubError)


def test_a_bare_ampersand_is_forgiven_when_items_can_be_read():
    body = rss("<item><title>Jardins & vergers</title><link>https://s.example/1</link></item>")
    [item] = parse_feed(body, url=BASE).items
    assert item.title == "Jardins & vergers"


def test_a_feed_served_as_text_html_is_still_read():
    feed = parse("rss20_content.xml", "text/html; charset=utf-8")
    assert len(feed.items) == 2


def test_a_well_formed_feed_with_no_items_is_an_empty_feed():
    feed = parse_feed(rss(""), url=BASE)
    assert feed.items == () and feed.title == "T"


def test_items_with_no_guid_link_or_title_are_skipped():
    body = rss("<item><description>rien</description></item>"
               "<item><title>Titre seul</title></item>")
    [item] = parse_feed(body, url=BASE).items
    assert (item.title, item.guid, item.link) == ("Titre seul", "", "")


def test_max_items_keeps_the_first_ones():
    body = rss("".join(f"<item><title>N{n}</title><guid>{n}</guid></item>" for n in range(10)))
    feed = parse_feed(body, url=BASE, max_items=3)
    assert [i.title for i in feed.items] == ["N0", "N1", "N2"]


def test_hostile_feed_comes_out_inert():
    feed = parse("hostile.xml")
    assert feed.site_url == ""
    assert "<" not in feed.title
    [item] = feed.items
    assert item.title == "Titre gras"
    assert item.link == ""
    assert "<" not in item.author and "evil@" not in item.author
    for html in (item.summary_html, item.content_html):
        assert_nothing_executable(html)
        for tag in ("<form", "<iframe", "<object", "<svg", "<math", "<style", "<base", "<meta"):
            assert tag not in html


def test_titles_and_authors_are_plain_one_line_text_cut_to_their_columns():
    long_title = "Très " * 200
    body = rss(f"<item><title>  A\n\t&lt;b&gt;B&lt;/b&gt;  &amp;amp; {long_title}</title>"
               f"<author>x@y.org ({'Nom ' * 100})</author><guid>g</guid></item>")
    [item] = parse_feed(body, url=BASE).items
    assert item.title.startswith("A B & Très")
    assert len(item.title) <= TITLE_MAX and "\n" not in item.title
    assert len(item.author) <= AUTHOR_MAX


def test_only_http_links_are_kept():
    body = rss("<item><title>a</title><link>ftp://files.example/a</link></item>"
               "<item><title>b</title><link>data:text/html,hi</link></item>"
               f"<item><title>c</title><link>https://s.example/{'x' * 2100}</link></item>")
    assert [i.link for i in parse_feed(body, url=BASE).items] == ["", "", ""]


def test_dates_in_many_forms_come_out_aware_utc():
    body = rss("<item><title>a</title><guid>a</guid><pubDate>Wed, 04 Nov 2026 23:30:00 -0500"
               "</pubDate></item><item><title>b</title><guid>b</guid>"
               "<pubDate>pas une date</pubDate></item>")
    first, second = parse_feed(body, url=BASE).items
    assert first.published_at == datetime(2026, 11, 5, 4, 30, tzinfo=UTC)
    assert second.published_at is None


def test_json_dates_in_rfc_822_and_naive_forms():
    doc = {"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "a", "title": "a", "date_published": "Wed, 04 Nov 2026 10:00:00 +0100"},
        {"id": "b", "title": "b", "date_published": "2026-11-04T10:00:00"},
        {"id": "c", "title": "c", "date_published": "demain"}]}
    a, b, c = parse_feed(json.dumps(doc).encode(), url=BASE).items
    assert a.published_at == datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
    assert b.published_at == datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
    assert c.published_at is None


def test_control_characters_never_reach_the_database():
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "T\u0000itre", "items": [
        {"id": "a\u0000", "title": "x\u0000y", "content_html": "<p>a\u0000b</p>",
         "url": "https://s.example/\u0000a"}]}
    feed = parse_feed(json.dumps(doc).encode(), url=BASE)
    [item] = feed.items
    assert "\x00" not in feed.title + item.title + item.content_html + item.link


def test_images_of_watched_feeds_are_dropped_so_visitors_never_fetch_from_other_servers():
    body = rss("<item><title>Photo</title><guid>p</guid><description>"
               + escape('<p>Avant <img src="https://tracker.example/pixel.gif" alt="x"> '
                        'après <a href="https://site.example/">lien</a></p>')
               + "</description></item>")
    [item] = parse_feed(body, url=BASE).items
    assert "<img" not in item.summary_html and "tracker.example" not in item.summary_html
    assert "Avant" in item.summary_html and 'href="https://site.example/"' in item.summary_html
