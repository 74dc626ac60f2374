"""Outbound delivery against real HTTP servers on loopback: what peers receive, signed at
send time; retries, Retry-After, 410 Gone, the circuit breaker; what content sends."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from hub.content.models import Post
from hub.content.posts import services as posts
from hub.extensions import db
from hub.federation import delivery
from hub.federation.keys import key_pair
from hub.federation.models import Activity, Delivery, Follow, RemoteActor, RemoteHost
from hub.federation.signatures import verify_request
from hub.federation.vocab import PUBLIC
from hub.jobs import jobs
from hub.models_base import utcnow
from tests.integration import posts_support
from tests.integration.orgs_support import client_for, login_redirect

cast = posts_support.cast
make_post = posts_support.make_post

ORG_ACTOR = "http://localhost/@collectif"


@pytest.fixture
def app(make_app):
    """A short delivery time-out, so a hanging peer costs a second."""
    app = make_app(HUB_DELIVERY_TIMEOUT=1)
    with app.app_context():
        yield app
        db.session.remove()


# -- a peer: a real HTTP server recording what it receives ----------------------------------


@dataclass
class Received:
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def doc(self) -> dict:
        return json.loads(self.body)


@dataclass
class Peer:
    """Answers every POST with ``status`` (and ``headers``), or hangs when ``hang``."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status: int = 202
    headers: dict = field(default_factory=dict)
    hang: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


def _handler(peer_ref: list) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            peer = peer_ref[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peer.received.append(Received(self.path, list(self.headers.items()), body))
            if peer.hang:
                time.sleep(peer.hang)
            self.send_response(peer.status)
            for name, value in peer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def make_peer():
    peers: list[Peer] = []

    def factory() -> Peer:
        ref: list = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
        server.daemon_threads = True
        peer = Peer(server)
        ref.append(peer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        peers.append(peer)
        return peer

    yield factory
    for peer in peers:
        peer.server.shutdown()
        peer.server.server_close()


def follower(peer: Peer, name: str, org, *, shared: bool = True,
             followed_type: str = "organisation") -> RemoteActor:
    """A remote actor on ``peer`` following ``org`` (accepted)."""
    actor = RemoteActor(uri=f"{peer.base}/users/{name}", handle=name, domain=peer.host,
                        inbox=f"{peer.base}/users/{name}/inbox",
                        shared_inbox=f"{peer.base}/inbox" if shared else "")
    db.session.add(actor)
    db.session.flush()
    db.session.add(Follow(follower_type="remote", follower_id=actor.id,
                          followed_type=followed_type, followed_id=org.id, status="accepted",
                          activity_uri=f"{actor.uri}/follows/{org.id}"))
    db.session.commit()
    return actor


def deliveries(**where) -> list[Delivery]:
    db.session.expire_all()
    stmt = select(Delivery).order_by(Delivery.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Delivery, name) == value)
    return list(db.session.scalars(stmt))


def activities() -> list[Activity]:
    return list(db.session.scalars(select(Activity).order_by(Activity.id)))


def send(delivery_id: int) -> None:
    """One run of the job, as the worker does it (then commit)."""
    delivery.deliver(delivery_id)
    db.session.commit()


def check_signed_by_org(received: Received, peer: Peer, org) -> None:
    public = key_pair("organisation", org.id).public_pem
    verified = verify_request("POST", peer.base + received.path, received.headers,
                              received.body, public, datetime.now(UTC))
    assert verified.key_id == f"{ORG_ACTOR}#main-key"
    assert "digest" in verified.covered and "date" in verified.covered


# -- fan-out and signatures -----------------------------------------------------------------


def test_a_published_post_reaches_each_inbox_once_signed_by_the_organisation(
        app, cast, make_post, make_peer, run_jobs):
    shared, alone = make_peer(), make_peer()
    for name in ("ana", "bob", "chloe"):
        follower(shared, name, cast.org)
    follower(alone, "dan", cast.org, shared=False)
    follower(alone, "eve", cast.other_org, shared=False)  # follows someone else

    post = make_post(cast.org, cast.people["editor"], "Assemblée générale")
    run_jobs()

    assert [r.path for r in shared.received] == ["/inbox"]
    assert [r.path for r in alone.received] == ["/users/dan/inbox"]
    for peer in (shared, alone):
        received = peer.received[0]
        check_signed_by_org(received, peer, cast.org)
        assert dict(received.headers)["Content-Type"] == "application/activity+json"
        doc = received.doc
        assert doc["type"] == "Create" and doc["actor"] == ORG_ACTOR
        assert doc["object"]["id"] == f"http://localhost/@collectif/news/{post.id}"
        assert doc["object"]["type"] == "Article"
        assert doc["object"]["name"] == "Assemblée générale"
        assert doc["to"] == [PUBLIC] and doc["cc"] == [f"{ORG_ACTOR}/followers"]
    [activity] = activities()
    assert activity.object_uri == f"http://localhost/@collectif/news/{post.id}"
    assert "Signature" not in activity.payload  # signed when sent, not when planned
    assert [d.status for d in deliveries()] == ["done", "done"]


def test_a_large_fan_out_queues_two_jobs_and_reaches_each_inbox_once(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    for n in range(15):
        follower(peer, f"p{n}", cast.org, shared=False)
    make_post(cast.org, cast.people["editor"])
    assert jobs.pending_count() == delivery._starter_count() < 15

    run_jobs()

    paths = sorted(r.path for r in peer.received)
    assert paths == sorted(f"/users/p{n}/inbox" for n in range(15))
    assert {d.status for d in deliveries()} == {"done"}


def test_each_attempt_is_signed_afresh(app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.status = 500
    make_post(cast.org, cast.people["editor"])
    run_jobs()
    peer.status = 202
    [row] = deliveries()
    send(row.id)

    assert len(peer.received) == 2
    for received in peer.received:
        check_signed_by_org(received, peer, cast.org)
    assert deliveries()[0].status == "done"


def test_an_unlisted_post_goes_to_followers_with_public_in_cc(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    make_post(cast.org, cast.people["editor"], visibility="unlisted")
    run_jobs()

    doc = peer.received[0].doc
    assert doc["to"] == [f"{ORG_ACTOR}/followers"] and doc["cc"] == [PUBLIC]


def test_members_only_content_and_followerless_organisations_write_nothing(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    post = make_post(cast.org, cast.people["editor"], visibility="members")
    make_post(cast.other_org, cast.people["other_editor"])  # nobody follows it
    with app.test_request_context():
        posts.update_post(cast.people["editor"], post,
                          posts.PostDraft(title="Encore", visibility="members",
                                          status="published"))
        db.session.commit()
    run_jobs()

    assert activities() == [] and deliveries() == [] and peer.received == []


# -- answers --------------------------------------------------------------------------------


def test_gone_cancels_every_pending_delivery_to_that_inbox(
        app, cast, make_post, make_peer, run_jobs):
    gone, fine = make_peer(), make_peer()
    follower(gone, "ana", cast.org)
    follower(fine, "bob", cast.org)
    gone.status = 410
    make_post(cast.org, cast.people["editor"], "Un")
    make_post(cast.org, cast.people["editor"], "Deux")
    to_gone = deliveries(host=gone.host)
    assert len(to_gone) == 2

    send(to_gone[0].id)
    run_jobs()

    assert len(gone.received) == 1  # the second one is never tried
    assert [d.status for d in deliveries(host=gone.host)] == ["cancelled", "cancelled"]
    assert [d.status for d in deliveries(host=fine.host)] == ["done", "done"]
    assert len(fine.received) == 2

    # Nothing more is planned to that shared inbox: the next post goes to the fine one only.
    make_post(cast.org, cast.people["editor"], "Trois")
    run_jobs()
    assert len(deliveries(host=gone.host)) == 2 and len(gone.received) == 1
    assert len(fine.received) == 3


def _http_date_in(seconds: int) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize("status, retry_after", [
    (429, lambda: "120"),
    (503, lambda: _http_date_in(120)),  # computed when the test runs, not at collection
])
def test_retry_after_is_honoured_and_is_not_a_host_failure(
        app, cast, make_post, make_peer, run_jobs, status, retry_after):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.status, peer.headers = status, {"Retry-After": retry_after()}
    make_post(cast.org, cast.people["editor"])
    before = utcnow()
    run_jobs()

    [row] = deliveries()
    assert row.status == "pending" and row.last_error == f"HTTP {status}"
    wait = (row.next_attempt_at - before).total_seconds()
    assert 110 <= wait <= 125
    host = db.session.get(RemoteHost, peer.host)
    assert host is None or host.failures == 0


@pytest.mark.parametrize("retry_after", ["0", "past"])
def test_a_retry_after_in_the_past_still_waits_the_first_back_off_step(
        app, cast, make_post, make_peer, run_jobs, retry_after):
    # Regression: a past date made the row due at once, and draining the queue looped for
    # ever against a host answering 503.
    peer = make_peer()
    follower(peer, "ana", cast.org)
    value = _http_date_in(-600) if retry_after == "past" else retry_after
    peer.status, peer.headers = 503, {"Retry-After": value}
    make_post(cast.org, cast.people["editor"])
    before = utcnow()
    run_jobs()

    assert len(peer.received) == 1
    [row] = deliveries()
    assert row.status == "pending" and row.last_error == "HTTP 503"
    assert (row.next_attempt_at - before).total_seconds() >= 0.79 * 60


def test_back_off_grows_threefold_with_jitter_then_gives_up(
        app, cast, make_post, make_peer, run_jobs):
    app.config["HUB_DELIVERY_CIRCUIT_FAILURES"] = 100
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.status = 500
    make_post(cast.org, cast.people["editor"])
    [row] = deliveries()
    waits = []
    for _ in range(4):
        before = utcnow()
        send(row.id)
        waits.append((deliveries()[0].next_attempt_at - before).total_seconds())
    for minutes, wait in zip((1, 3, 9, 27), waits, strict=True):
        assert 0.79 * minutes * 60 <= wait <= 1.21 * minutes * 60 + 1
    assert db.session.get(RemoteHost, peer.host).failures == 4

    # Three days later, the last attempt fails for good and the host is unavailable.
    old = utcnow() - timedelta(hours=73)
    db.session.execute(Delivery.__table__.update().values(created_at=old))
    db.session.commit()
    send(row.id)
    final = deliveries()[0]
    assert final.status == "failed" and "gave up" in final.last_error
    assert db.session.get(RemoteHost, peer.host).unavailable_since is not None
    assert len(peer.received) == 5


def test_a_permanent_refusal_is_not_retried(app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.status = 401
    make_post(cast.org, cast.people["editor"])
    run_jobs()
    jobs.sweep(now=utcnow() + timedelta(days=2))
    run_jobs()

    [row] = deliveries()
    assert row.status == "failed" and "401" in row.last_error
    assert len(peer.received) == 1


def test_a_hanging_host_times_out_and_is_retried_later(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.hang = 3
    make_post(cast.org, cast.people["editor"])
    run_jobs()

    # Given up at the 1 s time-out, not after the 3 s hang (said by the error, not a clock:
    # the machines are shared and a wall-clock bound is flaky).
    [row] = deliveries()
    assert "timed out" in row.last_error.lower() or "timeout" in row.last_error.lower(), \
        row.last_error
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=40)
    assert db.session.get(RemoteHost, peer.host).failures == 1


def test_an_open_circuit_holds_every_delivery_then_lets_one_probe_through(
        app, cast, make_post, make_peer, run_jobs):
    app.config["HUB_DELIVERY_CIRCUIT_FAILURES"] = 2
    peer = make_peer()
    follower(peer, "ana", cast.org)
    peer.status = 500
    for title in ("Un", "Deux", "Trois", "Quatre", "Cinq"):
        make_post(cast.org, cast.people["editor"], title)
    ids = [row.id for row in deliveries()]
    send(ids[0])
    send(ids[1])  # the second failure in a row opens the circuit
    host = db.session.get(RemoteHost, peer.host)
    assert host.failures == 2 and host.circuit_open_until > utcnow()

    run_jobs()  # the queued jobs of the other deliveries
    jobs.sweep()
    run_jobs()
    for delivery_id in ids[2:]:
        send(delivery_id)
    assert len(peer.received) == 2  # nothing was attempted while open
    waiting = deliveries(status="pending")
    assert all(d.next_attempt_at >= host.circuit_open_until for d in waiting)
    assert [d.attempts for d in waiting[2:]] == [0, 0, 0]

    # The circuit closes: one probe goes; it fails, so the circuit opens again, longer.
    db.session.get(RemoteHost, peer.host).circuit_open_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for delivery_id in ids[2:]:
        send(delivery_id)
    assert len(peer.received) == 3
    host = db.session.get(RemoteHost, peer.host, populate_existing=True)
    assert host.failures == 3
    assert host.circuit_open_until > utcnow() + timedelta(seconds=100)

    # Next time the probe succeeds: the host is healthy and everything goes.
    peer.status = 202
    host.circuit_open_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    send(ids[2])
    host = db.session.get(RemoteHost, peer.host, populate_existing=True)
    assert (host.failures, host.circuit_open_until) == (0, None)
    jobs.sweep()
    run_jobs()
    assert [d.status for d in deliveries()] == ["done"] * 5
    assert len(peer.received) == 8


def test_the_sweeper_skips_hosts_behind_an_open_circuit(app, cast, make_post, make_peer):
    peer, other = make_peer(), make_peer()
    follower(peer, "ana", cast.org)
    follower(other, "bob", cast.org)
    make_post(cast.org, cast.people["editor"])
    db.session.add(RemoteHost(host=peer.host, failures=9,
                              circuit_open_until=utcnow() + timedelta(minutes=30)))
    db.session.commit()

    # Past the lease of the jobs queued at publication (they were lost, say).
    queued = list(delivery.due_deliveries(utcnow() + timedelta(minutes=6)))
    assert queued == [("deliver", (deliveries(host=other.host)[0].id,))]


# -- what content sends ---------------------------------------------------------------------


def test_a_deleted_post_cancels_its_pending_create_and_sends_a_delete(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    post = make_post(cast.org, cast.people["editor"])
    with app.test_request_context():
        posts.delete_post(cast.people["editor"], post)
        db.session.commit()
    run_jobs()

    create, delete = activities()
    assert (create.type, delete.type) == ("Create", "Delete")
    assert [d.status for d in deliveries(activity_id=create.id)] == ["cancelled"]
    [received] = peer.received
    doc = received.doc
    url = f"http://localhost/@collectif/news/{post.id}"
    assert doc["type"] == "Delete" and doc["actor"] == ORG_ACTOR
    assert doc["object"]["type"] == "Tombstone" and doc["object"]["id"] == url
    check_signed_by_org(received, peer, cast.org)


def test_edits_send_update_and_going_members_only_sends_delete(
        app, cast, make_post, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    post = make_post(cast.org, cast.people["editor"], "Avant")
    editor = cast.people["editor"]
    run_jobs()
    with app.test_request_context():
        posts.update_post(editor, post, posts.PostDraft(title="Après", status="published"))
        db.session.commit()
    run_jobs()
    with app.test_request_context():
        posts.update_post(editor, post, posts.PostDraft(title="Après", status="published",
                                                        visibility="members"))
        db.session.commit()
    run_jobs()

    assert [r.doc["type"] for r in peer.received] == ["Create", "Update", "Delete"]
    update = peer.received[1].doc
    assert update["object"]["name"] == "Après" and "updated" in update["object"]


def test_a_post_published_by_the_schedule_job_federates(
        app, cast, make_peer, run_jobs):
    peer = make_peer()
    follower(peer, "ana", cast.org)
    with app.test_request_context():
        post = posts.create_post(cast.people["editor"], cast.org, posts.PostDraft(
            title="Plus tard", status="scheduled", publish_date=date(2099, 1, 15),
            publish_time=clock(10, 0), timezone="UTC"))
        db.session.commit()
    run_jobs()
    assert activities() == [] and peer.received == []

    jobs.sweep(now=datetime(2099, 1, 15, 10, 1, tzinfo=UTC))
    run_jobs()

    assert db.session.get(Post, post.id, populate_existing=True).status == "published"
    [received] = peer.received
    assert received.doc["type"] == "Create"
    assert received.doc["object"]["name"] == "Plus tard"


def test_events_resources_and_public_comments_federate(
        app, cast, make_post, make_peer, run_jobs):
    from hub.content.comments.services import add_comment
    from hub.content.events.services import EventDraft, create_event
    from hub.content.resources.services import ResourceDraft, share_resource

    peer = make_peer()
    follower(peer, "ana", cast.org)
    post = make_post(cast.org, cast.people["editor"])
    member = cast.people["member"]
    with app.test_request_context():
        create_event(cast.people["editor"], cast.org, EventDraft(
            title="Pique-nique", start_date=date(2099, 6, 1), start_time=clock(12),
            end_date=date(2099, 6, 1), end_time=clock(15)))
        create_event(cast.people["editor"], cast.org, EventDraft(
            title="Réunion interne", start_date=date(2099, 6, 2), start_time=clock(12),
            end_date=date(2099, 6, 2), end_time=clock(15), visibility="members"))
        share_resource(member, cast.org, ResourceDraft(kind="note", title="Guide",
                                                       body="Le guide."))
        add_comment(member, "post", post, "Bravo !")
        db.session.commit()
    run_jobs()

    docs = [r.doc for r in peer.received]
    assert [(d["type"], d["object"]["type"]) for d in docs] == [
        ("Create", "Article"), ("Create", "Event"), ("Create", "Page"), ("Create", "Note")]
    note = docs[3]
    assert note["actor"] == "http://localhost/@the_member"
    assert note["object"]["inReplyTo"] == f"http://localhost/@collectif/news/{post.id}"
    assert f"{ORG_ACTOR}/followers" in note["cc"]
    public = key_pair("account", member.id).public_pem
    verified = verify_request("POST", peer.base + "/inbox", peer.received[3].headers,
                              peer.received[3].body, public, datetime.now(UTC))
    assert verified.key_id == "http://localhost/@the_member#main-key"


def test_moderation_withdrawal_sends_a_delete(app, cast, make_post, make_peer, run_jobs):
    from hub.federation.publishing import object_withdrawn

    peer = make_peer()
    follower(peer, "ana", cast.org)
    post = make_post(cast.org, cast.people["editor"])
    run_jobs()
    post.hidden_at = utcnow()
    object_withdrawn("post", post)
    db.session.commit()
    run_jobs()

    assert [r.doc["type"] for r in peer.received] == ["Create", "Delete"]


# -- the dashboard --------------------------------------------------------------------------


def test_the_dashboard_lists_failing_hosts_for_admins_only(app, client, cast):
    db.session.add(RemoteHost(host="dead.example", failures=7, last_error="HTTP 502",
                              circuit_open_until=utcnow() + timedelta(minutes=8)))
    db.session.commit()

    admin = client_for(app, cast.people["instance_admin"])
    page = admin.get("/admin/federation")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "dead.example" in text and "HTTP 502" in text
    assert 'href="/admin/federation"' in admin.get("/admin/").get_data(as_text=True)

    assert client_for(app, cast.people["owner"]).get("/admin/federation").status_code == 403
    anonymous = app.test_client().get("/admin/federation")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].endswith(login_redirect("/admin/federation"))


def test_the_ssrf_guard_refuses_private_inboxes_for_good(
        app, cast, make_post, make_peer, run_jobs):
    app.config["HUB_OUTBOUND_ALLOW_PRIVATE"] = False
    peer = make_peer()
    follower(peer, "ana", cast.org)
    make_post(cast.org, cast.people["editor"])
    run_jobs()

    [row] = deliveries()
    assert row.status == "failed" and "private address" in row.last_error
    assert peer.received == []


# -- mentions ------------------------------------------------------------------------------


def test_a_post_mentioning_known_actors_tags_them_and_reaches_the_remote_one(
        app, cast, make_post, make_peer, run_jobs):
    fan, elsewhere = make_peer(), make_peer()
    follower(fan, "ana", cast.org)
    # Known here (it wrote to us once) but following nobody: it gets the post all the same.
    zoe = RemoteActor(uri=f"{elsewhere.base}/users/zoe", handle="Zoe",
                      domain="social.example", inbox=f"{elsewhere.base}/users/zoe/inbox")
    db.session.add(zoe)
    db.session.commit()
    editor = cast.people["editor"]

    make_post(cast.org, editor, "Merci", body=f"Merci @zoe@social.example et "
              f"@{editor.handle}, pas @inconnu@nulle.example.")
    run_jobs()

    [create] = [r.doc for r in elsewhere.received]
    mentions = [t for t in create["object"]["tag"] if t["type"] == "Mention"]
    assert mentions == [
        {"type": "Mention", "href": zoe.uri, "name": "@Zoe@social.example"},
        {"type": "Mention", "href": f"http://localhost/@{editor.handle}",
         "name": f"@{editor.handle}@localhost"}]
    assert zoe.uri in create["object"]["cc"]
    assert len(fan.received) == 1  # the follower, once
