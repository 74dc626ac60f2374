"""ActivityStreams documents over HTTP, as a peer fetching them sees them.

Pages serve HTML to browsers and ActivityStreams JSON to peers (both Accept forms), with
``Vary: Accept``; members-only, draft, scheduled and hidden rows never reach a peer; deleted
rows answer 410 with a Tombstone; collections page with a keyset.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from hub.content.models import Comment
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.content_rows import (
    english,  # noqa: F401
    make_comment,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)

AS = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MASTODON = f"{AS}, {LD}"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BASE = "http://localhost"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SECRET = "Réunion secrète du bureau"


@pytest.fixture(autouse=True)
def settings_row(app):
    """The settings row `maillage init` creates: the page cache works once it exists."""
    from hub.admin.services import ensure_settings

    ensure_settings()
    db.session.commit()


@pytest.fixture
def cast(make_org, make_account):
    ada = make_account("ada", display_name="Ada Lovelace")
    org = make_org(owner=ada, handle="collectif", name="Collectif Terre",
                   summary="Pour la Terre", website="https://collectif.example/")
    return org, ada


def fetch(client, path: str, accept: str = AS, status: int = 200):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status, (path, response.status_code,
                                            response.get_data(as_text=True)[:300])
    assert response.content_type == "application/activity+json; charset=utf-8"
    assert "Accept" in response.vary
    return response.get_json()


def page(client, path: str, accept: str = BROWSER):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html"
    assert "Accept" in response.vary
    return response.get_data(as_text=True)


# -- actors -----------------------------------------------------------------------------------


def _public_key(document: dict) -> RSAPublicKey:
    key = serialization.load_pem_public_key(document["publicKey"]["publicKeyPem"].encode())
    assert isinstance(key, RSAPublicKey) and key.key_size == 2048
    return key


@pytest.mark.parametrize("accept", [AS, LD, MASTODON])
def test_an_organisation_is_a_group_with_a_stable_key(client, cast, accept):
    org, _ada = cast
    group = fetch(client, "/@collectif", accept)
    actor = f"{BASE}/@collectif"
    assert group["type"] == "Group" and group["id"] == actor and group["url"] == actor
    assert group["preferredUsername"] == "collectif" and group["name"] == "Collectif Terre"
    assert "Pour la Terre" in group["summary"]
    assert group["inbox"] == f"{actor}/inbox" and group["outbox"] == f"{actor}/outbox"
    assert group["featured"] == f"{actor}/featured"
    assert group["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert group["publicKey"]["id"] == f"{actor}#main-key"
    assert group["publicKey"]["owner"] == actor
    assert group["attachment"][0]["name"] == "Website"
    assert "https://collectif.example/" in group["attachment"][0]["value"]
    first = _public_key(group)
    again = _public_key(fetch(client, "/@collectif", accept))
    assert first.public_numbers() == again.public_numbers()


def test_an_account_is_a_person(client, cast):
    _org, ada = cast
    ada.bio_html = "<p>Documentaliste</p>"
    ada.avatar_path = "avatars/ada.webp"
    db.session.commit()
    person = fetch(client, "/@ada")
    assert person["type"] == "Person" and person["id"] == f"{BASE}/@ada"
    assert person["name"] == "Ada Lovelace" and person["summary"] == "<p>Documentaliste</p>"
    assert person["icon"] == {"type": "Image", "mediaType": "image/webp",
                              "url": f"{BASE}/media/avatars/ada.webp"}
    assert person["manuallyApprovesFollowers"] is False and person["discoverable"] is True
    _public_key(person)
    assert _public_key(fetch(client, "/@ada")).public_numbers() == \
        _public_key(person).public_numbers()


def test_a_suspended_account_keeps_only_its_identity(client, cast, make_account):
    make_account("mallory", display_name="Mallory", status="suspended",
                 bio_html="<p>spam</p>")
    person = fetch(client, "/@mallory")
    assert person["suspended"] is True and person["name"] == "mallory"
    assert "summary" not in person and "icon" not in person
    _public_key(person)
    fetch(client, "/@mallory/outbox", status=403)


def test_a_deleted_account_is_gone_and_a_pending_one_unknown(client, cast, make_account):
    make_account("gone", status="deleted", deleted_at=utcnow())
    make_account("newcomer", status="pending")
    tomb = fetch(client, "/@gone", status=410)
    assert tomb["type"] == "Tombstone" and tomb["formerType"] == "Person"
    fetch(client, "/@newcomer", status=404)
    fetch(client, "/@nobody", status=404)
    fetch(client, "/@gone/outbox", status=410)


def test_the_instance_actor_is_an_application(client, cast):
    app_actor = fetch(client, "/actor")
    assert app_actor["type"] == "Application" and app_actor["id"] == f"{BASE}/actor"
    assert app_actor["preferredUsername"] == "localhost"
    assert app_actor["inbox"] == f"{BASE}/actor/inbox"
    key = _public_key(app_actor)
    assert _public_key(fetch(client, "/actor")).public_numbers() == key.public_numbers()
    assert fetch(client, "/actor/outbox")["totalItems"] == 0


def test_profile_pages_still_serve_html_to_browsers(client, cast):
    assert "Collectif Terre" in page(client, "/@collectif")
    assert "Ada Lovelace" in page(client, "/@ada")


# -- objects ----------------------------------------------------------------------------------


@pytest.fixture
def content(cast):
    org, ada = cast
    post = make_post(org, "Assemblée générale", body="Voir [le rapport](/library/1).",
                     themes="Écologie", author_id=ada.id, summary="Le compte rendu")
    event = make_event(org, "Atelier réparation", description="Apportez vos objets.",
                       place_name="Maison des associations", address="12 rue de la Paix",
                       latitude=48.86, longitude=2.33, online_url="https://visio.example/a")
    resource = make_resource(org, "Rapport annuel", abstract="Le bilan.", author_id=ada.id,
                             authors="Ada Lovelace", publisher="Collectif Terre",
                             date_published="2025", licence="cc-by")
    discussion = make_discussion(org, "Un local pour 2026", body="Des idées ?",
                                 author_id=ada.id)
    top = make_comment("post", post, "Merci !", author_id=ada.id)
    reply = Comment(target_type="post", target_id=post.id, org_id=org.id,
                    visibility="public", author_id=ada.id, parent_id=top.id, root_id=top.id,
                    depth=1, body_source="Avec plaisir", body_html="<p>Avec plaisir</p>")
    db.session.add(reply)
    db.session.commit()
    return {"post": post, "event": event, "resource": resource, "discussion": discussion,
            "comment": top, "reply": reply}


def paths(content) -> dict[str, str]:
    return {"post": f"/@collectif/news/{content['post'].id}",
            "event": f"/@collectif/events/{content['event'].id}",
            "resource": f"/library/{content['resource'].id}",
            "discussion": f"/@collectif/discussions/{content['discussion'].id}",
            "comment": f"/comments/{content['comment'].id}"}


TYPES = {"post": "Article", "event": "Event", "resource": "Page", "discussion": "Page",
         "comment": "Note"}


@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("accept", [AS, LD])
def test_each_object_serves_json_to_peers_and_html_to_browsers(client, content, kind, accept):
    path = paths(content)[kind]
    document = fetch(client, path, accept)
    assert document["type"] == TYPES[kind]
    assert document["id"] == f"{BASE}{path}" and document["url"] == f"{BASE}{path}"
    assert document["@context"][:2] == ["https://www.w3.org/ns/activitystreams",
                                        "https://w3id.org/security/v1"]
    assert document["to"] == [PUBLIC]
    html = page(client, path)
    assert html.lstrip().lower().startswith("<!doctype html")


def test_an_article_reads_well_on_mastodon(client, content):
    article = fetch(client, paths(content)["post"])
    assert article["name"] == "Assemblée générale"
    assert article["summary"] == "Le compte rendu"
    # Root-relative links are made absolute: peers have no base to resolve them on.
    assert 'href="http://localhost/library/1"' in article["content"]
    assert article["attributedTo"][0] == {"type": "Group", "id": f"{BASE}/@collectif"}
    assert article["attributedTo"][1] == {"type": "Person", "id": f"{BASE}/@ada"}
    assert article["cc"] == [f"{BASE}/@collectif/followers"]
    assert article["tag"] == [{"type": "Hashtag", "href": f"{BASE}/themes/ecologie",
                               "name": "#Écologie"}]


def test_an_event_carries_its_place_time_zone_and_online_link(client, content):
    event = fetch(client, paths(content)["event"])
    assert event["startTime"].endswith(("+01:00", "+02:00"))  # Europe/Paris
    assert event["timezone"] == "Europe/Paris" and event["ical:status"] == "CONFIRMED"
    assert event["location"]["name"] == "Maison des associations"
    assert event["location"]["address"]["streetAddress"] == "12 rue de la Paix"
    assert (event["location"]["latitude"], event["location"]["longitude"]) == (48.86, 2.33)
    assert event["attachment"] == [{"type": "Link", "href": "https://visio.example/a",
                                    "mediaType": "text/html", "name": "Website"}]


def test_a_resource_carries_its_catalogue_metadata(client, content):
    page_doc = fetch(client, paths(content)["resource"])
    assert page_doc["name"] == "Rapport annuel" and "Le bilan." in page_doc["summary"]
    assert page_doc["creator"] == ["Ada Lovelace"]
    assert page_doc["publisher"] == "Collectif Terre" and page_doc["datePublished"] == "2025"
    assert page_doc["inLanguage"] == "fr"
    assert page_doc["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_comments_reply_to_their_parent_in_the_thread_of_their_object(client, content):
    post_id = f"{BASE}{paths(content)['post']}"
    top = fetch(client, paths(content)["comment"])
    assert top["inReplyTo"] == post_id and top["context"] == post_id
    assert top["attributedTo"] == f"{BASE}/@ada"
    reply = fetch(client, f"/comments/{content['reply'].id}")
    assert reply["inReplyTo"] == f"{BASE}/comments/{content['comment'].id}"
    assert reply["context"] == post_id


def test_an_unlisted_post_is_served_addressed_to_followers(client, cast):
    org, _ada = cast
    post = make_post(org, "Pas dans les listes", visibility="unlisted")
    article = fetch(client, f"/@collectif/news/{post.id}")
    assert article["to"] == [f"{BASE}/@collectif/followers"] and article["cc"] == [PUBLIC]


@pytest.mark.parametrize("state", ["members", "draft", "scheduled", "hidden"])
def test_what_a_visitor_may_not_see_is_not_found(client, cast, login, state):
    org, ada = cast
    fields = {"members": {"visibility": "members"}, "draft": {"status": "draft"},
              "scheduled": {"status": "scheduled", "publish_at": utcnow() + timedelta(days=1)},
              "hidden": {"hidden_at": utcnow()}}[state]
    post = make_post(org, SECRET, **fields)
    response = client.get(f"/@collectif/news/{post.id}", headers={"Accept": AS})
    assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)
    # Being a logged-in member changes nothing: peers fetch without a session.
    login(ada)
    response = client.get(f"/@collectif/news/{post.id}", headers={"Accept": AS})
    assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["event", "resource", "discussion"])
def test_members_only_objects_of_every_kind_are_not_found(client, cast, kind):
    org, _ada = cast
    maker = {"event": make_event, "resource": make_resource, "discussion": make_discussion}
    row = maker[kind](org, SECRET, visibility="members")
    path = {"event": f"/@collectif/events/{row.id}", "resource": f"/library/{row.id}",
            "discussion": f"/@collectif/discussions/{row.id}"}[kind]
    response = client.get(path, headers={"Accept": AS})
    assert response.status_code == 404 and SECRET not in response.get_data(as_text=True)


def test_comments_of_a_members_only_thread_are_not_found(client, cast):
    org, ada = cast
    discussion = make_discussion(org, SECRET, visibility="members")
    comment = make_comment("discussion", discussion, "entre nous", author_id=ada.id)
    fetch(client, f"/comments/{comment.id}", status=404)


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_deleted_objects_are_gone_with_a_tombstone(client, content, kind):
    path = paths(content)[kind]
    content[kind].deleted_at = utcnow()
    db.session.commit()
    tomb = fetch(client, path, status=410)
    assert tomb == {"@context": tomb["@context"], "id": f"{BASE}{path}", "type": "Tombstone",
                    "formerType": TYPES[kind], "deleted": tomb["deleted"]}


def test_a_deleted_members_only_post_stays_unknown(client, cast):
    org, _ada = cast
    post = make_post(org, SECRET, visibility="members", deleted_at=utcnow())
    fetch(client, f"/@collectif/news/{post.id}", status=404)


def test_an_object_under_another_organisation_is_not_found(client, cast, make_org):
    org, _ada = cast
    make_org(handle="voisins")
    post = make_post(org, "Chez nous")
    fetch(client, f"/@voisins/news/{post.id}", status=404)


# -- collections ------------------------------------------------------------------------------


def test_the_outbox_pages_newest_first_without_overlap(client, cast):
    org, _ada = cast
    now = utcnow()
    posts = [make_post(org, f"Billet {n}", when=now - timedelta(hours=n)) for n in range(23)]
    make_post(org, SECRET, visibility="members", when=now)
    make_post(org, "Brouillon", status="draft")
    event = make_event(org, "Atelier")
    collection = fetch(client, "/@collectif/outbox")
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 24
    first = fetch(client, collection["first"].removeprefix(BASE))
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{BASE}/@collectif/outbox"
    assert len(first["orderedItems"]) == 20
    second = fetch(client, first["next"].removeprefix(BASE))
    assert len(second["orderedItems"]) == 4 and "next" not in second
    items = first["orderedItems"] + second["orderedItems"]
    objects = [item["object"]["id"] for item in items]
    assert len(set(objects)) == 24  # no overlap, nothing missing
    assert all(item["type"] == "Create" and item["actor"] == f"{BASE}/@collectif"
               for item in items)
    # The event was created just now: newest first.
    assert objects[0] == f"{BASE}/@collectif/events/{event.id}"
    assert objects[1:] == [f"{BASE}/@collectif/news/{post.id}" for post in posts]
    last = fetch(client, collection["last"].removeprefix(BASE))
    assert [item["object"]["id"] for item in last["orderedItems"]] == objects[-20:]


def test_an_outbox_page_with_a_forged_cursor_is_refused(client, cast):
    response = client.get("/@collectif/outbox?page=true&before=1%20OR%201=1")
    assert response.status_code == 400
    assert response.content_type == "application/activity+json; charset=utf-8"


def test_an_accounts_outbox_holds_its_public_comments(client, cast):
    org, ada = cast
    post = make_post(org, "Billet")
    secret = make_discussion(org, SECRET, visibility="members")
    public = make_comment("post", post, "Bravo", author_id=ada.id)
    make_comment("discussion", secret, "entre nous", author_id=ada.id)
    outbox = fetch(client, "/@ada/outbox")
    assert outbox["totalItems"] == 1
    items = fetch(client, outbox["first"].removeprefix(BASE))["orderedItems"]
    assert [item["object"]["id"] for item in items] == [f"{BASE}/comments/{public.id}"]
    assert items[0]["actor"] == f"{BASE}/@ada"


def test_featured_lists_the_pinned_public_posts(client, cast):
    org, _ada = cast
    pinned = make_post(org, "Épinglé", is_pinned=True)
    make_post(org, "Ordinaire")
    make_post(org, SECRET, is_pinned=True, visibility="members")
    featured = fetch(client, "/@collectif/featured")
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 1
    assert [item["id"] for item in featured["orderedItems"]] == [
        f"{BASE}/@collectif/news/{pinned.id}"]
    assert featured["orderedItems"][0]["type"] == "Article"


def test_followers_and_following_are_empty_until_follows_exist(client, cast):
    for path in ("/@collectif/followers", "/@collectif/following", "/@ada/followers"):
        collection = fetch(client, path)
        assert collection["totalItems"] == 0 and "orderedItems" not in collection
    fetch(client, "/@nobody/followers", status=404)


def test_no_document_ever_holds_a_members_only_title(client, cast):
    org, ada = cast
    secret_post = make_post(org, SECRET, visibility="members", is_pinned=True)
    secret_event = make_event(org, SECRET, visibility="members")
    secret_thread = make_discussion(org, SECRET, visibility="members")
    make_comment("discussion", secret_thread, SECRET, author_id=ada.id)
    make_post(org, "Public")
    bodies = []
    for path in ("/@collectif", "/@ada", "/@collectif/outbox", "/@collectif/outbox?page=true",
                 "/@collectif/outbox?page=true&oldest=true", "/@collectif/featured",
                 "/@ada/outbox?page=true", f"/@collectif/news/{secret_post.id}",
                 f"/@collectif/events/{secret_event.id}",
                 f"/@collectif/discussions/{secret_thread.id}"):
        for accept in (AS, LD):
            bodies.append(client.get(path, headers={"Accept": accept}).get_data(as_text=True))
    assert all(SECRET not in body and "secr" not in body.lower() for body in bodies)


# -- negotiation and the page cache -----------------------------------------------------------


def test_the_page_cache_never_mixes_html_and_json(client, content):
    path = paths(content)["post"]
    first = page(client, path)
    as_json = fetch(client, path)
    assert as_json["type"] == "Article"
    again = page(client, path)
    assert again == first
    assert fetch(client, path) == as_json
    # A conditional browser request revalidates the HTML, never the JSON.
    etag = client.get(path, headers={"Accept": BROWSER}).headers.get("ETag")
    if etag:
        response = client.get(path, headers={"Accept": AS, "If-None-Match": etag})
        assert response.status_code == 200 and response.get_json()["type"] == "Article"


def test_curl_and_json_clients_get_html_unless_they_ask_for_activitystreams(client, content):
    path = paths(content)["post"]
    for accept in ("*/*", "", "application/json", "text/html",
                   'application/ld+json; profile="https://schema.org"',
                   f"{AS};q=0.5, text/html"):
        response = client.get(path, headers={"Accept": accept} if accept else {})
        assert response.mimetype == "text/html", accept
        assert "Accept" in response.vary


def test_documents_do_not_depend_on_who_asks(client, content, login, cast):
    _org, ada = cast
    path = paths(content)["post"]
    anonymous = fetch(client, path)
    login(ada)
    assert fetch(client, path) == anonymous
    assert json.dumps(fetch(client, "/@collectif/outbox?page=true")).count("Create") >= 1


def test_an_outbox_page_costs_a_bounded_number_of_queries(client, cast, count_queries):
    org, ada = cast
    for n in range(25):
        make_post(org, f"Billet {n}", themes="Écologie", author_id=ada.id)
    fetch(client, "/@collectif/outbox?page=true")
    with count_queries() as counter:
        fetch(client, "/@collectif/outbox?page=true")
    # Organisation, one query per kind, themes, no query per item.
    assert counter.count <= 8, counter.statements
