"""A hub killed with SIGKILL in the middle of a fan-out loses nothing: after its restart,
every follower's inbox gets the post, at most a few twice (those in flight at the kill).

Alpha is a real ``maillage run`` process (web and worker in one, the default); its
followers are beta (another real instance) and forty remote actors whose inboxes are a
slow HTTP server on loopback (each POST answered after 0.2 s, so the kill lands mid-way).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from tests.federation.test_two_instances import _seed_org, _seed_person
from tests.plugins.instances import restart_worker, running_instance

pytestmark = [pytest.mark.slow]

FOLLOWERS = 40
#: Concurrent sends a worker may have in flight (its threads): duplicates are bounded by it.
IN_FLIGHT = 8


class SlowInboxes:
    """Inboxes that take 0.2 s to answer and count what they receive, per path."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                time.sleep(0.2)
                with lock:
                    owner.received[self.path] += 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _seed_followers(alpha, inboxes: SlowInboxes) -> None:
    from hub.extensions import db
    from hub.federation.models import Follow, RemoteActor
    from hub.orgs.models import Organisation

    with alpha.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.handle == "collectif"))
        for n in range(FOLLOWERS):
            actor = RemoteActor(uri=f"{inboxes.base}/users/{n}", domain=inboxes.base[7:],
                                handle=f"u{n}", inbox=f"{inboxes.base}/users/{n}/inbox")
            db.session.add(actor)
            db.session.flush()
            db.session.add(Follow(follower_type="remote", follower_id=actor.id,
                                  followed_type="organisation", followed_id=org.id,
                                  status="accepted"))
        db.session.commit()
        db.session.remove()


def test_a_fan_out_survives_a_sigkill_of_the_hub(tmp_path):
    inboxes = SlowInboxes()
    try:
        with running_instance(tmp_path, "alpha", HUB_JOB_LEASE_SECONDS="3") as alpha, \
                running_instance(tmp_path, "beta") as beta:
            org_uri = _seed_org(alpha)
            bea_id = _seed_person(beta)
            with beta.context():
                from hub.accounts.models import Account
                from hub.extensions import db
                from hub.federation.follows import follow_remote

                follow_remote(db.session.get(Account, bea_id), ("account", bea_id), org_uri)
                db.session.commit()
            from hub.federation.models import Activity, Delivery, Follow, RemoteObject

            alpha.wait_for(lambda: _count(Follow, Follow.follower_type == "remote"))
            _seed_followers(alpha, inboxes)

            with alpha.context():
                from hub.content.posts.services import PostDraft, create_post
                from hub.orgs.models import Organisation

                org = db.session.scalar(select(Organisation).where(
                    Organisation.handle == "collectif"))
                ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
                post = create_post(ada, org, PostDraft(title="Survivre au crash",
                                                       body="Tout arrive.",
                                                       status="published"))
                db.session.commit()
                post_uri = f"{org_uri}/news/{post.id}"

            # Kill the hub once a few deliveries are through, well before the end.
            deadline = time.monotonic() + 30
            while sum(inboxes.received.values()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            restart_at = sum(inboxes.received.values())
            assert 0 < restart_at < FOLLOWERS, restart_at
            assert alpha.proc is not None
            alpha.proc.kill()
            alpha.proc.wait(5)
            time.sleep(2)
            restart_worker(alpha, kill=False)

            def all_done():
                # The post's Create only (the Accept of Bea's follow is a delivery too).
                create = select(Activity.id).where(Activity.direction == "out",
                                                   Activity.type == "Create",
                                                   Activity.object_uri == post_uri)
                return _count(Delivery, Delivery.status == "done",
                              Delivery.activity_id.in_(create)) == FOLLOWERS + 1 or None

            alpha.wait_for(all_done, timeout=60)
            assert len(inboxes.received) == FOLLOWERS  # every inbox, at least once
            duplicates = sum(count - 1 for count in inboxes.received.values())
            assert duplicates <= IN_FLIGHT, inboxes.received
            assert beta.wait_for(lambda: _count(Activity, Activity.object_uri == post_uri))
            assert beta.wait_for(lambda: _count(RemoteObject, RemoteObject.uri == post_uri))
    finally:
        inboxes.close()


def _count(model, *conditions) -> int:
    from hub.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))
