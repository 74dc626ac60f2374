"""The inbox under load, as a busy peer network drives it: many signed POSTs at once from
an actor never seen (its key is fetched once), forged signatures (refused, nothing
written, the key not fetched again and again), and a backlog processed in batches (every
activity once, by a handful of jobs instead of one per activity).

The remote server is ``serve_peer``: a stand-in for a real instance, on loopback, which
serves the actor documents and counts every GET (each one is a key fetch).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from hub.extensions import db
from hub.federation import inbox
from hub.federation.models import Activity, RemoteActor
from tests.integration.inbox_support import (
    ALICE_KEY,
    ORG,
    OTHER_KEY,
    activity,
    post,
    row,
    stored,
)


def _post_at_once(app, docs: list[dict], **kwargs) -> list[int]:
    """Every POST from its own thread, released together (as a peer's delivery workers)."""
    start = threading.Barrier(len(docs))
    statuses: list[int] = []

    def send(doc: dict) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(post(client, "/inbox", doc, **kwargs).status_code)

    threads = [threading.Thread(target=send, args=(doc,)) for doc in docs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_concurrent_posts_from_an_unknown_actor_fetch_its_key_once(app, org, peer):
    stranger = peer.actor("stranger")
    peer.delay = 0.3  # a slow origin: every request arrives while the first fetch runs
    docs = [activity(stranger, "Like", obj=f"{ORG}/news/{n}") for n in range(8)]

    statuses = _post_at_once(app, docs)

    assert statuses == [202] * 8
    assert peer.fetches.count("/users/stranger") == 1
    db.session.expire_all()
    assert stored() == 8
    assert db.session.scalar(select(func.count(RemoteActor.id))
                             .where(RemoteActor.uri == stranger)) == 1


def test_concurrent_forged_posts_are_refused_and_write_nothing(app, org, peer, client):
    alice = peer.actor("alice")
    assert post(client, "/inbox", activity(alice)).status_code == 202  # alice is known
    fetched_at = db.session.scalar(select(RemoteActor.fetched_at)
                                   .where(RemoteActor.uri == alice))
    before, fetches = stored(), len(peer.fetches)

    statuses = _post_at_once(app, [activity(alice) for _ in range(6)], key=OTHER_KEY)

    assert statuses == [401] * 6
    db.session.expire_all()
    assert stored() == before
    assert db.session.scalar(select(RemoteActor.fetched_at)
                             .where(RemoteActor.uri == alice)) == fetched_at
    # One look for a rotated key; the same key found, the next forgeries cost no fetch.
    assert len(peer.fetches) == fetches + 1
    assert post(client, "/inbox", activity(alice), key=OTHER_KEY).status_code == 401
    assert len(peer.fetches) == fetches + 1


def test_a_backlog_is_processed_in_batches_each_activity_once(client, org, peer, run_jobs):
    alice = peer.actor("alice")
    count = inbox.BATCH_SIZE * 2 + 7
    docs = [activity(alice, "Like", obj=f"{ORG}/news/{n}") for n in range(count)]
    for doc in docs:
        assert post(client, "/inbox", doc).status_code == 202

    jobs_run = run_jobs()

    rows = db.session.scalars(select(Activity).where(Activity.direction == "in")).all()
    assert len(rows) == count
    assert {r.status for r in rows} == {"ignored"}  # a like of nothing kept here
    assert {r.attempts for r in rows} == {1}
    assert jobs_run < 5  # a batch job, not one job per activity


def test_a_batch_leaves_alone_what_another_worker_holds(client, org, peer, run_jobs):
    alice = peer.actor("alice")
    held, free = activity(alice, "Bite"), activity(alice, "Bite")
    post(client, "/inbox", held)
    post(client, "/inbox", free)
    db.session.execute(update(Activity).where(Activity.uri == held["id"]).values(
        locked_until=datetime.now(UTC) + timedelta(minutes=5)))
    db.session.commit()

    run_jobs()

    assert row(free["id"]).status == "ignored"
    assert row(held["id"]).status == "pending"
    # Its lease over (the worker died), the sweep queues a batch that takes it.
    from hub.jobs import jobs

    jobs.sweep(datetime.now(UTC) + timedelta(minutes=6))
    run_jobs()
    assert row(held["id"]).status == "ignored"
    assert row(held["id"]).attempts == 1


def test_a_duplicate_posted_at_once_is_stored_once(app, org, peer, client):
    alice = peer.actor("alice")
    assert post(client, "/inbox", activity(alice)).status_code == 202
    doc = activity(alice, "Like", obj=f"{ORG}/news/1")

    statuses = _post_at_once(app, [doc] * 5)

    assert statuses == [202] * 5
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Activity.id))
                             .where(Activity.uri == doc["id"])) == 1


def test_the_signer_of_a_fetched_key_is_kept_only_when_the_signature_holds(client, org, peer):
    stranger = peer.actor("stranger", ALICE_KEY)

    response = post(client, "/inbox", activity(stranger), key=OTHER_KEY)

    assert response.status_code == 401
    assert db.session.scalar(select(RemoteActor.id).where(RemoteActor.uri == stranger)) is None


def test_the_backlog_waits_while_deliveries_are_sent_but_is_never_starved(
        client, org, peer, run_jobs, monkeypatch):
    """While this process sends deliveries (a local post's fan-out), the inbox batch steps
    aside; a pump that never stops does not hold the backlog longer than the bound."""
    alice = peer.actor("alice")
    for n in range(3):
        doc = activity(alice, "Like", obj=f"{ORG}/news/{n}")
        assert post(client, "/inbox", doc).status_code == 202
    checks = {"busy": 0}

    def busy_for_a_while() -> bool:
        checks["busy"] += 1
        return checks["busy"] <= 4  # the fan-out is under way for the first four looks

    monkeypatch.setattr(inbox, "delivery_busy", busy_for_a_while)
    run_jobs()
    statuses = db.session.scalars(select(Activity.status).where(Activity.direction == "in"))
    assert set(statuses) == {"ignored"}
    assert checks["busy"] > 4  # it looked, waited while busy, then went on

    # Busy for ever: the batch still goes through once its bound is spent.
    monkeypatch.setattr(inbox, "delivery_busy", lambda: True)
    monkeypatch.setattr(inbox, "YIELD_SECONDS", 0.05)
    post(client, "/inbox", activity(alice, "Like", obj=f"{ORG}/news/late"))
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.direction == "in", Activity.status == "pending")) == 0
