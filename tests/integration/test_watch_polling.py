"""Polling watched feeds: real feed files served by a real HTTP server on loopback.

Sources are created with the ORM (the admin pages are tested elsewhere); the job runs
either directly (``poll_source``) or through the real queue (``run_jobs``). What is
asserted is what the organisation's admins and the watch pages will read: the stored
items, and the source's error, failures, status and schedule.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.feeds.models import FeedSource, WatchItem
from hub.feeds.watch import poll
from hub.feeds.watch.poll import due_sources, poll_source, schedule_now
from hub.models_base import utcnow
from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
RSS = "application/rss+xml"
ETAG = '"v1-abc"'
LAST_MODIFIED = "Tue, 03 Nov 2026 09:30:00 GMT"


# -- a small feed server ----------------------------------------------------------------


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = RSS
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    #: Answer 304 when the request carries these validators back.
    etag: str = ""
    last_modified: str = ""
    #: Leave Content-Length out, so only the bytes read tell the size.
    send_length: bool = True


class FeedServer:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.routes: dict[str, Route] = {}
        #: (path, request headers) of every request received.
        self.requests: list[tuple[str, dict[str, str]]] = []

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes | str = b"", **route) -> str:
        if isinstance(body, str):
            body = (FEEDS / body).read_bytes()
        self.routes[path] = Route(body=body, **route)
        return self.url(path)

    def seen(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


@pytest.fixture
def feeds():
    """An HTTP server on loopback answering from ``feeds.routes``, recording each request."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            server.requests.append((self.path, dict(self.headers.items())))
            route = server.routes.get(self.path)
            if route is None:
                route = Route(status=404)
            elif ((route.etag and self.headers.get("If-None-Match") == route.etag)
                  or (route.last_modified
                      and self.headers.get("If-Modified-Since") == route.last_modified)):
                route = Route(status=304, headers={"ETag": route.etag} if route.etag else {})
            body = route.body
            self.send_response(route.status)
            if body:
                self.send_header("Content-Type", route.content_type)
            if route.gzip:
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.send_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # The client may stop reading at its size limit.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = FeedServer(httpd.server_port)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield server
    httpd.shutdown()
    httpd.server_close()


# -- helpers ----------------------------------------------------------------------------


@pytest.fixture
def org(make_org, make_account):
    return make_org(owner=make_account("veilleuse"), handle="veille", name="Veille")


def add_source(org, url: str, **fields) -> int:
    source = FeedSource(org_id=org.id, url=url, **fields)
    db.session.add(source)
    db.session.commit()
    return source.id


def source_row(source_id: int) -> FeedSource:
    db.session.expire_all()
    return db.session.get(FeedSource, source_id)


def items(source_id: int) -> list[WatchItem]:
    """Stored items, as the watch page lists them: newest first."""
    db.session.expire_all()
    return list(db.session.scalars(
        select(WatchItem).where(WatchItem.source_id == source_id)
        .order_by(WatchItem.published_at.desc(), WatchItem.id.desc())))


def make_due(source_id: int) -> None:
    db.session.get(FeedSource, source_id).next_poll_at = utcnow()
    db.session.commit()


def poll_again(source_id: int) -> None:
    make_due(source_id)
    poll_source(source_id)


def rss(*entries: str, title: str = "Flux") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f'<title>{title}</title><link>https://site.example/</link>'
            f'{"".join(entries)}</channel></rss>').encode()


def entry(title: str, *, guid: str = "", link: str = "", date: str = "",
          description: str = "") -> str:
    parts = [f"<title>{escape(title)}</title>"]
    if guid:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    if link:
        parts.append(f"<link>{escape(link)}</link>")
    if date:
        parts.append(f"<pubDate>{date}</pubDate>")
    if description:
        parts.append(f"<description>{escape(description)}</description>")
    return f"<item>{''.join(parts)}</item>"


# -- formats ----------------------------------------------------------------------------


def test_an_rss_091_feed_fills_the_watch_list_and_names_the_source(org, feeds):
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

    poll_source(source_id)

    source = source_row(source_id)
    assert (source.error, source.failures, source.status) == ("", 0, "active")
    assert source.title == "Ritimo — Actualités"
    assert source.site_url == "https://www.ritimo.example/"
    stored = items(source_id)
    assert {i.title for i in stored} == {"Festival des solidarités 2026",
                                         "Nouvelle bibliothèque en ligne"}
    library = next(i for i in stored if i.link == "https://www.ritimo.example/bibliotheque")
    assert library.summary_html == "Des milliers de documents &amp; de dossiers."
    assert library.org_id == org.id
    # Undated items are dated when first seen; the feed's first item is listed first.
    assert [i.title for i in stored][0] == "Festival des solidarités 2026"


def test_a_title_given_by_the_admin_is_kept(org, feeds):
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"), title="Ritimo")

    poll_source(source_id)

    assert source_row(source_id).title == "Ritimo"


def test_rss_20_content_encoded_is_stored_as_clean_html_with_author_and_date(org, feeds):
    source_id = add_source(org, feeds.serve("/breves.xml", "rss20_content.xml"))

    poll_source(source_id)

    atlas, meeting = items(source_id)
    assert atlas.title == "Atlas des communs"
    assert atlas.guid == "coredem-article12"
    assert atlas.link == "https://coredem.example/spip.php?article12"
    assert atlas.author == "Claire Martin"
    assert atlas.published_at.isoformat() == "2026-11-03T08:30:00+00:00"
    assert "<strong>complet</strong>" in atlas.content_html
    assert 'href="https://coredem.example/atlas.pdf"' in atlas.content_html
    assert atlas.summary_html == "<p>Un atlas <em>collectif</em> des communs.</p>"
    assert meeting.content_html == "" and meeting.title == "Rencontre à Lyon"


def test_atom_relative_links_and_xml_base_come_out_absolute(org, feeds):
    source_id = add_source(org, feeds.serve("/journal/atom.xml", "atom_xmlbase.xml",
                                            content_type="application/atom+xml"))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.title == "Le journal de l'association"
    assert source.site_url == "https://blog.example/journal/"
    meeting, about = items(source_id)
    assert meeting.link == "https://blog.example/journal/2026/ag.html"
    assert 'href="https://blog.example/journal/2026/ag-compte-rendu.pdf"' in meeting.content_html
    assert "<img" not in meeting.content_html  # images of other sites are dropped
    assert meeting.author == "L'équipe"  # the feed's author, inherited (RFC 4287 4.2.1)
    assert about.link == "https://blog.example/a-propos"
    assert 'href="https://blog.example/contact"' in about.content_html
    assert about.published_at.isoformat() == "2026-09-15T08:00:00+00:00"  # its update date


def test_atom_relative_links_without_xml_base_resolve_against_the_feed_url(org, feeds):
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>
<updated>2026-01-01T00:00:00Z</updated>
<entry><title>E</title><id>urn:e</id><link href="billets/e.html"/>
<updated>2026-01-01T00:00:00Z</updated></entry></feed>"""
    source_id = add_source(org, feeds.serve("/blog/feed.atom", body))

    poll_source(source_id)

    [item] = items(source_id)
    assert item.link == feeds.url("/blog/billets/e.html")


@pytest.mark.parametrize(("name", "content_type"), [
    ("rss_windows1252.xml", RSS),  # declared in the XML prolog only
    ("rss092_latin1_header.xml", "text/xml; charset=ISO-8859-1"),  # in the HTTP header only
])
def test_a_feed_in_a_legacy_encoding_reads_accented_french(org, feeds, name, content_type):
    source_id = add_source(org, feeds.serve("/legacy.xml", name, content_type=content_type))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.error == ""
    [item] = items(source_id)
    if name == "rss_windows1252.xml":
        assert source.title == "Maison des Associations — Été"
        assert item.title == "Fête de l’été à l’école"
        assert item.author == "Hélène Œuvray"
        assert item.summary_html == "Un après-midi de jeux, goûter et « cœur » des bénévoles."
    else:
        assert source.title == "Centre de documentation : nouveautés"
        assert item.title == "Économie sociale et solidarité"


def test_a_gzip_encoded_feed_is_read(org, feeds):
    source_id = add_source(org, feeds.serve("/breves.xml.gz", "rss20_content.xml", gzip=True))

    poll_source(source_id)

    assert "gzip" in feeds.seen("/breves.xml.gz")[0]["Accept-Encoding"]
    assert [i.title for i in items(source_id)] == ["Atlas des communs", "Rencontre à Lyon"]


def test_a_json_feed_is_read(org, feeds):
    source_id = add_source(org, feeds.serve("/feed.json", "jsonfeed11.json",
                                            content_type="application/feed+json"))

    poll_source(source_id)

    source = source_row(source_id)
    assert (source.title, source.site_url) == ("Réseau Solidaire", "https://solidaire.example/")
    stored = {i.title: i for i in items(source_id)}
    assert set(stored) == {"Appel à bénévoles", "Bienvenue", "Lien piégé"}
    call = stored["Appel à bénévoles"]
    assert call.link == feeds.url("/n/2")
    assert call.author == "Inès, Marc"
    assert "<script" not in call.content_html
    assert stored["Bienvenue"].guid == "1"
    assert stored["Lien piégé"].link == ""  # its javascript: URL was dropped


def test_the_request_asks_for_feeds_and_names_the_software(org, feeds):
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

    poll_source(source_id)

    [headers] = feeds.seen("/rss091.xml")
    assert "application/rss+xml" in headers["Accept"]
    assert "application/atom+xml" in headers["Accept"]
    assert headers["User-Agent"].startswith("Maillage/")
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


# -- conditional GET ----------------------------------------------------------------------


def test_validators_are_sent_back_and_a_304_changes_only_the_schedule(org, feeds):
    url = feeds.serve("/breves.xml", "rss20_content.xml", etag=ETAG,
                      last_modified=LAST_MODIFIED)
    source_id = add_source(org, url)
    poll_source(source_id)
    source = source_row(source_id)
    assert (source.etag, source.last_modified) == (ETAG, LAST_MODIFIED)
    first_success = source.last_success_at

    poll_again(source_id)

    second = feeds.seen("/breves.xml")[1]
    assert second["If-None-Match"] == ETAG
    assert second["If-Modified-Since"] == LAST_MODIFIED
    source = source_row(source_id)
    assert len(items(source_id)) == 2
    assert (source.etag, source.last_modified) == (ETAG, LAST_MODIFIED)
    assert (source.failures, source.error) == (0, "")
    assert source.last_success_at > first_success
    assert source.next_poll_at - source.last_polled_at == timedelta(minutes=60)


def test_a_server_that_only_knows_last_modified_answers_304_too(org, feeds):
    source_id = add_source(org, feeds.serve("/lm.xml", "rss091.xml",
                                            last_modified=LAST_MODIFIED))
    poll_source(source_id)

    poll_again(source_id)

    assert [h.get("If-Modified-Since") for h in feeds.seen("/lm.xml")] == [None, LAST_MODIFIED]
    assert source_row(source_id).etag == ""
    assert len(items(source_id)) == 2


def test_new_validators_replace_the_old_ones_and_new_items_are_added(org, feeds):
    feeds.serve("/f.xml", rss(entry("Un", guid="1")), etag='"a"')
    source_id = add_source(org, feeds.url("/f.xml"))
    poll_source(source_id)

    feeds.serve("/f.xml", rss(entry("Un", guid="1"), entry("Deux", guid="2")), etag='"b"')
    poll_again(source_id)

    assert feeds.seen("/f.xml")[1]["If-None-Match"] == '"a"'
    assert source_row(source_id).etag == '"b"'
    assert sorted(i.title for i in items(source_id)) == ["Deux", "Un"]


# -- refusals and errors ----------------------------------------------------------------


def big_feed(size: int) -> bytes:
    item = entry("Élément", link="https://big.example/x", description="x" * 1000)
    count = size // len(item.encode()) + 1
    return rss(*(item.replace("/x", f"/{n}") for n in range(count)))


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_a_5_mb_feed_is_refused_by_the_size_limit(org, feeds, send_length):
    body = big_feed(5 * 1024 * 1024)
    assert len(body) > 5 * 1024 * 1024
    source_id = add_source(org, feeds.serve("/big.xml", body, send_length=send_length))

    poll_source(source_id)

    source = source_row(source_id)
    assert "larger than 2097152 bytes" in source.error
    assert (source.failures, source.status) == (1, "active")
    assert items(source_id) == []


def test_a_5_mb_feed_compressed_small_is_refused_too(org, feeds):
    body = big_feed(5 * 1024 * 1024)
    source_id = add_source(org, feeds.serve("/bomb.xml", body, gzip=True))

    poll_source(source_id)

    assert "larger than 2097152 bytes" in source_row(source_id).error
    assert items(source_id) == []


@pytest.mark.parametrize(("name", "error"), [
    ("malformed.xml", "malformed XML"),
    ("not_a_feed.html", "not a feed"),
])
def test_a_document_that_is_not_a_readable_feed_is_an_error(org, feeds, name, error):
    source_id = add_source(org, feeds.serve("/doc", name))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.error.startswith(error), source.error
    assert source.failures == 1
    assert items(source_id) == []
    assert source.title == ""  # nothing from the broken document was kept


@pytest.mark.parametrize(("status", "error"), [(404, "HTTP 404"), (500, "HTTP 500"),
                                               (429, "HTTP 429")])
def test_an_http_error_is_shown_to_the_admins(org, feeds, status, error):
    source_id = add_source(org, feeds.serve("/err", b"oops", status=status,
                                            content_type="text/plain"))

    poll_source(source_id)

    source = source_row(source_id)
    assert (source.error, source.failures, source.status) == (error, 1, "active")
    assert source.locked_until is None


def test_a_feed_that_is_gone_is_paused_at_once(org, feeds):
    source_id = add_source(org, feeds.serve("/gone", b"", status=410))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.status == "paused"
    assert source.error == "HTTP 410: the feed is gone"


def test_a_feed_on_a_private_address_is_refused_when_the_guard_is_on(make_app, make_account,
                                                                     make_org, feeds):
    app = make_app(HUB_OUTBOUND_ALLOW_PRIVATE=False)
    with app.app_context():
        org = make_org(owner=make_account("gardienne"), handle="gardee")
        source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

        poll_source(source_id)

        source = source_row(source_id)
        assert source.error == "refused: 127.0.0.1 resolves to a private address (127.0.0.1)"
        assert source.failures == 1
        assert items(source_id) == []
        db.session.remove()
    assert feeds.requests == []  # nothing reached the server


def test_hostile_html_in_items_is_stored_inert(org, feeds):
    source_id = add_source(org, feeds.serve("/hostile.xml", "hostile.xml"))

    poll_source(source_id)

    source = source_row(source_id)
    [item] = items(source_id)
    assert source.site_url == ""  # javascript: is not a site
    assert "<" not in source.title and "<" not in item.title and "<" not in item.author
    assert item.title == "Titre gras"
    assert item.link == ""
    for html in (item.summary_html, item.content_html):
        assert_nothing_executable(html)
    assert "evil.example/\"" not in item.content_html  # no form, iframe or base kept


def test_the_hostile_html_corpus_in_a_feed_is_stored_inert(org, feeds):
    entries = [entry(f"cas {n}: {source[:80]}", guid=f"case-{n}", description=source,
                     link=f"https://corpus.example/{n}")
               for n, (_name, source) in enumerate(CORPUS_CASES)]
    source_id = add_source(org, feeds.serve("/corpus.xml", rss(*entries)))

    poll_source(source_id)

    stored = items(source_id)
    assert len(stored) == min(len(CORPUS_CASES), poll.MAX_ITEMS_PER_POLL)
    for item in stored:
        # Titles are plain text (escaped wherever shown): "&lt;script&gt;" in the corpus
        # rightly reads "<script>" there. HTML must be inert as it is.
        assert_nothing_executable(item.summary_html)


# -- back-off and pausing -----------------------------------------------------------------


def test_failures_push_the_next_poll_further_then_pause_the_source(org, feeds, app):
    source_id = add_source(org, feeds.serve("/down", b"", status=503))
    interval = timedelta(minutes=app.config["HUB_WATCH_INTERVAL_MINUTES"])
    waits = []

    for attempt in range(1, app.config["HUB_WATCH_MAX_FAILURES"] + 1):
        poll_again(source_id)
        source = source_row(source_id)
        assert source.failures == attempt and source.error == "HTTP 503"
        assert source.locked_until is None
        waits.append(source.next_poll_at - source.last_polled_at)

    assert waits[0] >= interval * 2 * 0.9
    assert waits == sorted(waits) and waits[0] < waits[2]
    assert max(waits) <= timedelta(days=1)
    assert source.status == "paused"
    assert source.attempts == app.config["HUB_WATCH_MAX_FAILURES"]

    # A paused source is neither queued by the sweep nor polled by a stray job.
    make_due(source_id)
    assert list(due_sources(utcnow())) == []
    poll_source(source_id)
    assert len(feeds.seen("/down")) == app.config["HUB_WATCH_MAX_FAILURES"]


def test_a_success_clears_the_error_and_the_failure_count(org, feeds):
    source_id = add_source(org, feeds.serve("/flaky", b"", status=500))
    poll_source(source_id)
    assert source_row(source_id).failures == 1

    feeds.serve("/flaky", "rss091.xml")
    poll_again(source_id)

    source = source_row(source_id)
    assert (source.failures, source.error, source.status) == (0, "", "active")
    assert source.last_success_at == source.last_polled_at
    assert len(items(source_id)) == 2


def test_an_unexpected_error_still_unlocks_the_source_and_backs_off(org, feeds, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(poll, "parse_feed", broken)
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.error == "internal error (RuntimeError)"
    assert source.failures == 1 and source.locked_until is None
    assert source.next_poll_at > utcnow() + timedelta(minutes=60)
    assert items(source_id) == []


# -- redirects ----------------------------------------------------------------------------


def test_a_permanent_redirect_moves_the_source(org, feeds):
    feeds.serve("/old.xml", status=301, headers={"Location": "/new.xml"})
    feeds.serve("/new.xml", "rss091.xml")
    source_id = add_source(org, feeds.url("/old.xml"))

    poll_source(source_id)

    assert source_row(source_id).url == feeds.url("/new.xml")
    assert len(items(source_id)) == 2


def test_a_temporary_redirect_is_followed_but_the_source_keeps_its_url(org, feeds):
    feeds.serve("/today.xml", status=302, headers={"Location": feeds.url("/elsewhere.xml")})
    feeds.serve("/elsewhere.xml", "rss091.xml")
    source_id = add_source(org, feeds.url("/today.xml"))

    poll_source(source_id)

    assert source_row(source_id).url == feeds.url("/today.xml")
    assert len(items(source_id)) == 2


def test_a_permanent_redirect_to_a_url_already_watched_keeps_the_url(org, feeds):
    feeds.serve("/old.xml", status=308, headers={"Location": "/new.xml"})
    feeds.serve("/new.xml", "rss091.xml")
    add_source(org, feeds.url("/new.xml"))
    source_id = add_source(org, feeds.url("/old.xml"))

    poll_source(source_id)

    source = source_row(source_id)
    assert source.url == feeds.url("/old.xml") and source.error == ""


def test_more_than_three_redirects_is_an_error(org, feeds):
    for n in range(5):
        feeds.serve(f"/hop{n}", status=302, headers={"Location": f"/hop{n + 1}"})
    source_id = add_source(org, feeds.url("/hop0"))

    poll_source(source_id)

    assert source_row(source_id).error == "more than 3 redirects"
    assert len(feeds.requests) == 4


# -- deduplication and limits -------------------------------------------------------------


def test_items_are_deduplicated_by_guid_then_by_link_across_polls(org, feeds):
    feeds.serve("/f.xml", rss(
        entry("Un", guid="g1", link="https://site.example/1"),
        entry("Deux", guid="g2", link="https://site.example/2"),
        entry("Sans guid", link="https://site.example/3")))
    source_id = add_source(org, feeds.url("/f.xml"))
    poll_source(source_id)
    assert len(items(source_id)) == 3

    feeds.serve("/f.xml", rss(
        entry("Un, titre corrigé", guid="g1", link="https://site.example/1-corrige"),
        entry("Deux, nouveau guid", guid="g2-bis", link="https://site.example/2"),
        entry("Sans guid", link="https://site.example/3"),
        entry("Quatre", guid="g4", link="https://site.example/4"),
        entry("Quatre en double", guid="g4", link="https://site.example/4")))
    poll_again(source_id)
    poll_again(source_id)

    stored = items(source_id)
    assert sorted(i.title for i in stored) == ["Deux", "Quatre", "Sans guid", "Un"]
    assert db.session.scalar(select(func.count(WatchItem.id))) == 4
    assert len(feeds.seen("/f.xml")) == 3


def test_the_same_item_in_two_sources_is_kept_in_each(org, feeds):
    body = rss(entry("Partagé", guid="same", link="https://site.example/same"))
    first = add_source(org, feeds.serve("/a.xml", body))
    second = add_source(org, feeds.serve("/b.xml", body))

    poll_source(first)
    poll_source(second)

    assert len(items(first)) == len(items(second)) == 1


def test_only_the_newest_items_of_a_source_are_kept(org, feeds, monkeypatch):
    monkeypatch.setattr(poll, "MAX_ITEMS_PER_SOURCE", 3)
    dates = [f"{day:02d} Nov 2026 10:00:00 GMT" for day in range(1, 6)]
    feeds.serve("/f.xml", rss(*(entry(f"Jour {n}", guid=f"d{n}", date=date)
                                for n, date in enumerate(dates, start=1))))
    source_id = add_source(org, feeds.url("/f.xml"))

    poll_source(source_id)

    assert [i.title for i in items(source_id)] == ["Jour 5", "Jour 4", "Jour 3"]


def test_a_date_in_the_future_is_brought_back_to_the_poll_time(org, feeds):
    feeds.serve("/f.xml", rss(entry("Futur", guid="f", date="Fri, 01 Jan 2100 00:00:00 GMT")))
    source_id = add_source(org, feeds.url("/f.xml"))

    poll_source(source_id)

    [item] = items(source_id)
    assert item.published_at <= utcnow()
    assert item.published_at == item.fetched_at


# -- scheduling and the job queue ----------------------------------------------------------


def test_the_sweeper_queues_only_active_sources_that_are_due_and_free(org, feeds):
    now = utcnow()
    due = add_source(org, feeds.url("/1"), next_poll_at=now - timedelta(minutes=1))
    add_source(org, feeds.url("/2"), next_poll_at=now + timedelta(minutes=5))
    add_source(org, feeds.url("/3"), next_poll_at=now - timedelta(minutes=1), status="paused")
    add_source(org, feeds.url("/4"), next_poll_at=now - timedelta(minutes=1),
               locked_until=now + timedelta(minutes=2))

    assert list(due_sources(now)) == [("poll_feed_source", (due,))]
    db.session.commit()
    # Pushed one lease ahead: the next sweep does not queue it again.
    assert list(due_sources(now + timedelta(seconds=30))) == []


def test_a_source_queued_twice_is_polled_once(org, feeds):
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

    poll_source(source_id)
    poll_source(source_id)  # a second job for the same source, right after

    assert len(feeds.seen("/rss091.xml")) == 1
    assert source_row(source_id).attempts == 1


def test_a_new_source_is_polled_by_the_real_job_queue(org, feeds, run_jobs):
    source_id = add_source(org, feeds.serve("/breves.xml", "rss20_content.xml"),
                           next_poll_at=utcnow() + timedelta(days=1))

    schedule_now(source_id)
    db.session.commit()
    assert run_jobs() == 1

    source = source_row(source_id)
    assert source.last_success_at is not None and source.error == ""
    assert len(items(source_id)) == 2


def test_the_sweep_queues_due_sources_for_the_worker(org, feeds, run_jobs):
    from hub.jobs import jobs

    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"))

    assert jobs.sweep() >= 1
    run_jobs()

    assert len(items(source_id)) == 2
    assert source_row(source_id).next_poll_at > utcnow() + timedelta(minutes=55)


def test_schedule_now_queues_nothing_when_the_transaction_rolls_back(org, feeds, run_jobs):
    source_id = add_source(org, feeds.serve("/rss091.xml", "rss091.xml"),
                           next_poll_at=utcnow() + timedelta(days=1))

    schedule_now(source_id)
    db.session.rollback()

    assert run_jobs() == 0
    assert feeds.requests == []
