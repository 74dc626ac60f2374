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
from tests.integration.inbox_support import activity, post, stored
from tests.integration.test_remote_content import article, follow, note, post_url, send


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


# -- shared block lists: Mastodon's CSV ------------------------------------------------------

MASTODON_HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"


def policies() -> set[tuple]:
    db.session.expire_all()
    return {(p.domain, p.severity, p.reject_media, p.public_reason)
            for p in db.session.scalars(select(DomainPolicy))}


def upload(client, data: bytes, name: str = "domain_blocks.csv"):
    # The multipart body is built by hand: the test client would spool a large file to a
    # temporary file that it never closes (a ResourceWarning in a later test).
    boundary = "hubtestboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{client.csrf_token()}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/admin/federation/domains/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def logged(action: str = "domain.policy") -> int:
    from hub.admin.models import AdminAction

    return db.session.scalar(select(func.count(AdminAction.id)).where(
        AdminAction.action == action))


def test_the_export_is_mastodons_csv_without_private_notes(client, admin, login):
    block("spam.example", public_reason="Spam, \"ads\"", private_note="SECRET")
    block("pics.example", "reject_media")
    block("loud.example", "limit", reject_media=True, public_reason="=HYPERLINK(\"x\")")
    block("friends.example", "allow", private_note="SECRET")
    login(admin)

    response = client.get("/admin/federation/domains.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    lines = text.splitlines()
    assert lines[0] == MASTODON_HEADER
    assert "loud.example,silence,true,false,\"'=HYPERLINK(\"\"x\"\")\",false" in lines
    assert "pics.example,noop,true,false,,false" in lines
    assert 'spam.example,suspend,false,false,"Spam, ""ads""",false' in lines
    assert "SECRET" not in text and "friends.example" not in text


def test_an_exported_list_imported_into_a_clean_instance_gives_the_same_policies(
        client, admin, login):
    block("spam.example", public_reason="Spam, \"ads\"\nand more, été")
    block("pics.example", "reject_media")
    block("loud.example", "limit", reject_media=True, public_reason="=1+1")
    block("quiet.example", "limit", public_reason="-")
    before = policies()
    login(admin)
    exported = client.get("/admin/federation/domains.csv").get_data()
    db.session.execute(DomainPolicy.__table__.delete())
    db.session.commit()

    response = upload(client, exported)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Added: 4. Updated: 0. Lines refused: 0." in response.get_data(as_text=True)
    assert policies() == before
    assert logged() == 4


def test_an_import_applies_valid_rows_and_reports_bad_ones_by_line(client, admin, login):
    block("known.example", "limit", public_reason="Old", private_note="kept note")
    login(admin)
    data = "\n".join([
        MASTODON_HEADER,
        "known.example,suspend,false,false,Now blocked,false",
        "not a domain,suspend,false,false,,false",
        "odd.example,obliterate,false,false,,false",
        "*.wild.example,silence,true,false,Wild,true",
        "<script>.example,suspend,false,false,,false",
        "media.example,noop,maybe,false,,false",
        "known.example,silence,false,false,Twice,false",
    ]).encode()

    response = upload(client, data)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Added: 1. Updated: 1. Lines refused: 5." in page
    assert "Line 3:" in page and "not a domain" in page
    assert "Line 4:" in page and "obliterate" in page
    assert "Line 6:" in page and "&lt;script&gt;" in page and "<script>.example" not in page
    assert "Line 7:" in page and "Line 8:" in page
    assert policies() == {("known.example", "block", False, "Now blocked"),
                          ("wild.example", "limit", True, "Wild")}
    assert db.session.scalar(select(DomainPolicy.private_note).where(
        DomainPolicy.domain == "known.example")) == "kept note"
    assert logged() == 2


def test_a_plain_list_of_domains_is_read_as_blocks(client, admin, login):
    login(admin)
    response = upload(client, b"# shared by a friendly association\r\nspam.example\r\n\r\n"
                              b"Bad.Example.\r\nxn--bb-bjab.fr\r\n", name="list.txt")
    assert response.status_code == 200
    assert policies() == {("spam.example", "block", False, ""),
                          ("bad.example", "block", False, ""),
                          ("xn--bb-bjab.fr", "block", False, "")}


@pytest.mark.parametrize(("data", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (b"\xff\xfe\xfa bad.example", "not UTF-8"),
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"name,email\nAlice,alice@example.org\n", "no column named domain"),
    (b"spam.example\n" * 90_000, "larger than 1 MB"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(client, admin, login, data, message):
    login(admin)
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert policies() == set() and logged() == 0


def test_an_import_needs_a_file_and_the_forms_token(client, admin, login):
    from io import BytesIO

    login(admin)
    assert client.post("/admin/federation/domains/import", data={},
                       content_type="multipart/form-data").status_code == 400
    response = client.post("/admin/federation/domains/import", csrf=False,
                           data={"file": (BytesIO(b"spam.example\n"), "l.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and policies() == set()


def test_only_instance_admins_import_export_and_switch_the_allow_list(
        client, make_account, admin, login):
    from hub.admin.models import InstanceSettings

    block("spam.example", private_note="SECRET")
    login(make_account("someone", role="moderator"))
    assert client.get("/admin/federation/domains.csv").status_code == 403
    assert upload(client, b"other.example\n").status_code == 403
    assert client.post("/admin/federation/domains/allowlist",
                       data={"enabled": "1"}).status_code == 403
    assert policies() == {("spam.example", "block", False, "")}
    assert not db.session.scalar(select(InstanceSettings.federation_allowlist))
    assert not refuses_domain("other.example")


# -- allow-list mode -------------------------------------------------------------------------


def allow_only(*domains: str) -> None:
    from hub.accounts.models import Account
    from hub.federation.policies import set_allowlist

    for domain in domains:
        block(domain, "allow")
    admin = db.session.scalar(select(Account).where(Account.role == "admin"))
    set_allowlist(admin, True)
    db.session.commit()


def test_an_admin_switches_the_allow_list_mode_and_it_is_logged(client, admin, login):
    login(admin)
    page = client.get("/admin/federation/domains").get_data(as_text=True)
    assert "Turn the allow-list mode on" in page

    response = client.post("/admin/federation/domains/allowlist", data={"enabled": "1"})

    assert response.status_code == 302
    # Seen at once in this process, without waiting for the policy cache to expire.
    assert refuses_domain("anything.example")
    assert logged("domain.allowlist") == 1
    assert "changed the allow-list mode" in client.get("/admin/log").get_data(as_text=True)
    assert "Turn the allow-list mode off" in client.get(
        "/admin/federation/domains").get_data(as_text=True)
    client.post("/admin/federation/domains/allowlist", data={"enabled": "0"})
    assert not refuses_domain("anything.example") and logged("domain.allowlist") == 2


def test_allow_list_refuses_other_domains_but_a_block_still_wins(app, admin):
    allow_only("friends.example")
    block("bad.friends.example")
    assert not refuses_domain("friends.example") and not refuses_domain("a.friends.example")
    assert refuses_domain("bad.friends.example") and refuses_domain("stranger.example")


def test_allow_list_refuses_inbound_from_a_domain_not_allowed(client, org, alice, peer, admin):
    allow_only("friends.example")
    before, fetched = stored(), len(peer.fetches)

    response = post(client, "/inbox", activity(alice))

    assert response.status_code == 403
    assert stored() == before and len(peer.fetches) == fetched
    assert db.session.scalar(select(func.count(RemoteActor.id))) == 0
    assert db.session.scalar(select(func.count(Follow.id))) == 0


def test_allow_list_accepts_inbound_from_an_allowed_domain(client, org, alice, peer, admin):
    allow_only("127.0.0.1")
    response = post(client, "/inbox", activity(alice))
    assert response.status_code == 202 and stored() == 1


def test_allow_list_delivers_nothing_to_a_domain_not_allowed(
        app, org, alice, peer, run_jobs, admin):
    from hub.federation.delivery import publish

    # A delivery written before the switch is cancelled when its turn comes.
    publish(("organisation", org.id), {"id": "http://localhost/activities/a", "type": "Create",
                                       "actor": "http://localhost/@collectif"},
            [f"{peer.base}/inbox"])
    db.session.commit()
    allow_only("friends.example")
    publish(("organisation", org.id), {"id": "http://localhost/activities/b", "type": "Create",
                                       "actor": "http://localhost/@collectif"},
            [f"{peer.base}/inbox"])
    db.session.commit()

    run_jobs()

    assert peer.received == []
    db.session.expire_all()
    assert [d.status for d in db.session.scalars(select(Delivery))] == ["cancelled"]
