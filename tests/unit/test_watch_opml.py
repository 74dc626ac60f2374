"""Reading OPML subscription lists: nesting, filtering, duplicates and hostile files."""

from __future__ import annotations

import pytest

from hub.errors import HubError, ValidationFailed
from hub.feeds.watch.opml import OpmlError, OpmlFeed, parse_opml

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Coredem</title></head>
  <body>
    <outline text="Members">
      <outline text="Ritimo" title="Ritimo" type="rss" xmlUrl="https://www.ritimo.org/spip.php?page=backend"
               htmlUrl="https://www.ritimo.org/"/>
      <outline text="Partners">
        <outline text="Passerelle" xmlUrl="http://www.coredem.info/feed.xml"/>
      </outline>
    </outline>
    <outline text="Top level" xmlUrl="https://example.org/atom.xml" htmlUrl="javascript:alert(1)"/>
  </body>
</opml>"""


def test_nested_outlines_are_flattened_in_document_order():
    assert parse_opml(NESTED) == [
        OpmlFeed("Ritimo", "https://www.ritimo.org/spip.php?page=backend",
                 "https://www.ritimo.org/"),
        OpmlFeed("Passerelle", "http://www.coredem.info/feed.xml", ""),
        OpmlFeed("Top level", "https://example.org/atom.xml", ""),
    ]


def test_only_http_feed_addresses_are_kept():
    data = b"""<opml version="1.0"><body>
      <outline text="js" xmlUrl="javascript:alert(1)"/>
      <outline text="ftp" xmlUrl="ftp://example.org/feed"/>
      <outline text="file" xmlUrl="file:///etc/passwd"/>
      <outline text="relative" xmlUrl="/feed.xml"/>
      <outline text="folder only"/>
      <outline text="upper" xmlUrl="HTTPS://Example.org/Feed"/>
    </body></opml>"""
    assert [feed.xml_url for feed in parse_opml(data)] == ["HTTPS://Example.org/Feed"]


def test_duplicates_are_kept_once():
    data = b"""<opml version="2.0"><body>
      <outline text="a" xmlUrl="https://a.example/feed"/>
      <outline text="folder"><outline text="again" xmlUrl="https://a.example/feed"/></outline>
      <outline text="b" xmlUrl="https://b.example/feed"/>
    </body></opml>"""
    assert [(f.title, f.xml_url) for f in parse_opml(data)] == [
        ("a", "https://a.example/feed"), ("b", "https://b.example/feed")]


def test_attribute_names_in_any_case_and_text_as_title():
    data = b'<opml><body><outline TEXT="Site" XMLURL=" https://x.example/rss "/></body></opml>'
    assert parse_opml(data) == [OpmlFeed("Site", "https://x.example/rss", "")]


def test_latin1_and_utf16_files_are_read():
    latin = ('<?xml version="1.0" encoding="ISO-8859-1"?><opml><body>'
             '<outline text="Écologie" xmlUrl="https://e.example/f"/></body></opml>')
    assert parse_opml(latin.encode("latin-1"))[0].title == "Écologie"
    wide = latin.replace("ISO-8859-1", "UTF-16")
    assert parse_opml(wide.encode("utf-16"))[0].title == "Écologie"


def test_an_empty_body_gives_no_feed():
    assert parse_opml(b"<opml><body/></opml>") == []


def test_the_refusal_is_a_validation_error_of_the_house():
    assert issubclass(OpmlError, ValidationFailed)
    assert issubclass(OpmlError, HubError)


@pytest.mark.parametrize("data", [
    b"",
    b"not xml at all",
    b"<opml><body><outline text='a'></body></opml>",
    b"\x89PNG\r\n\x1a\n\x00\x00",
], ids=["empty", "text", "malformed", "binary"])
def test_non_xml_is_refused(data):
    with pytest.raises(OpmlError, match="not valid XML"):
        parse_opml(data)


@pytest.mark.parametrize("data", [
    b"<rss version='2.0'><channel><title>x</title></channel></rss>",
    b"<opml version='2.0'><head/></opml>",
], ids=["rss", "no-body"])
def test_xml_that_is_not_opml_is_refused(data):
    with pytest.raises(OpmlError, match="not an OPML"):
        parse_opml(data)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml><body><outline text="&lol3;" xmlUrl="https://x.example/"/></body></opml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml><body><outline text="&secret;" xmlUrl="https://x.example/"/></body></opml>"""


@pytest.mark.parametrize("data", [
    BILLION_LAUGHS,
    XXE,
    b'<!doctype opml SYSTEM "http://evil.example/opml.dtd"><opml><body/></opml>',
    b"<opml><body/></opml><!ENTITY late 'x'>",
    b"<!  DOCTYPE opml><opml><body/></opml>",
    XXE.decode().encode("utf-16"),
    XXE.decode().encode("utf-16-le"),
], ids=["billion-laughs", "xxe", "external-dtd", "entity-anywhere", "spaced", "utf16-bom",
        "utf16-no-bom"])
def test_document_type_declarations_are_refused_before_parsing(data):
    with pytest.raises(OpmlError, match="document type or entities"):
        parse_opml(data)


def test_too_many_outlines_are_refused():
    outlines = "".join(f'<outline text="{n}" xmlUrl="https://x.example/{n}"/>'
                       for n in range(11))
    data = f"<opml><body>{outlines}</body></opml>".encode()
    with pytest.raises(OpmlError, match="11 entries; at most 10"):
        parse_opml(data, max_outlines=10)
    assert len(parse_opml(data, max_outlines=11)) == 11


def test_folders_count_as_outlines():
    data = (b"<opml><body><outline text='f'><outline text='g'>"
            b"<outline text='a' xmlUrl='https://a.example/'/></outline></outline></body></opml>")
    with pytest.raises(OpmlError):
        parse_opml(data, max_outlines=2)
