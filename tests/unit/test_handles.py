"""hub/accounts/handles.py: one namespace, compared in a canonical form. Pure."""

from __future__ import annotations

import pytest

from hub.accounts.handles import RESERVED, canonical_handle, display_handle, handle_problem


@pytest.mark.parametrize("raw", ["alice", "Alice", "ALICE", "@alice", "  alice  ", "ａｌｉｃｅ",
                                 "ＡＬＩＣＥ", "@ａlice"])
def test_variants_of_a_handle_share_one_key(raw):
    assert canonical_handle(raw) == "alice"


def test_display_form_keeps_case_but_not_fullwidth():
    """Before the fix, "ＢＯＢ" was stored and shown as typed, in fullwidth letters."""
    assert display_handle("ＢＯＢ") == "BOB"
    assert display_handle("@Bob_42 ") == "Bob_42"
    assert display_handle("Kelvin\u212a") == "KelvinK"  # KELVIN SIGN → K


@pytest.mark.parametrize("raw", ["alice", "Bob_42", "a1", "x" * 30, "ｂｏｂ", "under_score"])
def test_good_handles_pass(raw):
    assert handle_problem(raw) is None


@pytest.mark.parametrize(("raw", "problem"), [
    ("a", "too_short"),
    ("", "too_short"),
    ("@", "too_short"),
    ("x" * 31, "too_long"),
    ("аlice", "alphabet"),          # Cyrillic а
    ("alicе", "alphabet"),          # Cyrillic е at the end
    ("ålice", "alphabet"),
    ("éloïse", "alphabet"),
    ("Straße", "alphabet"),         # casefold() would have made it "strasse"
    ("STRAẞE", "alphabet"),
    ("alice\u200b", "alphabet"),    # zero-width space
    ("al ice", "alphabet"),
    ("al-ice", "alphabet"),
    ("al.ice", "alphabet"),
    ("alice!", "alphabet"),
    ("ali\u0301ce", "alphabet"),    # combining accent
    ("_alice", "underscores"),
    ("alice_", "underscores"),
    ("al__ice", "underscores"),
    ("admin", "reserved"),
    ("Admin", "reserved"),
    ("ＡＤＭＩＮ", "reserved"),
    ("inbox", "reserved"),
    ("api", "reserved"),
    ("well_known", "reserved"),
    ("wellknown", "reserved"),
    ("static", "reserved"),
    ("no_reply", "reserved"),
    ("web_finger", "reserved"),
    ("media", "reserved"),
])
def test_bad_handles_are_refused_with_the_reason(raw, problem):
    assert handle_problem(raw) == problem


def test_every_reserved_word_is_refused():
    for word in RESERVED:
        assert handle_problem(word) in {"reserved", "too_short"}, word


def test_an_accepted_handle_is_plain_ascii_in_both_forms():
    for raw in ["ａｌｉｃｅ", "Kelvin\u212a", "ﬁne"]:
        assert handle_problem(raw) is None
        assert display_handle(raw).isascii() and canonical_handle(raw).isascii()
