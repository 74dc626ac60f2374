"""Search text: query parsing never lets engine syntax through; snippets escape everything."""

from __future__ import annotations

import pytest

from hub.content.search.text import fts5_match, highlight, parse_query, snippet


@pytest.mark.parametrize("q", ['"', '*', 'AND', '(', ':', 'a:b', 'NEAR(x y)', "'", "x:*",
                               '^x', '-x', '"a b', "a & b | !c"])
def test_parsed_queries_hold_only_words(q):
    match = fts5_match(parse_query(q))
    for char in "():*^-'&|!":
        assert char not in match.replace('"*', "")


def test_words_are_folded_and_phrases_kept():
    parsed = parse_query('Écologie "Jardins PARTAGÉS" écologie')
    assert parsed.terms == ("ecologie",)
    assert parsed.phrases == (("jardins", "partages"),)
    assert fts5_match(parsed) == '"ecologie"* AND "jardins partages"'


def test_highlight_ignores_case_and_accents_and_escapes():
    assert str(highlight("<b>Écologie</b>", ("ecologie",))) == \
        "&lt;b&gt;<mark>Écologie</mark>&lt;/b&gt;"


def test_snippet_cuts_around_the_match():
    body = "mot " * 200 + "le compost est prêt " + "fin " * 200
    result = str(snippet(body, ("compost",)))
    assert "<mark>compost</mark>" in result
    assert result.startswith("… ") and result.endswith(" …")
    assert len(result) < 300
