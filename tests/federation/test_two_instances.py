"""Two Maillage instances as real processes on loopback, each with its own database and
worker, federating over HTTP only: a person on beta follows an organisation on alpha
(Follow → signed delivery → verified inbox → Accept back), then alpha's new post reaches
beta's inbox, signed by the organisation and verified there, is kept as content from the
network (listed, searchable on beta), and its edit and deletion on alpha follow it there.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import func, select

from tests.plugins.instances import Instance, running_instance

pytestmark = [pytest.mark.slow]

AS = "application/activity+json"


def _seed_org(alpha: Instance) -> str:
    from hub.accounts.services import claim_handle
    from hub.extensions import db
    from tests.plugins.factories import _password_hash

    with alpha.app.app_context():
        from hub.accounts.models import Account
        from hub.models_base import utcnow
        from hub.orgs.services import OrgDraft, found_organisation

        typed, key = claim_handle("ada", "account")
        owner = Account(handle=typed, handle_key=key, email="ada@example.org",
                        password_hash=_password_hash(), security_stamp="s" * 32,
                        status="active", role="user", email_confirmed_at=utcnow(),
                        display_name="Ada")
        db.session.add(owner)
        db.session.flush()
        found_organisation(owner, "collectif", OrgDraft(name="Collectif Terre"))
        db.session.commit()
        db.session.remove()
    return f"{alpha.url}/@collectif"


def _seed_person(beta: Instance) -> int:
    from hub.accounts.models import Account
    from hub.accounts.services import claim_handle
    from hub.extensions import db
    from hub.models_base import utcnow
    from tests.plugins.factories import _password_hash

    with beta.app.app_context():
        typed, key = claim_handle("bea", "account")
        person = Account(handle=typed, handle_key=key, email="bea@example.org",
                         password_hash=_password_hash(), security_stamp="t" * 32,
                         status="active", role="user", email_confirmed_at=utcnow(),
                         display_name="Béa")
        db.session.add(person)
        db.session.commit()
        person_id = person.id
        db.session.remove()
    return person_id


def _get_json(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": AS})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_person_on_beta_follows_an_organisation_on_alpha_and_receives_its_post(tmp_path):
    with running_instance(tmp_path, "alpha") as alpha, \
            running_instance(tmp_path, "beta") as beta:
        org_uri = _seed_org(alpha)
        bea_id = _seed_person(beta)
        bea_uri = f"{beta.url}/@bea"

        # -- beta: Bea follows the organisation (the same service as the web form) -----------
        with beta.context():
            from hub.accounts.models import Account
            from hub.extensions import db
            from hub.federation.follows import follow_remote

            bea = db.session.get(Account, bea_id)
            follow_remote(bea, ("account", bea.id), org_uri)
            db.session.commit()
            db.session.remove()

        # -- alpha verifies, records the follower and answers Accept ---------------------------
        from hub.federation.models import Activity, Follow, RemoteActor

        def alpha_follower():
            from hub.extensions import db

            return db.session.execute(
                select(Follow.status, RemoteActor.uri)
                .join(RemoteActor, RemoteActor.id == Follow.follower_id)
                .where(Follow.follower_type == "remote", Follow.status == "accepted")).first()

        status, uri = alpha.wait_for(alpha_follower)
        assert (status, uri) == ("accepted", bea_uri)

        def beta_accepted():
            from hub.extensions import db

            return db.session.scalar(select(Follow.status).where(
                Follow.follower_type == "account", Follow.follower_id == bea_id,
                Follow.status == "accepted"))

        assert beta.wait_for(beta_accepted) == "accepted"
        followers = _get_json(f"{org_uri}/followers")
        assert followers["totalItems"] == 1
        page = followers.get("first")
        items = (_get_json(page) if isinstance(page, str) else page or {}).get(
            "orderedItems", followers.get("orderedItems", []))
        assert bea_uri in items

        # -- alpha publishes a post: it reaches beta's inbox, signed and verified ---------------
        with alpha.context():
            from hub.accounts.models import Account
            from hub.content.posts.services import PostDraft, create_post
            from hub.extensions import db
            from hub.orgs.models import Organisation

            org = db.session.scalar(select(Organisation).where(
                Organisation.handle == "collectif"))
            ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
            post = create_post(ada, org, PostDraft(title="Assemblée générale le 12",
                                                   body="Venez **nombreux**.",
                                                   status="published"))
            db.session.commit()
            post_uri = f"{org_uri}/news/{post.id}"
            post_id = post.id
            db.session.remove()

        def beta_received():
            from hub.extensions import db

            return db.session.scalar(select(Activity).where(
                Activity.direction == "in", Activity.type == "Create",
                Activity.object_uri == post_uri))

        def deliveries():
            from hub.extensions import db
            from hub.federation.models import Delivery

            with alpha.app.app_context():
                rows = db.session.execute(select(
                    Delivery.inbox, Delivery.status, Delivery.attempts, Delivery.last_error,
                    Activity.type)
                    .join(Activity, Activity.id == Delivery.activity_id)).all()
                db.session.remove()
            with beta.app.app_context():
                seen = db.session.execute(select(Activity.type, Activity.object_uri,
                                                 Activity.status)).all()
                db.session.remove()
            return f"alpha deliveries: {rows}\nbeta activities: {seen}"

        try:
            received = beta.wait_for(beta_received, timeout=20)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{deliveries()}") from None
        document = json.loads(received.payload)
        assert document["actor"] == org_uri
        assert document["object"]["name"] == "Assemblée générale le 12"

        # -- beta keeps it: listed, searchable, then edited and deleted by its origin ----------
        from hub.federation.models import RemoteObject

        def beta_kept(name: str):
            def check():
                from hub.extensions import db

                return db.session.scalar(select(RemoteObject.id).where(
                    RemoteObject.uri == post_uri, RemoteObject.name == name))
            return check

        try:
            kept_id = beta.wait_for(beta_kept("Assemblée générale le 12"), timeout=20)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{deliveries()}") from None
        with urllib.request.urlopen(f"{beta.url}/search?q=assemblee", timeout=10) as response:
            assert f"/network/{kept_id}" in response.read().decode()
        with urllib.request.urlopen(f"{beta.url}/network/{kept_id}", timeout=10) as response:
            page = response.read().decode()
        assert "Collectif Terre" in page and "<strong>nombreux</strong>" in page

        # -- Bea replies from beta: the reply is a comment of the post on alpha ----------------
        with beta.context():
            from hub.accounts.models import Account
            from hub.extensions import db
            from hub.federation.network_replies import add_reply

            bea = db.session.get(Account, bea_id)
            add_reply(bea, db.session.get(RemoteObject, kept_id), "J'y serai, *avec* le vélo.")
            db.session.commit()
            db.session.remove()

        from hub.content.models import Comment

        def alpha_comment():
            from hub.extensions import db

            return db.session.scalar(select(Comment.body_html).where(
                Comment.target_type == "post", Comment.target_id == post_id,
                Comment.remote_actor_id.is_not(None)))

        try:
            body = alpha.wait_for(alpha_comment, timeout=20)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{deliveries()}") from None
        assert "<em>avec</em>" in body
        with urllib.request.urlopen(f"{org_uri}/news/{post_id}", timeout=10) as response:
            assert "@bea@127.0.0.1" in response.read().decode()

        with alpha.context():
            from hub.content.models import Post
            from hub.content.posts.services import delete_post, update_post
            from hub.extensions import db

            ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
            row = db.session.get(Post, post_id)
            update_post(ada, row, PostDraft(title="Assemblée générale le 13",
                                            body="Venez **nombreux**.", status="published"))
            db.session.commit()
            db.session.remove()
        beta.wait_for(beta_kept("Assemblée générale le 13"), timeout=20)

        with alpha.context():
            from hub.extensions import db

            ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
            delete_post(ada, db.session.get(Post, post_id))
            db.session.commit()
            db.session.remove()

        def beta_forgot():
            from hub.extensions import db

            return db.session.scalar(select(RemoteObject.id).where(
                RemoteObject.uri == post_uri)) is None or None
        assert beta.wait_for(beta_forgot, timeout=20)

        # -- alpha blocks beta's domain: nothing more flows, either way -------------------------
        beta_host = beta.url.removeprefix("http://")
        with alpha.context():
            from hub.extensions import db
            from hub.federation.policies import set_policy

            set_policy(None, beta_host, "block", public_reason="test")
            db.session.commit()
            ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
            org = db.session.scalar(select(Organisation).where(
                Organisation.handle == "collectif"))
            create_post(ada, org, PostDraft(title="Après le blocage", body="Rien ne part.",
                                            status="published"))
            db.session.commit()
            db.session.remove()

        def alpha_followers():
            from hub.extensions import db

            return db.session.scalar(select(func.count(Follow.id)).where(
                Follow.follower_type == "remote"))

        assert alpha.wait_for(lambda: alpha_followers() == 0 or None, timeout=5)
        # A signed activity from beta is refused at alpha's door.
        from hub.federation.keys import key_pair
        from hub.federation.signatures import SignedAuth

        with beta.app.app_context():
            from hub.extensions import db

            key = key_pair("account", bea_id).private_key
            db.session.remove()
        activity = {"@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{bea_uri}#like-1", "type": "Like", "actor": bea_uri,
                    "object": org_uri}
        import time

        import requests

        from hub.federation.policies import CACHE_SECONDS

        time.sleep(CACHE_SECONDS + 0.5)  # alpha's processes read the policies again by then
        refused = requests.post(f"{alpha.url}/inbox", json=activity,
                                headers={"Content-Type": AS},
                                auth=SignedAuth(f"{bea_uri}#main-key", key), timeout=10)
        assert refused.status_code == 403
        with beta.app.app_context():
            from hub.extensions import db

            assert db.session.scalar(select(Activity.id).where(
                Activity.direction == "in", Activity.payload.contains("Après le blocage"))) \
                is None
            db.session.remove()


def test_an_organisation_on_beta_subscribes_to_alphas_whole_catalogue(tmp_path):
    """Following alpha's instance actor brings every organisation's resources to beta."""
    with running_instance(tmp_path, "alpha") as alpha, \
            running_instance(tmp_path, "beta") as beta:
        _seed_org(alpha)
        bea_id = _seed_person(beta)
        with beta.context():
            from hub.accounts.models import Account
            from hub.extensions import db
            from hub.federation.follows import follow_remote
            from hub.orgs.services import OrgDraft, found_organisation

            bea = db.session.get(Account, bea_id)
            veille = found_organisation(bea, "veille", OrgDraft(name="Veille commune"))
            db.session.commit()
            follow_remote(bea, ("organisation", veille.id), f"{alpha.url}/actor")
            db.session.commit()
            db.session.remove()

        from hub.federation.models import Follow, RemoteObject

        try:
            beta.wait_for(lambda: _accepted(Follow))
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nalpha:\n{alpha.log.read_text()[-4000:]}") from None
        with alpha.context():
            from hub.accounts.models import Account
            from hub.content.resources.services import ResourceDraft, share_resource
            from hub.extensions import db
            from hub.orgs.models import Organisation

            org = db.session.scalar(select(Organisation).where(
                Organisation.handle == "collectif"))
            ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
            share_resource(ada, org, ResourceDraft(kind="note", title="Guide du compost",
                                                   body="Tout sur le compost.",
                                                   language="fr", licence="cc-by"))
            db.session.commit()
            db.session.remove()

        def kept():
            from hub.extensions import db

            return db.session.scalar(select(RemoteObject).where(
                RemoteObject.name == "Guide du compost"))

        row = beta.wait_for(kept, timeout=20)
        assert row.kind == "resource"


def _accepted(follow_model):
    from hub.extensions import db

    return db.session.scalar(select(follow_model.id).where(
        follow_model.follower_type == "organisation", follow_model.status == "accepted"))
