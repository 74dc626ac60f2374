"""Domain policies as federation applies them, both ways: a blocked domain's requests are
refused before any key fetch (403, nothing stored), nothing is delivered or fetched there,
and a new block removes its follows, content and pending deliveries; "limit" keeps its
content unlisted; "reject media" keeps no attachment. Managed by instance admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.content.models import Comment
from hub.extensions import db
from hub.federation.models import Delivery, Follow, RemoteActor, RemoteObject
from hub.federation.policies import forget_cache, refuses_domain, rule_for, set_policy
from hub.moderation.models import DomainPolicy
from tests.integration.content_rows import make_post
from tests.integration.inbox_support import activity, post, serve_peer, stored
from tests.integration.test_remote_content import article, follow, note, post_url, send


@pytest.fixture
def peer():
    with serve_peer() as server:
        yield server


@pytest.fixture
def org(make_org, make_account):
    return make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")


@pytest.fixture
def alice(peer) -> str:
    return peer.actor("alice")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def admin(make_account):
    return make_account("chief", role="admin")


def block(domain: str = "127.0.0.1", severity: str = "block", **kw) -> None:
    set_policy(None, domain, severity, **kw)
    db.session.commit()


def test_a_policy_covers_subdomains_and_ports(app):
    block("example.org")
    assert refuses_domain("example.org") and refuses_domain("social.example.org")
    assert refuses_domain("example.org:8443")
    assert not refuses_domain("example.com") and not refuses_domain("notexample.org")
    block("127.0.0.1", "limit")
    assert rule_for("127.0.0.1:8766").severity == "limit"


def test_a_blocked_domain_is_refused_at_the_inbox_without_a_key_fetch(
        client, org, alice, peer):
    block()
    before, fetched = stored(), len(peer.fetches)

    response = post(client, "/inbox", activity(alice))

    assert response.status_code == 403 and "blocked" in response.get_json()["error"]
    assert stored() == before and len(peer.fetches) == fetched
    assert db.session.scalar(select(func.count(RemoteActor.id))) == 0


def test_a_block_removes_follows_content_replies_and_pending_deliveries(
        client, org, alice, peer, run_jobs, make_account):
    # Alice follows the organisation, the organisation follows Alice, her content is here.
    post(client, "/inbox", activity(alice))
    run_jobs()
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet)))
    peer.received.clear()
    from hub.content.posts.services import PostDraft, create_post

    create_post(org_owner(org), org, PostDraft(title="Après", body="x", status="published"))
    db.session.commit()  # a delivery to Alice's server is pending (not run yet)
    assert db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status == "pending")) == 1

    block()

    assert db.session.scalar(select(func.count(Follow.id))) == 0
    assert db.session.scalar(select(func.count(RemoteObject.id))) == 0
    assert db.session.scalar(select(Comment.deleted_at)) is not None
    assert db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status == "pending")) == 0
    run_jobs()
    assert peer.received == []


def org_owner(org):
    from hub.accounts.models import Account
    from hub.orgs.models import Membership

    return db.session.scalar(select(Account).join(Membership).where(
        Membership.org_id == org.id, Membership.role == "owner"))


def test_nothing_is_delivered_or_fetched_to_a_blocked_domain(app, org, alice, peer, run_jobs):
    from hub.errors import FetchError
    from hub.federation.delivery import publish
    from hub.federation.remote_actors import signed_get

    block()
    publish(("organisation", org.id), {"id": "http://localhost/activities/x", "type": "Create",
                                       "actor": "http://localhost/@collectif"},
            [f"{peer.base}/inbox"])
    db.session.commit()
    run_jobs()
    assert peer.received == [] and db.session.scalar(select(func.count(Delivery.id))) == 0
    with pytest.raises(FetchError, match="blocked"):
        signed_get(alice)
    assert peer.fetches == []


def test_following_someone_on_a_blocked_domain_is_refused(client, org, alice, login):
    block()
    login(org_owner(org))
    response = client.post(f"/@{org.handle}/network/follow", data={"address": alice})
    assert response.status_code in (400, 502)
    assert "does not federate" in response.get_data(as_text=True) or \
        "blocked" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_limit_keeps_content_unlisted_and_reject_media_drops_attachments(
        client, org, alice, run_jobs):
    follow(org, alice)
    block(severity="limit", reject_media=True)
    forget_cache()
    doc = article(alice, attachment=[{"type": "Document", "mediaType": "application/pdf",
                                      "url": f"{alice}/rapport.pdf", "name": "Rapport"}])

    send(client, run_jobs, alice, "Create", doc)

    kept = db.session.scalar(select(RemoteObject))
    assert kept.visibility == "unlisted" and kept.attachments == "[]"
    assert doc["name"] not in client.get("/network").get_data(as_text=True)
    assert client.get(f"/network/{kept.id}").status_code == 200


def test_only_instance_admins_manage_policies(client, make_account, admin, login):
    login(make_account("someone"))
    assert client.get("/admin/federation/domains").status_code == 403
    assert client.post("/admin/federation/domains",
                       data={"domain": "spam.example", "severity": "block"}).status_code == 403
    assert db.session.scalar(select(func.count(DomainPolicy.id))) == 0


def test_an_admin_blocks_and_unblocks_a_domain_and_it_is_logged(client, admin, login):
    login(admin)
    response = client.post("/admin/federation/domains", data={
        "domain": "https://Spam.Example/", "severity": "block",
        "public_reason": "Spam", "private_note": "reports 12, 14"})
    assert response.status_code == 302
    row = db.session.scalar(select(DomainPolicy))
    assert (row.domain, row.severity, row.public_reason) == ("spam.example", "block", "Spam")
    page = client.get("/admin/federation/domains").get_data(as_text=True)
    assert "spam.example" in page and "reports 12, 14" in page
    assert "set a domain policy" in client.get("/admin/log").get_data(as_text=True)

    bad = client.post("/admin/federation/domains", data={"domain": "not a domain",
                                                         "severity": "block"})
    assert bad.status_code == 400 and "Give a domain name" in bad.get_data(as_text=True)
    assert client.post("/admin/federation/domains/spam.example/delete",
                       data={}).status_code == 302
    assert db.session.scalar(select(func.count(DomainPolicy.id))) == 0
