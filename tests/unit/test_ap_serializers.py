"""ActivityStreams serialisers against golden documents (tests/data/ap/golden/).

The golden files are the specification: each one was read field by field against what
Mastodon, Mobilizon and Lemmy read (see hub/federation/serializers.py). To regenerate one
after a deliberate change, run with HUB_UPDATE_GOLDEN=1 and read the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.federation import serializers as ser
from hub.federation.vocab import CONTEXTS, PUBLIC, context, first_id, ids, is_public

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "ap" / "golden"
BASE = "https://hub.example"
ORG = f"{BASE}/@collectif"
ADA = f"{BASE}/@ada"
PEM = ("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest\n"
       "-----END PUBLIC KEY-----\n")
WHEN = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
EDITED = datetime(2025, 3, 15, 18, 0, tzinfo=UTC)
THEMES = (ser.Theme("Écologie", f"{BASE}/themes/ecologie"),
          ser.Theme("Droits de l'enfant", f"{BASE}/themes/droits-de-l-enfant"))


def person() -> ser.Actor:
    return ser.Actor(id=ADA, handle="ada", name="Ada Lovelace",
                     summary_html="<p>Bénévole &amp; documentaliste</p>", published=WHEN,
                     public_key_pem=PEM, shared_inbox=f"{BASE}/inbox",
                     icon=ser.Image(f"{BASE}/media/avatars/ada.webp", "image/webp"))


def group() -> ser.Actor:
    return ser.Actor(
        id=ORG, handle="collectif", name="Collectif Terre",
        summary_html='<p>Une association <a href="https://hub.example/themes/ecologie">'
                     "#écologie</a></p>",
        published=WHEN, public_key_pem=PEM, shared_inbox=f"{BASE}/inbox",
        icon=ser.Image(f"{BASE}/media/logos/collectif.png", "image/png"),
        image=ser.Image(f"{BASE}/media/banners/collectif.jpg", "image/jpeg"),
        fields=(("Website", '<a href="https://collectif.example/" rel="me nofollow noopener '
                            'noreferrer" target="_blank">collectif.example</a>'),))


def post(**overrides) -> ser.PostSnapshot:
    values = dict(
        id=f"{ORG}/news/7", org_id=ORG, author_id=ADA, title="Assemblée générale 2025",
        summary="Compte rendu <court> & public", content_html=(
            '<p>Lire <a href="https://hub.example/library/3">le rapport</a>.</p>'),
        visibility="public", published=WHEN, updated=EDITED, themes=THEMES,
        cover=ser.Image(f"{BASE}/media/covers/ag.jpg", "image/jpeg", "La salle comble"))
    values.update(overrides)
    return ser.PostSnapshot(**values)


def event(**overrides) -> ser.EventSnapshot:
    values = dict(
        id=f"{ORG}/events/4", org_id=ORG, title="Atelier réparation",
        content_html="<p>Apportez vos objets.</p>",
        starts_at=datetime(2025, 6, 1, 16, 0, tzinfo=UTC),
        ends_at=datetime(2025, 6, 1, 18, 30, tzinfo=UTC), timezone="Europe/Paris",
        status="tentative", published=WHEN, place_name="Maison des associations",
        address="12 rue de la Paix, 75002 Paris", latitude=48.8686, longitude=2.3314,
        online_url="https://visio.example/atelier", themes=THEMES[:1])
    values.update(overrides)
    return ser.EventSnapshot(**values)


def resource(**overrides) -> ser.ResourceSnapshot:
    values = dict(
        id=f"{BASE}/library/3", org_id=ORG, author_id=ADA, title="Rapport annuel",
        abstract_html="<p>Le bilan de l'année.</p>", content_html="", visibility="public",
        published=WHEN,
        file=ser.Attachment(f"{BASE}/library/3/file", "application/pdf", "rapport-2024.pdf"),
        creators=("Ada Lovelace", "Collectif Terre"), publisher="Collectif Terre",
        date_published="2025-03", language="fr",
        licence_url="https://creativecommons.org/licenses/by-sa/4.0/", doc_type="report",
        themes=THEMES[1:])
    values.update(overrides)
    return ser.ResourceSnapshot(**values)


def discussion() -> ser.DiscussionSnapshot:
    return ser.DiscussionSnapshot(
        id=f"{ORG}/discussions/2", org_id=ORG, author_id=None, title="Local pour 2026 ?",
        content_html="<p>Des pistes ?</p>", visibility="public", published=WHEN)


def comment(**overrides) -> ser.CommentSnapshot:
    values = dict(
        id=f"{BASE}/comments/11", attributed_to=ADA, org_id=ORG,
        content_html="<p>Merci pour ce compte rendu.</p>", in_reply_to=f"{BASE}/comments/10",
        context=f"{ORG}/news/7", visibility="public", published=WHEN)
    values.update(overrides)
    return ser.CommentSnapshot(**values)


def instance() -> ser.Instance:
    return ser.Instance(id=f"{BASE}/actor", host="hub.example", name="Maillage Coredem",
                        summary_html="<p>Le réseau des associations.</p>", url=f"{BASE}/",
                        public_key_pem=PEM, shared_inbox=f"{BASE}/inbox")


DOCUMENTS = {
    "person": lambda: ser.account_to_person(person()),
    "person_suspended": lambda: ser.account_to_person(
        ser.Actor(**{**person().__dict__, "suspended": True})),
    "group": lambda: ser.org_to_group(group()),
    "application": lambda: ser.instance_to_application(instance()),
    "article": lambda: ser.post_to_article(post()),
    "article_unlisted_no_author": lambda: ser.post_to_article(post(
        id=f"{ORG}/news/8", author_id=None, summary="", visibility="unlisted", updated=None,
        themes=(), cover=None)),
    "note": lambda: ser.comment_to_note(comment()),
    "event": lambda: ser.event_to_event(event()),
    "event_online_only": lambda: ser.event_to_event(event(
        place_name="", address="", latitude=None, longitude=None, status="confirmed",
        timezone="America/Montreal", themes=())),
    "page_resource": lambda: ser.resource_to_page(resource()),
    "page_resource_link": lambda: ser.resource_to_page(resource(
        id=f"{BASE}/library/5", file=None, abstract_html="", content_html="",
        link=ser.Attachment("https://example.org/guide", "text/html", "Le guide"),
        creators=(), publisher="", date_published="", language="", licence_url="",
        doc_type="", themes=())),
    "page_discussion": lambda: ser.discussion_to_page(discussion()),
    "tombstone": lambda: ser.tombstone(f"{ORG}/news/9", "Article", EDITED),
    "outbox": lambda: ser.ordered_collection(
        f"{ORG}/outbox", 42, first=ser.page_url(f"{ORG}/outbox"),
        last=ser.page_url(f"{ORG}/outbox", oldest="true")),
    "outbox_page": lambda: ser.ordered_collection_page(ser.CollectionPage(
        id=ser.page_url(f"{ORG}/outbox"), part_of=f"{ORG}/outbox",
        items=[ser.wrap_create(ser.event_to_event(event()), ORG),
               ser.wrap_create(ser.post_to_article(post()), ORG)],
        next=ser.page_url(f"{ORG}/outbox", before="20250314092653589000-3-7"))),
    "featured": lambda: ser.ordered_collection(
        f"{ORG}/featured", 1, items=[ser.post_to_article(post())]),
    "followers": lambda: ser.ordered_collection(f"{ORG}/followers", 0),
}


def _dump(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_matches_its_golden_file(name):
    document = DOCUMENTS[name]()
    path = GOLDEN / f"{name}.json"
    if os.environ.get("HUB_UPDATE_GOLDEN") == "1":
        path.write_text(_dump(document), encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with HUB_UPDATE_GOLDEN=1, read it"
    assert document == json.loads(path.read_text(encoding="utf-8"))
    # Key order too: the golden file is the exact text served.
    assert _dump(document) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_serialising_twice_gives_the_same_bytes(name):
    assert _dump(DOCUMENTS[name]()) == _dump(DOCUMENTS[name]())


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_only_the_two_contexts_are_referenced_by_url(name):
    ctx = DOCUMENTS[name]()["@context"]
    assert ctx[:2] == list(CONTEXTS)
    assert all(isinstance(part, dict) for part in ctx[2:]) and len(ctx) <= 3
    for part in ctx[2:]:
        for term, definition in part.items():
            # Prefixes are IRIs, never contexts to fetch; terms point at prefixes.
            assert isinstance(definition, (str, dict)), term


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_embedded_objects_carry_no_context_of_their_own(name):
    def walk(value, top):
        if isinstance(value, dict):
            assert top or "@context" not in value
            for item in value.values():
                walk(item, False)
        elif isinstance(value, list):
            for item in value:
                walk(item, False)

    walk(DOCUMENTS[name](), True)


def test_article_is_attributed_to_the_organisation_first_then_its_author():
    doc = ser.post_to_article(post())
    assert first_id(doc["attributedTo"]) == ORG  # what Mastodon keeps
    assert ids(doc["attributedTo"]) == [ORG, ADA]
    assert doc["audience"] == ORG


def test_public_and_unlisted_addressing_follow_mastodon():
    public = ser.post_to_article(post())
    assert public["to"] == [PUBLIC] and public["cc"] == [f"{ORG}/followers"]
    unlisted = ser.post_to_article(post(visibility="unlisted"))
    assert unlisted["to"] == [f"{ORG}/followers"] and unlisted["cc"] == [PUBLIC]
    assert is_public(public) and is_public(unlisted)


@pytest.mark.parametrize("visibility", ["members", "draft", ""])
def test_members_only_content_cannot_be_serialised(visibility):
    with pytest.raises(ValueError):
        ser.post_to_article(post(visibility=visibility))


def test_article_summary_is_escaped_plain_text():
    doc = ser.post_to_article(post(summary="<script>alert(1)</script> & co"))
    assert doc["summary"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"


def test_event_times_keep_the_organisers_offset():
    doc = ser.event_to_event(event())
    assert doc["startTime"] == "2025-06-01T18:00:00+02:00"
    assert doc["endTime"] == "2025-06-01T20:30:00+02:00"
    winter = ser.event_to_event(event(starts_at=datetime(2025, 1, 10, 17, 0, tzinfo=UTC),
                                      ends_at=datetime(2025, 1, 10, 18, 0, tzinfo=UTC)))
    assert winter["startTime"] == "2025-01-10T18:00:00+01:00"
    unknown = ser.event_to_event(event(timezone="Mars/Olympus"))
    assert unknown["startTime"] == "2025-06-01T16:00:00Z"


def test_hashtag_names_are_single_words():
    names = [tag["name"] for tag in ser.post_to_article(post())["tag"]]
    assert names == ["#Écologie", "#DroitsDeLEnfant"]


def test_wrap_create_copies_the_objects_audience():
    article = ser.post_to_article(post())
    create = ser.wrap_create(article, ORG)
    assert create["id"] == f"{ORG}/news/7#create"
    assert create["to"] == article["to"] and create["cc"] == article["cc"]
    assert create["object"]["id"] == article["id"] and "@context" not in create["object"]
    assert create["@context"] == article["@context"]


def test_context_merges_terms_in_a_stable_order():
    assert context({"b": "x:b"}, {"a": "x:a"}) == [*CONTEXTS, {"a": "x:a", "b": "x:b"}]
    assert context() == list(CONTEXTS)


def test_tolerant_accessors_read_one_or_many_ids_or_objects():
    assert first_id([{"type": "Group", "id": "g"}, "p"]) == "g"
    assert first_id("p") == "p" and first_id(None) is None and first_id([{}]) is None
    assert ids(["a", {"id": "b"}, {"href": "c"}, "a", 3]) == ["a", "b", "c"]
    assert is_public({"cc": "as:Public"}) and not is_public({"to": ["x"]})


# -- content negotiation (pure: the Accept header alone decides) ------------------------------

_AS_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.mark.parametrize("accept", [
    "application/activity+json",
    _AS_PROFILE,
    f"application/activity+json, {_AS_PROFILE}",  # Mastodon
    "application/ld+json",
    'application/ld+json;profile="https://www.w3.org/ns/activitystreams https://x.example"',
    "application/activity+json, text/html;q=0.5",
    "Application/Activity+JSON",
])
def test_activitystreams_accept_headers_are_recognised(accept):
    from hub.federation.negotiation import wants_activity_json

    assert wants_activity_json(accept)


@pytest.mark.parametrize("accept", [
    "", "*/*", "text/html", "application/json",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    'application/ld+json; profile="https://schema.org"',
    "application/activity+json;q=0.5, text/html",
    "application/activity+json;q=0",
    "not a header;;;",
])
def test_other_accept_headers_get_html(accept):
    from hub.federation.negotiation import wants_activity_json

    assert not wants_activity_json(accept)
