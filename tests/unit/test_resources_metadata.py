"""Pure parts of the catalogue's metadata: dates, vocabularies, link previews."""

from __future__ import annotations

import pytest

from hub.content.resources.catalogue import DOC_TYPES, LICENCES, parse_publication_date
from hub.content.resources.linkmeta import guess_encoding, parse_head


@pytest.mark.parametrize("text, expected", [
    ("", ("", None)), ("2024", ("2024", 2024)), (" 2024-03 ", ("2024-03", 2024)),
    ("2024-02-29", ("2024-02-29", 2024)),
])
def test_publication_dates_as_documentalists_write_them(text, expected):
    assert parse_publication_date(text) == expected


@pytest.mark.parametrize("text", ["24", "2024-13", "2023-02-29", "2024/03", "mars 2024",
                                  "0999", "2024-00", "2024-3"])
def test_malformed_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_publication_date(text)


def test_the_licences_are_the_creative_commons_set_and_all_rights_reserved():
    assert set(LICENCES) == {"cc0", "cc-by", "cc-by-sa", "cc-by-nd", "cc-by-nc",
                             "cc-by-nc-sa", "cc-by-nc-nd", "arr"}
    assert "report" in DOC_TYPES and "other" in DOC_TYPES


def test_open_graph_wins_over_title_and_meta_description():
    page = (b"<html><head><title>Plain</title><meta name=description content='Meta'>"
            b"<meta property='og:title' content='OG title'>"
            b"<meta property='og:description' content='OG &amp; more'></head></html>")
    meta = parse_head(page)
    assert (meta.title, meta.description) == ("OG title", "OG & more")


def test_title_and_meta_description_when_there_is_no_open_graph():
    page = b"<title>\n  Le   titre &eacute;crit\n</title><meta name='Description' content='D'>"
    assert parse_head(page) == type(parse_head(b""))("Le titre écrit", "D")


def test_the_charset_comes_from_the_header_then_the_page():
    latin = "<title>Été</title>".encode("latin-1")
    assert parse_head(latin, "text/html; charset=ISO-8859-1").title == "Été"
    assert parse_head(b'<meta charset="windows-1252">' + latin).title == "Été"
    assert parse_head("<title>Été</title>".encode()).title == "Été"
    assert parse_head(latin).title == "Été"  # not UTF-8: windows-1252, as browsers do
    assert guess_encoding(b"\xef\xbb\xbf<title>x</title>") == "utf-8-sig"


def test_nothing_after_the_head_is_read_and_long_text_is_cut():
    page = (b"<head></head><body><title>Not the title</title>"
            b"<meta name=description content=no></body>")
    assert parse_head(page).title == "" and parse_head(page).description == ""
    long = parse_head(b"<title>" + b"a" * 1000 + b"</title>").title
    assert len(long) == 300 and long.endswith("\u2026")


def test_broken_markup_does_not_raise():
    for page in (b"<title", b"<<<>>>", b"<meta content=x property=og:title", b"\xff\xfe\x00<"):
        parse_head(page)
