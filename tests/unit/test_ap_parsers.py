"""Parsers over real documents from Mastodon, Mobilizon, Lemmy, GoToSocial, Akkoma and
Fedify (tests/data/ap/peers/), and over what must be refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from hub.errors import ParseError
from hub.federation.parsers import (
    ACTOR_TYPES,
    ParsedActivity,
    ParsedActor,
    parse_activity,
    parse_actor,
    parse_key_document,
)

PEERS = Path(__file__).resolve().parents[1] / "data" / "ap" / "peers"
DOCUMENTS = sorted(PEERS.glob("*.json"))
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def load(name: str) -> dict:
    return json.loads((PEERS / f"{name}.json").read_text(encoding="utf-8"))


def is_actor(doc: dict) -> bool:
    return doc.get("type") in ACTOR_TYPES


def test_the_corpus_holds_actors_and_activities_of_every_peer():
    names = {p.stem for p in DOCUMENTS}
    for peer in ("mastodon", "mobilizon", "lemmy", "gotosocial", "akkoma", "fedify"):
        assert any(n.startswith(peer) for n in names), peer


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_real_document_parses(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    if is_actor(doc):
        actor = parse_actor(doc)
        assert isinstance(actor, ParsedActor)
        assert actor.id == doc["id"]
        assert actor.inbox.startswith("https://")
        assert actor.public_key is not None and actor.public_key.owner == actor.id
        assert "BEGIN PUBLIC KEY" in actor.public_key.pem
    else:
        activity = parse_activity(doc)
        assert isinstance(activity, ParsedActivity)
        assert activity.id == doc["id"] and activity.type == doc["type"]
        assert activity.actor.startswith("https://")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_real_document_without_id_is_refused(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["id"]
    with pytest.raises(ParseError):
        (parse_actor if is_actor(doc) else parse_activity)(doc)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_real_document_with_a_non_http_id_is_refused(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["id"] = "urn:uuid:4f1e0c2a-9b8d-4c7e-a6f5-3d2c1b0a9e8f"
    with pytest.raises(ParseError):
        (parse_actor if is_actor(doc) else parse_activity)(doc)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_real_document_survives_losing_its_optional_fields(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    keep = {"@context", "id", "type", "actor", "object"}
    bare = {k: v for k, v in doc.items() if k in keep}
    parsed = (parse_actor if is_actor(doc) else parse_activity)(bare)
    assert parsed.id == doc["id"]


# -- actors ---------------------------------------------------------------------------------


def test_mastodon_person():
    actor = parse_actor(load("mastodon_person"))
    assert actor.type == "Person"
    assert actor.preferred_username == "Gargron"
    assert actor.name == "Eugen Rochko"
    assert actor.url == "https://mastodon.social/@Gargron"
    assert actor.icon_url.startswith("https://files.mastodon.social/accounts/avatars/")
    assert actor.inbox == "https://mastodon.social/users/Gargron/inbox"
    assert actor.shared_inbox == "https://mastodon.social/inbox"
    assert actor.featured == "https://mastodon.social/users/Gargron/collections/featured"
    assert actor.public_key.id == "https://mastodon.social/users/Gargron#main-key"
    assert actor.manually_approves_followers is False
    assert actor.host == "mastodon.social"


def test_gotosocial_key_id_without_fragment_and_locked_account():
    actor = parse_actor(load("gotosocial_person"))
    assert actor.public_key.id == "https://gts.superseriousbusiness.org/users/tobi/main-key"
    assert actor.manually_approves_followers is True
    assert actor.shared_inbox == "https://gts.superseriousbusiness.org/sharedInbox"
    assert actor.url == "https://gts.superseriousbusiness.org/@tobi"


def test_akkoma_person_with_capabilities_and_aliases():
    actor = parse_actor(load("akkoma_person"))
    assert actor.summary == "akkoma dev<br/><br/>she/her"
    assert actor.shared_inbox == "https://akko.wtf/inbox"
    assert actor.also_known_as == ("https://blob.cat/users/floatingghost",)


def test_fedify_person_with_a_list_of_keys_and_a_link_url():
    actor = parse_actor(load("fedify_person"))
    assert actor.public_key.id == "https://hollo.social/@hongminhee#main-key"
    assert actor.url == "https://hollo.social/@hongminhee"
    assert actor.name == "洪 民憙 (Hong Minhee)"
    assert actor.also_known_as == ("https://todon.eu/users/hongminhee",)


@pytest.mark.parametrize("name", ["mobilizon_group", "lemmy_group"])
def test_groups(name):
    actor = parse_actor(load(name))
    assert actor.type == "Group"
    assert actor.followers.endswith("/followers")
    assert actor.shared_inbox.endswith("/inbox")


def test_lemmy_group_featured_and_icon():
    actor = parse_actor(load("lemmy_group"))
    assert actor.featured == "https://lemmy.ml/c/fediverse/featured"
    assert actor.icon_url == "https://lemmy.ml/pictrs/image/a1b2c3d4-fediverse.png"


def test_a_key_owned_by_someone_else_is_not_the_actors_key():
    doc = load("mastodon_person")
    doc["publicKey"]["owner"] = "https://mastodon.social/users/someone_else"
    assert parse_actor(doc).public_key is None


def test_a_key_on_another_origin_is_not_the_actors_key():
    doc = load("mastodon_person")
    doc["publicKey"]["id"] = "https://evil.example/users/Gargron#main-key"
    assert parse_actor(doc).public_key is None


def test_the_first_qualifying_key_of_a_list_is_taken():
    doc = load("fedify_person")
    good = doc["publicKey"][0]
    doc["publicKey"] = [{**good, "id": "https://evil.example/k"}, good]
    assert parse_actor(doc).public_key.id == good["id"]


def test_something_that_is_not_an_actor_is_refused():
    note = load("mastodon_create_note_reply")["object"]
    with pytest.raises(ParseError, match="not an actor"):
        parse_actor(note)


def test_an_actor_without_type_is_refused():
    doc = load("mastodon_person")
    del doc["type"]
    with pytest.raises(ParseError):
        parse_actor(doc)


@pytest.mark.parametrize("bad", [None, [], "https://x.example/a", 42])
def test_a_document_that_is_not_an_object_is_refused(bad):
    with pytest.raises(ParseError):
        parse_actor(bad)
    with pytest.raises(ParseError):
        parse_activity(bad)


def test_optional_urls_that_are_not_http_are_dropped():
    doc = load("mastodon_person")
    doc["url"] = "javascript:alert(1)"
    doc["icon"] = {"type": "Image", "url": "data:image/png;base64,AAAA"}
    doc["endpoints"] = "nonsense"
    actor = parse_actor(doc)
    assert (actor.url, actor.icon_url, actor.shared_inbox) == ("", "", "")


def test_a_key_served_alone_names_its_owner():
    key = parse_key_document({"@context": "https://w3id.org/security/v1",
                              "id": "https://gts.example/users/a/main-key",
                              "type": "CryptographicKey", "owner": "https://gts.example/users/a",
                              "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n..."})
    assert key.owner == "https://gts.example/users/a"
    assert parse_key_document(load("mastodon_follow")) is None


# -- activities -----------------------------------------------------------------------------


def test_mastodon_follow():
    activity = parse_activity(load("mastodon_follow"))
    assert activity.type == "Follow"
    assert activity.object == "https://maillage.example/@alternatiba"
    assert activity.object_id == activity.object and activity.object_type is None


def test_mastodon_undo_embeds_the_follow():
    activity = parse_activity(load("mastodon_undo_follow"))
    assert activity.object_type == "Follow"
    assert activity.object_id == "https://mastodon.social/ce3b3b0e-2f53-4c31-9e18-5e4b6b3b1f6e"


def test_mastodon_accept_names_our_follow():
    activity = parse_activity(load("mastodon_accept_follow"))
    assert activity.type == "Accept"
    assert activity.object_id.startswith("https://maillage.example/activities/")


def test_mastodon_reply_keeps_the_note_and_its_addressing():
    activity = parse_activity(load("mastodon_create_note_reply"))
    assert activity.object_type == "Note"
    assert activity.object["inReplyTo"] == "https://maillage.example/@alternatiba/news/42"
    assert activity.to == (PUBLIC,)
    assert activity.cc == ("https://mastodon.social/users/Gargron/followers",
                           "https://maillage.example/@alternatiba")


def test_mastodon_delete_of_the_actor_itself():
    activity = parse_activity(load("mastodon_delete_actor"))
    assert activity.object_id == activity.actor


def test_fedify_single_value_addressing_is_a_list():
    activity = parse_activity(load("fedify_create_note"))
    assert activity.to == (PUBLIC,)


def test_mobilizon_event_and_lemmy_announce():
    event = parse_activity(load("mobilizon_create_event"))
    assert event.object_type == "Event" and event.actor == "https://mobilizon.fr/@collectif_velo"
    announce = parse_activity(load("lemmy_announce_create_page"))
    assert announce.object_type == "Create"
    assert announce.object["object"]["type"] == "Page"


@pytest.mark.parametrize("field", ["type", "actor"])
def test_an_activity_without_type_or_actor_is_refused(field):
    doc = load("mastodon_follow")
    del doc[field]
    with pytest.raises(ParseError):
        parse_activity(doc)


def test_an_embedded_actor_and_a_list_of_types_are_read():
    doc = copy.deepcopy(load("mastodon_follow"))
    doc["actor"] = {"id": doc["actor"], "type": "Person"}
    doc["type"] = ["Follow"]
    activity = parse_activity(doc)
    assert (activity.actor, activity.type) == ("https://mastodon.social/users/Gargron", "Follow")


def test_an_actor_that_is_not_http_is_refused():
    doc = load("mastodon_follow")
    doc["actor"] = "acct:Gargron@mastodon.social"
    with pytest.raises(ParseError):
        parse_activity(doc)


def test_an_id_too_long_to_store_is_refused():
    doc = load("mastodon_follow")
    doc["id"] = "https://mastodon.social/" + "a" * 2000
    with pytest.raises(ParseError):
        parse_activity(doc)
