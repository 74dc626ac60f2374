"""Outbound delivery under load: a hanging host does not hold the send slots of the healthy
ones, a host never gets more than a few sends at once, and delivery jobs are taken from the
queue before a backlog of other jobs. Counts requests and rows, never a clock."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from hub.extensions import db
from hub.federation import delivery
from hub.federation.models import Delivery, Follow, RemoteActor
from hub.jobs import jobs
from hub.models_base import utcnow
from tests.integration import posts_support

cast = posts_support.cast
make_post = posts_support.make_post


@pytest.fixture
def app(make_app):
    """One active send slot (HUB_WORKER_THREADS = 1), and a time-out far longer than any
    test: a hanging peer is released by the test, never by the time-out."""
    app = make_app(HUB_WORKER_THREADS=1, HUB_DELIVERY_TIMEOUT=60)
    with app.app_context():
        yield app
        db.session.remove()


class Peer:
    """A loopback server counting POSTs; when ``hang`` it holds every answer until
    ``release`` is set, and records the most requests it held at once."""

    def __init__(self, hang: bool = False) -> None:
        self.hang = hang
        self.release = threading.Event()
        self.paths: list[str] = []
        self.holding = 0
        self.most_held = 0
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with peer.lock:
                    peer.paths.append(self.path)
                    peer.holding += 1
                    peer.most_held = max(peer.most_held, peer.holding)
                if peer.hang:
                    peer.release.wait(30)
                with peer.lock:
                    peer.holding -= 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peers():
    made: list[Peer] = []

    def factory(hang: bool = False) -> Peer:
        made.append(Peer(hang))
        return made[-1]

    yield factory
    for peer in made:
        peer.close()


def follow(peer: Peer, name: str, org, *, shared: bool) -> None:
    host = peer.base.removeprefix("http://")
    actor = RemoteActor(uri=f"{peer.base}/users/{name}", handle=name, domain=host,
                        inbox=f"{peer.base}/users/{name}/inbox",
                        shared_inbox=f"{peer.base}/inbox" if shared else "")
    db.session.add(actor)
    db.session.flush()
    db.session.add(Follow(follower_type="remote", follower_id=actor.id,
                          followed_type="organisation", followed_id=org.id,
                          status="accepted", activity_uri=f"{actor.uri}/follows/{org.id}"))
    db.session.commit()


def rows() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def all_due() -> None:
    """As if the jobs queued at publication were lost: every row is due, the queue empty
    (the pump is then started by hand)."""
    jobs.huey.flush()
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    db.session.commit()


def pump_in_background(app, first_id: int) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                delivery.deliver(first_id)
                db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_hanging_host_does_not_hold_the_healthy_hosts_deliveries(app, cast, make_post,
                                                                   peers):
    hanging = peers(hang=True)
    follow(hanging, "stuck", cast.org, shared=True)
    healthy = [peers() for _ in range(6)]
    for n, peer in enumerate(healthy):
        follow(peer, f"ok{n}", cast.org, shared=True)
    make_post(cast.org, cast.people["editor"])
    all_due()
    [stuck] = [row for row in rows() if row.inbox.startswith(hanging.base)]

    # The hanging host's delivery goes first, into the only active slot.
    thread = pump_in_background(app, stuck.id)
    for peer in healthy:
        got = threading.Event()
        for _ in range(400):
            if peer.paths:
                got.set()
                break
            hanging.release.wait(0.05)
        assert got.is_set(), "a healthy host waited behind the hanging one"
    # Every healthy host got the post while the hanging one still held its request.
    assert hanging.holding == 1 and not hanging.release.is_set()
    hanging.release.set()
    thread.join(30)
    assert not thread.is_alive()
    assert [r.status for r in rows()] == ["done"] * 7
    assert all(peer.paths == ["/inbox"] for peer in healthy + [hanging])


def test_a_host_never_gets_more_than_its_share_of_sends_at_once(app, cast, make_post,
                                                                peers):
    app.config["HUB_WORKER_THREADS"] = 8
    hanging = peers(hang=True)
    for n in range(6):
        follow(hanging, f"p{n}", cast.org, shared=False)
    other = peers()
    follow(other, "ok", cast.org, shared=True)
    make_post(cast.org, cast.people["editor"])
    all_due()
    [first, *_] = rows()

    thread = pump_in_background(app, first.id)
    for _ in range(400):
        if other.paths and len(hanging.paths) >= delivery.HOST_CONCURRENCY:
            break
        hanging.release.wait(0.05)
    assert other.paths == ["/inbox"]
    assert len(hanging.paths) == hanging.most_held == delivery.HOST_CONCURRENCY
    hanging.release.set()
    thread.join(30)
    assert not thread.is_alive()
    assert hanging.most_held == delivery.HOST_CONCURRENCY
    assert sorted(hanging.paths) == sorted(f"/users/p{n}/inbox" for n in range(6))
    assert {r.status for r in rows()} == {"done"}


def test_delivery_jobs_are_taken_before_a_backlog_of_inbox_jobs(app):
    jobs.huey.flush()
    for n in range(20):
        jobs.enqueue("process_activity", 100_000 + n)
    jobs.enqueue("deliver", 123)
    task = jobs.huey.dequeue()
    assert task.name == "deliver" and task.args == (123,)
    assert jobs.pending_count() == 20
    jobs.huey.flush()
