"""Search text: query parsing never lets engine syntax through; snippets escape everything."""

from __future__ import annotations

import re

import pytest

from hub.content.search.text import (
    _folded_with_positions,
    fold,
    fts5_match,
    highlight,
    parse_query,
    relevance,
    snippet,
    word_forms,
)


@pytest.mark.parametrize("q", ['"', '*', 'AND', '(', ':', 'a:b', 'NEAR(x y)', "'", "x:*",
                               '^x', '-x', '"a b', "a & b | !c"])
def test_parsed_queries_hold_only_words(q):
    match = fts5_match(parse_query(q))
    # Outside the quoted words, only the structure the function adds: ( OR AND ).
    outside = re.sub(r'"[^"]*"', "", match)
    assert set(outside.replace("OR", "").replace("AND", "")) <= set("() ")
    for word in re.findall(r'"([^"]*)"', match):
        for char in "():*^-'&|!\"":
            assert char not in word


def test_words_are_folded_and_phrases_kept():
    parsed = parse_query('Écologie "Jardins PARTAGÉS" écologie')
    assert parsed.terms == ("ecologie",)
    assert parsed.phrases == (("jardins", "partages"),)
    assert fts5_match(parsed) == ('("ecologie" OR "ecologies" OR "ecologiee" OR "ecologiees")'
                                  ' AND "jardins partages"')


def test_words_match_their_singular_and_plural_forms_not_a_prefix():
    assert word_forms("associations") == ("associations", "association")
    assert word_forms("projet") == ("projet", "projets")
    assert word_forms("jeu") == ("jeu", "jeus", "jeux")
    assert word_forms("de") == ("de",)
    assert "*" not in fts5_match(parse_query("associations"))


def test_folding_is_case_and_accent_blind_and_keeps_positions():
    assert fold("Écologie ŒUVRE straße") == "ecologie œuvre straße"
    assert _folded_with_positions("Éco") == ("eco", None)
    # "ﬁ" folds to two letters: positions map them back to the one character.
    assert _folded_with_positions("ﬁn") == ("fin", [0, 0, 1])
    assert str(highlight("Les ﬁlets", ("filets",))) == "Les <mark>ﬁlets</mark>"


def test_relevance_prefers_title_matches_then_more_matches_in_less_text():
    assert relevance(1, 0, 300) > relevance(0, 1, 300)
    assert relevance(0, 3, 300) > relevance(0, 1, 300)
    assert relevance(0, 1, 100) > relevance(0, 1, 3000)
    assert relevance(0, 0, 100) == 0.0


def test_highlight_ignores_case_and_accents_and_escapes():
    assert str(highlight("<b>Écologie</b>", ("ecologie",))) == \
        "&lt;b&gt;<mark>Écologie</mark>&lt;/b&gt;"


def test_snippet_cuts_around_the_match():
    body = "mot " * 200 + "le compost est prêt " + "fin " * 200
    result = str(snippet(body, ("compost",)))
    assert "<mark>compost</mark>" in result
    assert result.startswith("… ") and result.endswith(" …")
    assert len(result) < 300
