"""Inboxes at the HTTP level: signed requests from a remote actor whose document (and key)
a real HTTP server on loopback serves; every refusal is a 4xx that stores nothing; what
is stored is processed through the real queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.federation.keys import generate_pem_pair
from hub.federation.models import Follow, RemoteActor
from hub.federation.signatures import sign_cavage
from hub.jobs import jobs
from tests.integration.inbox_support import (
    ALICE_KEY,
    ORG,
    OTHER_KEY,
    PUBLIC,
    activity,
    post,
    public_pem,
    row,
    stored,
)


@pytest.fixture
def alice(peer) -> str:
    return peer.actor("alice")


def assert_refused(response, status: int, before: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["error"]
    assert stored() == before


# -- accepted ---------------------------------------------------------------------------------


def test_a_signed_follow_is_stored_once_and_answered_202(client, org, alice):
    doc = activity(alice)

    response = post(client, "/inbox", doc)

    assert response.status_code == 202
    stored_row = row(doc["id"])
    assert (stored_row.direction, stored_row.status, stored_row.type) == ("in", "pending", "Follow")
    assert stored_row.actor_uri == alice and stored_row.object_uri == ORG
    assert json.loads(stored_row.payload) == doc


def test_a_follow_goes_through_the_queue_and_alice_gets_an_accept(client, org, alice, peer,
                                                                 run_jobs):
    doc = activity(alice)
    assert post(client, "/@collectif/inbox", doc).status_code == 202

    run_jobs()

    assert row(doc["id"]).status == "done"
    follow = db.session.scalar(select(Follow))
    remote = db.session.scalar(select(RemoteActor).where(RemoteActor.uri == alice))
    assert (follow.follower_type, follow.follower_id) == ("remote", remote.id)
    assert (follow.followed_type, follow.followed_id, follow.status) == (
        "organisation", org.id, "accepted")
    assert follow.activity_uri == doc["id"]
    accepts = [body for path, body in peer.received if body.get("type") == "Accept"]
    assert accepts and accepts[0]["object"]["id"] == doc["id"]
    assert accepts[0]["actor"] == ORG
    # The profile was cleaned before it was stored.
    assert "script" not in remote.summary_html


def test_an_undo_removes_the_follow(client, org, alice, run_jobs):
    follow = activity(alice)
    post(client, "/inbox", follow)
    run_jobs()
    undo = activity(alice, "Undo", obj={k: v for k, v in follow.items() if k != "@context"})

    assert post(client, "/inbox", undo).status_code == 202
    run_jobs()

    assert row(undo["id"]).status == "done"
    assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_an_rfc9421_signature_is_accepted(client, org, alice):
    assert post(client, "/inbox", activity(alice), scheme="rfc9421").status_code == 202


def test_a_duplicate_is_answered_202_and_stored_once(client, org, alice):
    doc = activity(alice)
    assert post(client, "/inbox", doc).status_code == 202
    before = stored()

    assert post(client, "/inbox", doc).status_code == 202

    assert stored() == before


def test_an_unknown_type_is_stored_then_ignored(client, org, alice, run_jobs):
    doc = activity(alice, "Bite")
    assert post(client, "/inbox", doc).status_code == 202

    run_jobs()

    done = row(doc["id"])
    assert done.status == "ignored" and "Bite" in done.error
    assert done.processed_at is not None


def test_a_reply_to_something_that_does_not_exist_is_ignored(client, org, alice, run_jobs):
    doc = activity(alice, "Create", obj={"id": f"{alice}/notes/1", "type": "Note",
                                         "attributedTo": alice, "content": "<p>Hi</p>",
                                         "inReplyTo": f"{ORG}/news/1"})
    post(client, "/inbox", doc)

    run_jobs()

    assert row(doc["id"]).status == "ignored"
    assert row(doc["id"]).error == "a reply to something not kept here"


def test_the_key_is_fetched_again_once_when_the_actor_rotated_it(client, org, alice, peer):
    assert post(client, "/inbox", activity(alice)).status_code == 202  # key cached
    new_private = generate_pem_pair()[1]
    peer.actor("alice", new_private)
    fetched = len(peer.fetches)

    response = post(client, "/inbox", activity(alice, "Like", obj=f"{ORG}/news/1"),
                    key=new_private)

    assert response.status_code == 202
    assert len(peer.fetches) == fetched + 1
    key = db.session.scalar(select(RemoteActor.public_key_pem).where(RemoteActor.uri == alice))
    assert key == public_pem(new_private)


def test_an_accept_of_our_follow_marks_it_accepted(client, org, alice, run_jobs):
    post(client, "/inbox", activity(alice, "Like", obj=f"{ORG}/news/1"))  # alice is known
    remote = db.session.scalar(select(RemoteActor).where(RemoteActor.uri == alice))
    ours = Follow(follower_type="organisation", follower_id=org.id, followed_type="remote",
                  followed_id=remote.id, status="pending",
                  activity_uri="http://localhost/activities/our-follow")
    db.session.add(ours)
    db.session.commit()
    accept = activity(alice, "Accept", obj={"id": ours.activity_uri, "type": "Follow",
                                            "actor": ORG, "object": alice})

    assert post(client, "/inbox", accept).status_code == 202
    run_jobs()

    db.session.expire_all()
    assert db.session.get(Follow, ours.id).status == "accepted"


def test_a_deleted_actor_loses_its_follows(client, org, alice, run_jobs):
    post(client, "/inbox", activity(alice))
    run_jobs()
    delete = activity(alice, "Delete", obj=alice, to=[PUBLIC])

    assert post(client, "/inbox", delete).status_code == 202
    run_jobs()

    remote = db.session.scalar(select(RemoteActor).where(RemoteActor.uri == alice))
    assert remote.deleted_at is not None
    assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_an_update_of_the_actor_fetches_it_again(client, org, alice, peer, run_jobs):
    post(client, "/inbox", activity(alice, "Like", obj=f"{ORG}/news/1"))
    peer.actor("alice", name="Alice Renamed")
    update = activity(alice, "Update", obj={"id": alice, "type": "Person", "name": "Forged"})

    post(client, "/inbox", update)
    run_jobs()

    assert row(update["id"]).status == "done"
    remote = db.session.scalar(select(RemoteActor).where(RemoteActor.uri == alice))
    assert remote.name == "Alice Renamed"


def test_a_failed_fetch_is_retried_later_then_given_up(client, org, alice, peer, run_jobs):
    post(client, "/inbox", activity(alice, "Like", obj=f"{ORG}/news/1"))
    update = activity(alice, "Update", obj=alice)
    post(client, "/inbox", update)
    peer.documents["/users/alice"] = (500, {})

    run_jobs()

    waiting = row(update["id"])
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at > datetime.now(UTC) and "500" in waiting.error
    for _ in range(4):  # the sweep re-queues it when due
        jobs.sweep(row(update["id"]).next_attempt_at + timedelta(seconds=1))
        run_jobs()
    assert row(update["id"]).status == "failed"
    assert row(update["id"]).attempts == 5


def test_the_sweep_requeues_a_pending_activity_whose_job_was_lost(client, org, alice, run_jobs):
    doc = activity(alice, "Bite")
    post(client, "/inbox", doc)
    jobs.huey.flush()  # the queue lost the job

    jobs.sweep(datetime.now(UTC) + timedelta(seconds=1))
    run_jobs()

    assert row(doc["id"]).status == "ignored"


# -- refused: 4xx, nothing stored ----------------------------------------------------------------


def test_inbox_rejects_an_unsigned_request(client, org, alice):
    before = stored()
    assert_refused(post(client, "/inbox", activity(alice), signed=False), 401, before)


def test_inbox_rejects_a_signature_made_with_another_key(client, org, alice):
    before = stored()
    assert_refused(post(client, "/inbox", activity(alice), key=OTHER_KEY), 401, before)


def test_inbox_rejects_a_bad_digest(client, org, alice):
    before = stored()
    response = post(client, "/inbox", activity(alice),
                    headers={"Digest": "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="})
    assert_refused(response, 401, before)


def test_inbox_rejects_a_tampered_body(client, org, alice):
    """The attacker recomputes the digest: the signature over it no longer verifies."""
    from hub.federation.signatures import digest_header

    doc = activity(alice)
    sent = {"Content-Type": "application/activity+json"}
    sent.update(sign_cavage("POST", "http://localhost/inbox", sent, json.dumps(doc).encode(),
                            f"{alice}#main-key", ALICE_KEY, datetime.now(UTC)))
    tampered = json.dumps({**doc, "object": "http://localhost/@someone-else"}).encode()
    sent["Digest"] = digest_header(tampered)
    before = stored()

    response = client.post("/inbox", data=tampered, headers=sent)

    assert_refused(response, 401, before)


def test_inbox_rejects_signature_from_other_actor(client, org, alice, peer):
    mallory = peer.actor("mallory", OTHER_KEY)
    before = stored()
    response = post(client, "/inbox", activity(alice), key=OTHER_KEY,
                    key_id=f"{mallory}#main-key")
    assert_refused(response, 401, before)


def test_inbox_rejects_a_stale_date(client, org, alice):
    before = stored()
    response = post(client, "/inbox", activity(alice),
                    now=datetime.now(UTC) - timedelta(hours=13))
    assert_refused(response, 401, before)


def test_inbox_rejects_a_key_that_cannot_be_fetched(client, org, peer):
    ghost = f"{peer.base}/users/ghost"
    before = stored()
    response = post(client, "/inbox", activity(ghost))
    assert_refused(response, 401, before)
    assert "could not fetch" in response.get_json()["error"]


def test_inbox_rejects_an_oversized_body(client, org, alice):
    doc = activity(alice, padding="x" * (1024 * 1024))
    before = stored()
    assert_refused(post(client, "/inbox", doc), 413, before)


def test_inbox_rejects_a_wrong_content_type(client, org, alice):
    before = stored()
    response = post(client, "/inbox", activity(alice), content_type="text/plain")
    assert_refused(response, 415, before)


@pytest.mark.parametrize("content_type", [
    "application/json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
])
def test_inbox_accepts_the_other_json_types(client, org, alice, content_type):
    assert post(client, "/inbox", activity(alice), content_type=content_type).status_code == 202


def test_inbox_rejects_malformed_json(client, org, alice):
    before = stored()
    body = b'{"id": "' + alice.encode() + b'/x", "type": "Follow",'
    response = post(client, "/inbox", {"actor": alice}, body=body)
    assert_refused(response, 400, before)


def test_inbox_rejects_an_activity_without_actor(client, org, alice):
    doc = activity(alice)
    body = json.dumps({k: v for k, v in doc.items() if k != "actor"}).encode()
    before = stored()
    assert_refused(post(client, "/inbox", doc, body=body), 400, before)


def test_inbox_rejects_an_activity_from_our_own_host(client, org, make_account):
    make_account("voisine")
    doc = activity("http://localhost/@voisine")
    before = stored()
    assert_refused(post(client, "/inbox", doc), 400, before)


def test_an_unknown_local_handle_has_no_inbox(client, org, alice):
    before = stored()
    assert_refused(post(client, "/@nobody/inbox", activity(alice)), 404, before)


def test_a_suspended_account_has_no_inbox(client, org, alice, make_account):
    make_account("suspendue", status="suspended")
    before = stored()
    assert_refused(post(client, "/@suspendue/inbox", activity(alice)), 404, before)


def test_a_deleted_actor_we_never_knew_is_answered_without_fetching(client, org, peer):
    gone = f"{peer.base}/users/gone"
    peer.documents["/users/gone"] = (410, {"type": "Tombstone", "id": gone})
    before = stored()

    response = post(client, "/inbox", activity(gone, "Delete", obj=gone))

    assert response.status_code == 202
    assert stored() == before


def test_inbox_limits_requests_per_address(make_app, peer):
    app = make_app(HUB_INBOX_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        alice = peer.actor("alice")
        answers = [post(client, "/@nobody/inbox", activity(alice)) for _ in range(3)]
        assert [a.status_code for a in answers] == [404, 404, 429]
        assert "too many" in answers[-1].get_json()["error"]


def test_a_key_served_on_its_own_leads_to_its_owner(client, org, peer):
    """GoToSocial's key ids (``…/main-key``, no fragment) answer the key with its owner."""
    tobi = peer.actor("tobi")
    key_id = f"{tobi}/main-key"
    _status, doc = peer.documents["/users/tobi"]
    doc["publicKey"]["id"] = key_id
    peer.documents["/users/tobi/main-key"] = (200, {
        "@context": "https://w3id.org/security/v1", "id": key_id, "type": "CryptographicKey",
        "owner": tobi, "publicKeyPem": doc["publicKey"]["publicKeyPem"]})

    response = post(client, "/inbox", activity(tobi), key_id=key_id)

    assert response.status_code == 202
    assert peer.fetches == ["/users/tobi/main-key", "/users/tobi"]


def test_the_instance_actor_has_the_inbox_its_document_names(client, org, alice, run_jobs,
                                                             peer):
    # Regression: /actor named /actor/inbox, which answered 404, so no instance could
    # follow this one (and subscribe to its catalogue).
    inbox = client.get("/actor", headers={"Accept": "application/activity+json"}
                       ).get_json()["inbox"]
    doc = activity(alice, obj="http://localhost/actor")
    assert post(client, inbox.removeprefix("http://localhost"), doc).status_code == 202
    run_jobs()
    follow = db.session.scalar(select(Follow))
    assert (follow.followed_type, follow.status) == ("instance", "accepted")
