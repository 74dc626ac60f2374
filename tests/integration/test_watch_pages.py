"""The collective watch as people see it: the admins' list of feeds (add, import OPML,
pause, resume, remove), the organisation's and the instance's watch pages, and "share as
resource". Items are written straight into the table: polling has its own tests."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.feeds.models import FeedSource, WatchItem
from hub.feeds.watch.services import MAX_OPML_BYTES, MAX_SOURCES
from hub.models_base import utcnow
from hub.sanitize import clean_html
from tests.integration import posts_support
from tests.integration.orgs_support import client_for
from tests.integration.resources_support import multipart
from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable

cast = posts_support.cast
english = posts_support.english

_seq = count(1)
BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# -- helpers ------------------------------------------------------------------------------


def make_source(org, url: str | None = None, **fields) -> FeedSource:
    source = FeedSource(org_id=org.id, url=url or f"https://site{next(_seq)}.example/feed",
                        **fields)
    db.session.add(source)
    db.session.commit()
    return source


def make_item(source, title: str = "Un article", published_at: datetime | None = None,
              **fields) -> WatchItem:
    n = next(_seq)
    fields.setdefault("link", f"https://site.example/article-{n}")
    item = WatchItem(source_id=source.id, org_id=source.org_id,
                     guid_key=hashlib.sha256(str(n).encode()).hexdigest(), title=title,
                     published_at=published_at or BASE, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def source_rows(org_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(FeedSource.url, FeedSource.status, FeedSource.title)
        .where(FeedSource.org_id == org_id).order_by(FeedSource.id))]


def item_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WatchItem)) or 0


def text_of(response) -> str:
    """The page as a reader sees its words: tags dropped, entities decoded, blanks folded."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(page).split())


def sources_url(handle: str = "collectif") -> str:
    return f"/@{handle}/watch/sources"


def upload(client, data: bytes, handle: str = "collectif", name: str = "feeds.opml"):
    """POST an OPML file, the multipart body built by hand (see ``multipart``)."""
    body, content_type = multipart({"csrf_token": client.csrf_token()}, (data, name))
    return client.post(f"{sources_url(handle)}/import", data=body, content_type=content_type)


def titles_in_order(response) -> list[str]:
    return re.findall(r'<h3><a href="[^"]*" rel="nofollow noopener ugc">([^<]*)</a></h3>',
                      response.get_data(as_text=True))


# -- who may manage --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "editor", "non_member", "other_editor"])
def test_people_who_are_not_admins_cannot_manage_the_watch(app, cast, who):
    client = client_for(app, cast.people[who])
    assert client.get(sources_url()).status_code == 403
    response = client.post(sources_url(), data={"url": "https://example.org/feed"})
    assert response.status_code == 403
    assert upload(client, b"<opml><body><outline xmlUrl='https://a.example/'/></body></opml>"
                  ).status_code == 403
    assert source_rows(cast.org.id) == []


@pytest.mark.parametrize("who", ["admin", "owner", "instance_admin"])
def test_admins_manage_the_watch(app, cast, who):
    client = client_for(app, cast.people[who])
    assert client.get(sources_url()).status_code == 200
    response = client.post(sources_url(), data={"url": "https://example.org/feed"})
    assert response.status_code == 302
    assert source_rows(cast.org.id) == [("https://example.org/feed", "active", "")]


def test_visitors_are_sent_to_log_in(client, cast):
    response = client.get(sources_url())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(sources_url(), data={"url": "https://example.org/feed"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert source_rows(cast.org.id) == []


def test_a_member_cannot_pause_resume_or_remove(app, cast):
    source = make_source(cast.org, error="boom", status="paused")
    make_item(source)
    client = client_for(app, cast.people["editor"])
    for action in ("pause", "resume", "remove"):
        assert client.post(f"{sources_url()}/{source.id}/{action}", data={}).status_code == 403
    assert source_rows(cast.org.id) == [(source.url, "paused", "")]
    assert item_count() == 1


# -- adding a feed -------------------------------------------------------------------------


def test_an_admin_adds_a_feed_that_is_due_at_once(app, cast):
    client = client_for(app, cast.people["admin"])
    before = utcnow()
    response = client.post(sources_url(), data={"url": "  HTTPS://Example.ORG:443/spip.php?"
                                                       "page=backend#top "},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "https://example.org/spip.php?page=backend is now watched" in text_of(response)
    source = db.session.scalars(select(FeedSource)).one()
    assert source.url == "https://example.org/spip.php?page=backend"
    assert source.status == "active" and source.created_by_id == cast.people["admin"].id
    assert source.next_poll_at <= utcnow() and source.next_poll_at >= before - timedelta(1)


def test_a_feed_already_watched_is_refused_with_a_message(app, cast):
    make_source(cast.org, "https://example.org/feed")
    client = client_for(app, cast.people["admin"])
    response = client.post(sources_url(), data={"url": "https://EXAMPLE.org:443/feed"})
    assert response.status_code == 400
    assert "This feed is already in the watch list." in text_of(response)
    assert len(source_rows(cast.org.id)) == 1


def test_another_organisation_may_watch_the_same_feed(app, cast, make_member):
    make_source(cast.other_org, "https://example.org/feed")
    client = client_for(app, cast.people["admin"])
    assert client.post(sources_url(), data={"url": "https://example.org/feed"}
                       ).status_code == 302
    assert len(source_rows(cast.org.id)) == 1


@pytest.mark.parametrize(("url", "message"), [
    ("javascript:alert(1)", "Only http:// and https:// addresses can be watched."),
    ("ftp://example.org/feed.xml", "Only http:// and https:// addresses can be watched."),
    ("file:///etc/passwd", "Only http:// and https:// addresses can be watched."),
    ("example.org/feed", "Only http:// and https:// addresses can be watched."),
    ("https://user:secret@example.org/feed", "must not contain a user name or a password"),
    ("https://token@example.org/feed", "must not contain a user name or a password"),
    ("https://example.org/" + "a" * 2000, "too long (2000 characters at most)"),
    ("https://exa mple.org/feed", "A feed address has no spaces."),
    ("https:///feed", "This address has no host name."),
    ("https://example.org:99999/feed", "This is not a valid address."),
    ("", "Give the address of a feed."),
], ids=["javascript", "ftp", "file", "no-scheme", "credentials", "token", "too-long", "blank",
        "no-host", "bad-port", "empty"])
def test_bad_addresses_are_refused_and_change_nothing(app, cast, url, message):
    client = client_for(app, cast.people["admin"])
    response = client.post(sources_url(), data={"url": url})
    assert response.status_code == 400
    assert message in text_of(response)
    assert source_rows(cast.org.id) == []


def test_the_number_of_feeds_is_capped(app, cast):
    db.session.add_all(FeedSource(org_id=cast.org.id, url=f"https://s{n}.example/feed")
                       for n in range(MAX_SOURCES))
    db.session.commit()
    client = client_for(app, cast.people["admin"])
    response = client.post(sources_url(), data={"url": "https://one-more.example/feed"})
    assert response.status_code == 400
    assert f"can watch at most {MAX_SOURCES} feeds" in text_of(response)
    assert len(source_rows(cast.org.id)) == MAX_SOURCES


def test_the_form_needs_its_csrf_token(app, cast):
    client = client_for(app, cast.people["admin"])
    response = client.post(sources_url(), data={"url": "https://example.org/feed"}, csrf=False)
    assert response.status_code == 400
    assert source_rows(cast.org.id) == []


# -- importing OPML ------------------------------------------------------------------------

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Réseau</title></head><body>
  <outline text="Membres">
    <outline text="Ritimo" title="Ritimo" xmlUrl="https://www.ritimo.org/spip.php?page=backend"
             htmlUrl="https://www.ritimo.org/"/>
    <outline text="Sous-dossier">
      <outline text="Already" xmlUrl="https://known.example/feed"/>
      <outline text="Again" xmlUrl="HTTPS://www.ritimo.org:443/spip.php?page=backend"/>
    </outline>
  </outline>
  <outline text="Credentials" xmlUrl="https://me:pw@private.example/feed"/>
  <outline text="FTP" xmlUrl="ftp://old.example/feed"/>
  <outline text="Atom" xmlUrl="http://atom.example/feed.atom"/>
</body></opml>""".encode()


def test_an_opml_import_adds_nested_feeds_and_skips_duplicates(app, cast):
    make_source(cast.org, "https://known.example/feed")
    client = client_for(app, cast.people["admin"])
    response = upload(client, OPML)
    assert response.status_code == 302
    page = client.get(sources_url())
    # Added: Ritimo, Atom. Skipped: already watched, repeated, credentials (ftp is not a feed
    # address of the file at all).
    assert "2 feeds added, 3 skipped" in text_of(page)
    assert source_rows(cast.org.id) == [
        ("https://known.example/feed", "active", ""),
        ("https://www.ritimo.org/spip.php?page=backend", "active", "Ritimo"),
        ("http://atom.example/feed.atom", "active", "Atom"),
    ]
    ritimo = db.session.scalar(select(FeedSource).where(FeedSource.title == "Ritimo"))
    assert ritimo.site_url == "https://www.ritimo.org/"
    assert ritimo.next_poll_at <= utcnow()


HOSTILE_OPML = {
    "xxe": b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<opml><body><outline text="&x;" xmlUrl="https://x.example/feed"/></body></opml>""",
    "billion-laughs": b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<opml><body><outline text="&c;" xmlUrl="https://x.example/feed"/></body></opml>""",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_OPML))
def test_a_hostile_opml_file_is_refused_and_nothing_is_stored(app, cast, name):
    client = client_for(app, cast.people["admin"])
    response = upload(client, HOSTILE_OPML[name])
    assert response.status_code == 400
    assert "declares a document type or entities" in text_of(response)
    assert source_rows(cast.org.id) == []


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.4 not xml", "not valid XML"),
    (b"<rss version='2.0'><channel/></rss>", "not an OPML subscription list"),
    (b"<opml><body><outline text='folder only'/></body></opml>", "lists no feed address"),
], ids=["not-xml", "rss", "no-feed"])
def test_a_file_that_is_not_a_usable_opml_list_is_refused(app, cast, data, message):
    client = client_for(app, cast.people["admin"])
    response = upload(client, data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert source_rows(cast.org.id) == []


def test_an_opml_file_over_one_megabyte_is_refused(app, cast):
    outline = b'<outline text="x" xmlUrl="https://big.example/feed"/>'
    data = b"<opml><body>" + outline * (MAX_OPML_BYTES // len(outline) + 1) + b"</body></opml>"
    assert len(data) > MAX_OPML_BYTES
    client = client_for(app, cast.people["admin"])
    response = upload(client, data)
    assert response.status_code == 400
    assert "larger than the limit of 1 MB" in text_of(response)
    assert source_rows(cast.org.id) == []


def test_an_import_without_a_file_asks_for_one(app, cast):
    client = client_for(app, cast.people["admin"])
    response = client.post(f"{sources_url()}/import", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose an OPML file to import." in text_of(response)


def test_an_import_that_would_pass_the_cap_imports_nothing(app, cast):
    db.session.add_all(FeedSource(org_id=cast.org.id, url=f"https://s{n}.example/feed")
                       for n in range(MAX_SOURCES - 1))
    db.session.commit()
    client = client_for(app, cast.people["admin"])
    response = upload(client, OPML)
    assert response.status_code == 400
    assert "nothing was imported" in text_of(response)
    assert len(source_rows(cast.org.id)) == MAX_SOURCES - 1


# -- pause, resume, remove -----------------------------------------------------------------


def test_an_admin_pauses_and_resumes_a_feed(app, cast):
    later = utcnow() + timedelta(hours=5)
    source = make_source(cast.org, failures=4, error="HTTP 503", next_poll_at=later)
    client = client_for(app, cast.people["admin"])
    response = client.post(f"{sources_url()}/{source.id}/pause", data={},
                           follow_redirects=True)
    assert f"{source.url} is paused" in text_of(response)
    db.session.expire_all()
    assert db.session.get(FeedSource, source.id).status == "paused"

    response = client.post(f"{sources_url()}/{source.id}/resume", data={},
                           follow_redirects=True)
    assert f"{source.url} is watched again" in text_of(response)
    db.session.expire_all()
    resumed = db.session.get(FeedSource, source.id)
    assert (resumed.status, resumed.failures, resumed.error) == ("active", 0, "")
    assert resumed.next_poll_at <= utcnow()


def test_removing_a_feed_removes_its_items(app, cast):
    source = make_source(cast.org)
    kept = make_source(cast.org)
    for _ in range(3):
        make_item(source)
    make_item(kept)
    client = client_for(app, cast.people["admin"])
    response = client.post(f"{sources_url()}/{source.id}/remove", data={},
                           follow_redirects=True)
    assert f"{source.url} is no longer watched" in text_of(response)
    assert source_rows(cast.org.id) == [(kept.url, "active", "")]
    assert item_count() == 1


def test_a_feed_of_another_organisation_is_not_found_here(app, cast):
    theirs = make_source(cast.other_org)
    client = client_for(app, cast.people["admin"])
    for action in ("pause", "resume", "remove"):
        assert client.post(f"{sources_url()}/{theirs.id}/{action}", data={}
                           ).status_code == 404
    assert source_rows(cast.other_org.id) == [(theirs.url, "active", "")]


def test_pause_needs_the_csrf_token(app, cast):
    source = make_source(cast.org)
    client = client_for(app, cast.people["admin"])
    assert client.post(f"{sources_url()}/{source.id}/pause", data={}, csrf=False
                       ).status_code == 400
    assert source_rows(cast.org.id) == [(source.url, "active", "")]


def test_the_sources_page_shows_status_and_errors(app, cast):
    make_source(cast.org, title="Ritimo", error="The server answered 500.", failures=2,
                last_polled_at=BASE)
    make_source(cast.org, title="Dormant", status="paused", error="Too many failures: 404.")
    make_source(cast.org, title="Fine", last_polled_at=BASE, last_success_at=BASE)
    client = client_for(app, cast.people["admin"])
    page = text_of(client.get(sources_url()))
    assert "Ritimo Failing" in page and "Error: The server answered 500." in page
    assert "Failures in a row 2" in page
    assert "Dormant Paused" in page and "Error: Too many failures: 404." in page
    assert "Fine Active" in page
    assert "3 of 300 at most" in page


# -- the watch pages -------------------------------------------------------------------------


def test_the_org_watch_lists_items_newest_first_with_keyset_pages(client, cast):
    source = make_source(cast.org, title="Ritimo")
    paused = make_source(cast.org, title="Dormant", status="paused")
    for n in range(33):
        make_item(source if n % 2 else paused, f"Item {n:02d}", BASE + timedelta(hours=n))
    # Two items at the same moment: the newer id comes first.
    make_item(source, "Tie A", BASE + timedelta(hours=40))
    make_item(source, "Tie B", BASE + timedelta(hours=40))
    make_item(make_source(cast.other_org), "Elsewhere", BASE + timedelta(hours=50))

    first = client.get("/@collectif/watch")
    assert first.status_code == 200
    expected = ["Tie B", "Tie A", *(f"Item {n:02d}" for n in range(32, -1, -1))]
    assert titles_in_order(first) == expected[:30]
    older = re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1)
    second = client.get(html.unescape(older))
    assert titles_in_order(second) == expected[30:]
    assert 'rel="next"' not in second.get_data(as_text=True)
    assert "Latest items" in text_of(second)


def test_an_item_shows_its_source_date_author_and_clean_summary(client, cast):
    source = make_source(cast.org, title="Ritimo", site_url="https://www.ritimo.org/")
    make_item(source, "Le rapport annuel", BASE, link="https://www.ritimo.org/rapport",
              author="Marie Curie",
              summary_html=clean_html('<p>Un <em>résumé</em> <a href="https://x.example/">lien'
                                      "</a></p>"))
    body = client.get("/@collectif/watch").get_data(as_text=True)
    assert ('<a href="https://www.ritimo.org/rapport" rel="nofollow noopener ugc">'
            "Le rapport annuel</a>") in body
    assert '<a href="https://www.ritimo.org/" rel="nofollow noopener ugc">Ritimo</a>' in body
    assert "<em>résumé</em>" in body
    page = text_of(client.get("/@collectif/watch"))
    assert "Ritimo · May 1, 2024 · Marie Curie" in page


def test_an_empty_watch_says_so(client, cast):
    assert "Nothing in the watch yet." in text_of(client.get("/@collectif/watch"))
    assert "Nothing in the watch yet." in text_of(client.get("/watch"))


def test_an_unknown_organisation_has_no_watch(client, cast):
    assert client.get("/@nobody/watch").status_code == 404


def test_the_org_page_links_to_its_watch(client, cast):
    assert 'href="/@collectif/watch"' in client.get("/@collectif").get_data(as_text=True)


@pytest.mark.parametrize(("name", "source"),
                         [case for case in CORPUS_CASES if case[0].endswith(":whole")],
                         ids=[case[0] for case in CORPUS_CASES if case[0].endswith(":whole")])
def test_hostile_feed_text_is_inert_on_every_watch_page(app, client, cast, name, source):
    feed = make_source(cast.org, title=source[:300], site_url="javascript:alert(1)")
    item = make_item(feed, source[:300], link="javascript:alert(1)", author=source[:200],
                     summary_html=clean_html(source))
    member = client_for(app, cast.people["member"])
    admin = client_for(app, cast.people["admin"])
    feed.error = source[:500]
    db.session.commit()
    for response in (client.get("/@collectif/watch"), client.get("/watch"),
                     member.get("/@collectif/watch"), member.get("/watch"),
                     member.get(f"/@collectif/library/new?watch={item.id}"),
                     admin.get("/@collectif/watch"), admin.get(sources_url())):
        assert response.status_code == 200
        assert_nothing_executable(response.get_data(as_text=True))


def test_titles_are_escaped_once(client, cast):
    make_item(make_source(cast.org, title="Tom & Jerry <b>"), "<script>alert(1)</script> & co")
    body = client.get("/@collectif/watch").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body
    assert "Tom &amp; Jerry &lt;b&gt;" in body
    assert "&amp;amp;" not in body


# -- failing sources -------------------------------------------------------------------------


def test_failing_sources_are_shown_to_admins_only(app, client, cast):
    make_source(cast.org, title="Ritimo", error="The server answered 500.", failures=1)
    make_source(cast.org, url="https://dead.example/rss", status="paused",
                error="Paused after 10 failures: not a feed.")
    make_source(cast.org, title="Fine")
    make_source(cast.other_org, title="Not ours", error="Other error")

    admin = text_of(client_for(app, cast.people["admin"]).get("/@collectif/watch"))
    assert "2 sources are failing" in admin
    assert "Ritimo : The server answered 500." in admin
    assert "https://dead.example/rss (paused): Paused after 10 failures: not a feed." in admin
    assert "Other error" not in admin
    assert "Manage watched feeds" in admin

    for viewer in (client, client_for(app, cast.people["editor"]),
                   client_for(app, cast.people["member"])):
        page = text_of(viewer.get("/@collectif/watch"))
        assert "failing" not in page and "The server answered" not in page
        assert "Manage watched feeds" not in page


def test_one_failing_source_is_named_in_the_singular(app, cast):
    make_source(cast.org, error="Time-out")
    page = text_of(client_for(app, cast.people["admin"]).get("/@collectif/watch"))
    assert "1 source is failing" in page


# -- the instance watch ---------------------------------------------------------------------


def test_the_instance_watch_shows_every_organisation_newest_first(client, cast):
    ours = make_source(cast.org, title="Ritimo")
    theirs = make_source(cast.other_org, title="Passerelle", status="paused")
    for n in range(31):
        make_item(ours if n % 2 else theirs, f"Item {n:02d}", BASE + timedelta(minutes=n))
    first = client.get("/watch")
    expected = [f"Item {n:02d}" for n in range(30, -1, -1)]
    assert titles_in_order(first) == expected[:30]
    body = first.get_data(as_text=True)
    assert '<a href="/@collectif">Collectif</a>' in body
    assert '<a href="/@voisins">Voisins</a>' in body
    assert "Item 30 Passerelle" in text_of(first)
    older = re.search(r'href="([^"]+)" rel="next"', body).group(1)
    assert titles_in_order(client.get(html.unescape(older))) == expected[30:]


def test_a_garbled_cursor_shows_the_first_page(client, cast):
    make_item(make_source(cast.org), "Only")
    for url in ("/watch?before=garbage", "/@collectif/watch?before=99999999999999999999-x"):
        response = client.get(url)
        assert response.status_code == 200 and titles_in_order(response) == ["Only"]


# -- share as resource ---------------------------------------------------------------------


def _share_links(response) -> list[str]:
    return [html.unescape(link) for link in
            re.findall(r'href="(/@[^"]+/library/new\?watch=\d+)"',
                       response.get_data(as_text=True))]


def test_members_get_a_share_link_visitors_do_not(app, client, cast):
    item = make_item(make_source(cast.org))
    assert _share_links(client.get("/@collectif/watch")) == []
    member = client_for(app, cast.people["member"])
    assert _share_links(member.get("/@collectif/watch")) == [
        f"/@collectif/library/new?watch={item.id}"]
    outsider = client_for(app, cast.people["non_member"])
    assert _share_links(outsider.get("/@collectif/watch")) == []


def test_the_instance_watch_offers_the_libraries_the_viewer_may_share_into(
        app, client, cast, make_member):
    item = make_item(make_source(cast.other_org))
    assert _share_links(client.get("/watch")) == []
    member = client_for(app, cast.people["member"])
    assert _share_links(member.get("/watch")) == [f"/@collectif/library/new?watch={item.id}"]
    make_member(cast.other_org, cast.people["member"], "member")
    links = _share_links(member.get("/watch"))
    assert sorted(links) == [f"/@collectif/library/new?watch={item.id}",
                             f"/@voisins/library/new?watch={item.id}"]


def _input_value(body: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)
    return html.unescape(re.search(r'value="([^"]*)"', tag).group(1))


def _textarea(body: str, name: str) -> str:
    """A textarea's text as the browser reads it (one leading newline is dropped)."""
    return html.unescape(re.search(rf'<textarea[^>]*name="{name}"[^>]*>(?:\r?\n)?(.*?)'
                                   "</textarea>", body, re.S).group(1))


def test_share_as_resource_prefills_the_resource_form(app, cast):
    summary = clean_html("<p>Le <strong>rapport</strong> de l'année &amp; ses annexes.</p>"
                         '<p>Suite <a href="https://x.example/">ici</a>.</p>')
    item = make_item(make_source(cast.other_org), 'Rapport "annuel" 2023',
                     datetime(2024, 3, 15, 23, 30, tzinfo=UTC),
                     link="https://www.ritimo.org/rapport?a=1&b=2", author="Marie Curie",
                     summary_html=summary)
    member = client_for(app, cast.people["member"])
    response = member.get(f"/@collectif/library/new?watch={item.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert _input_value(body, "title") == 'Rapport "annuel" 2023'
    assert _input_value(body, "source_url") == "https://www.ritimo.org/rapport?a=1&b=2"
    assert _input_value(body, "date_published") == "2024-03-15"
    assert _textarea(body, "authors") == "Marie Curie"
    abstract = _textarea(body, "abstract")
    assert abstract == "Le rapport de l'année & ses annexes.\nSuite ici."
    assert re.search(r'<input[^>]*checked[^>]*value="link"|<input[^>]*value="link"[^>]*checked',
                     body)


def test_a_long_summary_is_cut_in_the_prefilled_abstract(app, cast):
    item = make_item(make_source(cast.org), "Long",
                     summary_html=clean_html("<p>" + "mot " * 2000 + "</p>"))
    body = client_for(app, cast.people["member"]).get(
        f"/@collectif/library/new?watch={item.id}").get_data(as_text=True)
    abstract = _textarea(body, "abstract")
    assert abstract.endswith("…") and len(abstract) <= 3001


def test_share_from_a_vanished_item_shows_the_empty_form(app, cast):
    body = client_for(app, cast.people["member"]).get(
        "/@collectif/library/new?watch=987654").get_data(as_text=True)
    assert _input_value(body, "title") == ""


def test_share_as_resource_still_needs_the_right_to_share(app, cast):
    item = make_item(make_source(cast.org))
    outsider = client_for(app, cast.people["non_member"])
    assert outsider.get(f"/@collectif/library/new?watch={item.id}").status_code == 403


# -- queries do not grow with the page --------------------------------------------------------


def _queries(counter_factory, client, url: str) -> int:
    client.get(url)  # warm up: per-process caches, the session's first reads
    with counter_factory() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_watch_pages_run_a_fixed_number_of_queries(app, cast, count_queries):
    admin = client_for(app, cast.people["admin"])
    member = client_for(app, cast.people["member"])
    ours, theirs = make_source(cast.org, error="x"), make_source(cast.other_org)
    make_item(ours)
    make_item(theirs)
    pages = ((admin, "/@collectif/watch"), (member, "/@collectif/watch"), (member, "/watch"),
             (admin, sources_url()))
    small = [_queries(count_queries, who, url) for who, url in pages]
    for n in range(25):
        source = make_source(cast.org if n % 2 else cast.other_org, error="y" if n % 3 else "")
        make_item(source, author=f"Author {n}")
        make_item(source)
    large = [_queries(count_queries, who, url) for who, url in pages]
    assert large == small


def test_a_concurrent_duplicate_is_refused_with_the_message_not_a_500(app, make_org,
                                                                       make_account):
    """The existence check passed in both requests; the unique constraint decides."""
    from hub.errors import Conflict
    from hub.feeds.watch import queries as watch_queries
    from hub.feeds.watch import services

    owner = make_account("racer")
    org = make_org(owner=owner, handle="course", name="Course")
    db.session.add(FeedSource(org_id=org.id, url="https://site.example/feed.xml"))
    db.session.commit()
    original = watch_queries.find_source_by_url
    watch_queries.find_source_by_url = lambda *_args: None  # the other request's view
    try:
        with app.test_request_context(), pytest.raises(Conflict):
            services.add_source(owner, org, "https://site.example/feed.xml")
    finally:
        watch_queries.find_source_by_url = original
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FeedSource)) == 1
