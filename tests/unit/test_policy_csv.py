"""Reading and writing shared block lists (Mastodon's domain_blocks.csv): pure functions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hub.errors import ValidationFailed
from hub.federation.policy_csv import clean_domain, parse_policy_file, to_csv


@dataclass
class Policy:
    domain: str
    severity: str
    reject_media: bool = False
    public_reason: str = ""


@pytest.mark.parametrize(("text", "domain"), [
    ("Spam.Example.", "spam.example"), ("*.spam.example", "spam.example"),
    ("bébé.fr", "xn--bb-bjab.fr"), ("127.0.0.1:8443", "127.0.0.1:8443"),
    ("exa*ple.org", None), ("not a domain", None), ("localhost", None),
    ("-bad.example", None), ("a" * 64 + ".example", None), ("", None),
])
def test_clean_domain(text, domain):
    assert clean_domain(text) == domain


def test_what_is_written_reads_back_the_same():
    written = [Policy("a.example", "block", False, 'Spam, "ads"\nagain'),
               Policy("b.example", "limit", True, "=1+1"),
               Policy("c.example", "reject_media", True, "@everyone")]
    text = to_csv([*written, Policy("d.example", "allow")])
    assert "d.example" not in text
    rows = parse_policy_file(text.encode()).rows
    assert [(r.domain, r.severity, r.reject_media, r.public_reason) for r in rows] == \
        [(p.domain, p.severity, p.reject_media, p.public_reason) for p in written]


def test_a_header_without_hashes_and_in_another_order_is_read():
    parsed = parse_policy_file(b"severity,domain,public_comment\nsilence,a.example,Loud\n")
    assert [(r.domain, r.severity, r.public_reason) for r in parsed.rows] == \
        [("a.example", "limit", "Loud")]


def test_bad_rows_are_listed_by_the_line_they_start_on():
    parsed = parse_policy_file(b'#domain,#public_comment\n"a.example","two\nlines"\n'
                               b"bad domain,x\nb.example,ok\n")
    assert [r.domain for r in parsed.rows] == ["a.example", "b.example"]
    assert [line for line, _ in parsed.errors] == [4]


def test_a_binary_file_is_refused():
    with pytest.raises(ValidationFailed):
        parse_policy_file(b"PK\x03\x04\x14\x00\x00\x00")
