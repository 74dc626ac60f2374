"""Content objects as real servers send them (tests/data/ap/peers), read by
``object_parser``; and what is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.errors import ParseError
from hub.federation.object_parser import parse_object, parse_time

PEERS = Path(__file__).resolve().parents[1] / "data" / "ap" / "peers"


def load(name: str) -> dict:
    doc = json.loads((PEERS / f"{name}.json").read_text())
    obj = doc["object"]
    return obj["object"] if isinstance(obj.get("object"), dict) else obj


def test_a_mastodon_reply():
    obj = parse_object(load("mastodon_create_note_reply"))
    assert obj.type == "Note" and obj.attributed_to == "https://mastodon.social/users/Gargron"
    assert obj.in_reply_to == "https://maillage.example/@alternatiba/news/42"
    assert obj.url == "https://mastodon.social/@Gargron/113456789012345678"
    assert obj.language == "fr" and obj.public and obj.listed
    assert obj.mentions == ("https://maillage.example/@alternatiba",)
    assert "@" in obj.content and obj.published is not None


def test_a_mobilizon_event():
    obj = parse_object(load("mobilizon_create_event"))
    assert obj.type == "Event" and obj.name == "Vélorution de printemps"
    assert obj.starts_at == datetime(2025, 4, 12, 12, 0, tzinfo=UTC)
    assert obj.place_name == "Place Bellecour" and obj.place_address
    assert obj.hashtags == ("velo",)


def test_a_fedify_note_with_single_values():
    obj = parse_object(load("fedify_create_note"))
    assert obj.content == "<p>Fedify 1.3 is out.</p>" and obj.language == "en"
    assert obj.public and obj.listed


def test_a_lemmy_page_inside_an_announce():
    obj = parse_object(load("lemmy_announce_create_page"))
    assert obj.type == "Page" and obj.name == "Lemmy 0.19.5 released"
    assert obj.attachments and obj.attachments[0].url.startswith("https://join-lemmy.org/")
    assert obj.hashtags == ("fediverse",)


def test_unlisted_is_public_but_not_listed():
    obj = parse_object({"id": "https://a.example/n/1", "type": "Note",
                        "attributedTo": "https://a.example/u/a",
                        "to": ["https://a.example/u/a/followers"], "cc": ["as:Public"]})
    assert obj.public and not obj.listed


def test_an_online_event_link_is_not_an_attachment():
    obj = parse_object({"id": "https://a.example/e/1", "type": "Event",
                        "attributedTo": "https://a.example/u/a",
                        "startTime": "2026-01-01T10:00:00Z",
                        "attachment": [{"type": "Link", "name": "Website",
                                        "href": "https://visio.example/r"}]})
    assert obj.online_url == "https://visio.example/r" and obj.attachments == ()


@pytest.mark.parametrize("doc", [
    None, [], "text",
    {"type": "Note", "attributedTo": "https://a.example/u/a"},
    {"id": "javascript:alert(1)", "type": "Note", "attributedTo": "https://a.example/u/a"},
    {"id": "https://a.example/n/1", "attributedTo": "https://a.example/u/a"},
    {"id": "https://a.example/n/1", "type": "Note"},
    {"id": "https://a.example/n/1", "type": "Note", "attributedTo": "ftp://a.example/u"},
])
def test_objects_without_identity_are_refused(doc):
    with pytest.raises(ParseError):
        parse_object(doc)


def test_malformed_optional_fields_are_dropped():
    obj = parse_object({"id": "https://a.example/n/1", "type": "Note",
                        "attributedTo": ["https://a.example/u/a"], "published": "hier",
                        "inReplyTo": "javascript:x", "tag": ["x", {"type": "Hashtag"}],
                        "attachment": [{"url": "data:text/html,x"}], "content": 42})
    assert obj.published is None and obj.in_reply_to == "" and obj.hashtags == ()
    assert obj.attachments == () and obj.content == ""


@pytest.mark.parametrize("value, expected", [
    ("2026-11-24T10:00:00Z", datetime(2026, 11, 24, 10, tzinfo=UTC)),
    ("2026-11-24T11:00:00.123+01:00", datetime(2026, 11, 24, 10, 0, 0, 123000, tzinfo=UTC)),
    ("2026-11-24T10:00:00", datetime(2026, 11, 24, 10, tzinfo=UTC)),
    ("", None), ("demain", None), (12, None),
])
def test_times(value, expected):
    assert parse_time(value) == expected
