"""WebFinger, host-meta and NodeInfo over HTTP, as peers and directories read them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from hub.admin.services import ensure_settings
from hub.extensions import db
from hub.federation import discovery_views
from hub.models_base import utcnow
from tests.integration.content_rows import (
    make_comment,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)
from tests.unit.test_discovery_documents import validate_nodeinfo

BASE = "http://localhost"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
AVATAR = "http://webfinger.net/rel/avatar"
XRD = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"


@pytest.fixture(autouse=True)
def settings(app):
    row = ensure_settings()
    db.session.commit()
    return row


def finger(client, resource, **params):
    return client.get("/.well-known/webfinger", query_string={"resource": resource, **params})


def links_by_rel(document) -> dict[str, dict]:
    return {link["rel"]: link for link in document["links"]}


# -- WebFinger ------------------------------------------------------------------------------


def test_webfinger_resolves_an_account(client, make_account):
    make_account("alice", avatar_path="avatar/abc.webp")
    response = finger(client, "acct:alice@localhost")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jrd+json; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json(force=True)
    assert document["subject"] == "acct:alice@localhost"
    assert document["aliases"] == [f"{BASE}/@alice"]
    links = links_by_rel(document)
    assert links["self"] == {"rel": "self", "type": "application/activity+json",
                             "href": f"{BASE}/@alice"}
    assert links[PROFILE_PAGE] == {"rel": PROFILE_PAGE, "type": "text/html",
                                   "href": f"{BASE}/@alice"}
    assert links[AVATAR] == {"rel": AVATAR, "type": "image/webp",
                             "href": f"{BASE}/media/avatar/abc.webp"}
    # No remote-interaction page exists yet, so no subscribe template points at one.
    assert "http://ostatus.org/schema/1.0/subscribe" not in links


def test_webfinger_resolves_an_organisation_with_its_logo(client, make_org):
    org = make_org(handle="Ritimo")
    org.logo_path = "logo/xyz.webp"
    db.session.commit()
    document = finger(client, "acct:ritimo@localhost").get_json(force=True)
    assert document["subject"] == "acct:Ritimo@localhost"
    assert document["aliases"] == [f"{BASE}/@Ritimo"]
    links = links_by_rel(document)
    assert links["self"]["href"] == f"{BASE}/@Ritimo"
    assert links[AVATAR]["href"] == f"{BASE}/media/logo/xyz.webp"


def test_the_actor_self_link_is_what_the_actor_url_serves(client, make_org):
    make_org(handle="ritimo")
    href = links_by_rel(finger(client, "acct:ritimo@localhost").get_json(force=True))["self"]
    actor = client.get(href["href"].removeprefix(BASE),
                       headers={"Accept": "application/activity+json"})
    assert actor.status_code == 200
    assert actor.get_json(force=True)["id"] == href["href"]


def test_an_account_without_avatar_has_no_avatar_link(client, make_account):
    make_account("bob")
    links = links_by_rel(finger(client, "acct:bob@localhost").get_json(force=True))
    assert set(links) == {"self", PROFILE_PAGE}


@pytest.mark.parametrize("resource", [
    "acct:ALICE@LOCALHOST", "acct:@alice@localhost", "alice@localhost", "@Alice@localhost",
    f"{BASE}/@alice", f"{BASE}/@ALICE",
])
def test_webfinger_forms_of_the_same_account(client, make_account, resource):
    make_account("alice")
    response = finger(client, resource)
    assert response.status_code == 200
    assert response.get_json(force=True)["subject"] == "acct:alice@localhost"


@pytest.mark.parametrize("resource", ["acct:localhost@localhost", f"{BASE}/actor"])
def test_webfinger_resolves_the_instance_actor(client, resource):
    document = finger(client, resource).get_json(force=True)
    assert document["subject"] == "acct:localhost@localhost"
    assert document["aliases"] == [f"{BASE}/actor"]
    links = links_by_rel(document)
    assert links["self"]["href"] == f"{BASE}/actor"
    assert links[PROFILE_PAGE]["href"] == f"{BASE}/"
    actor = client.get("/actor", headers={"Accept": "application/activity+json"})
    assert actor.get_json(force=True)["preferredUsername"] == "localhost"


def test_webfinger_with_a_port_in_the_base_url(make_app):
    app = make_app(HUB_BASE_URL="http://localhost:8000")
    with app.app_context():
        from hub.accounts.models import Account
        from hub.accounts.services import claim_handle

        ensure_settings()
        account_client = app.test_client()
        typed, key = claim_handle("alice", "account")
        db.session.add(Account(handle=typed, handle_key=key, security_stamp="s",
                               status="active"))
        db.session.commit()
        ours = finger(account_client, "acct:alice@localhost:8000")
        assert ours.status_code == 200
        document = ours.get_json(force=True)
        assert document["subject"] == "acct:alice@localhost:8000"
        assert document["aliases"] == ["http://localhost:8000/@alice"]
        # Another instance may listen on the same host: without our port, it is not us.
        assert finger(account_client, "acct:alice@localhost").status_code == 404
        assert finger(account_client, "acct:alice@localhost:8001").status_code == 404
        instance = finger(account_client, "acct:localhost@localhost:8000").get_json(force=True)
        assert instance["subject"] == "acct:localhost@localhost:8000"


def test_webfinger_for_a_suspended_account_still_answers_without_avatar(client, make_account):
    make_account("carol", status="suspended", avatar_path="avatar/c.webp")
    response = finger(client, "acct:carol@localhost")
    assert response.status_code == 200
    links = links_by_rel(response.get_json(force=True))
    assert links["self"]["href"] == f"{BASE}/@carol"
    assert AVATAR not in links


def test_webfinger_for_a_pending_account_is_not_found(client, make_account):
    make_account("dave", status="pending")
    assert finger(client, "acct:dave@localhost").status_code == 404


def test_webfinger_for_a_deleted_account_is_gone(client, make_account):
    make_account("erin", status="deleted", deleted_at=utcnow())
    response = finger(client, "acct:erin@localhost")
    assert response.status_code == 410
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("resource", [
    "acct:nobody@localhost", "acct:alice@other.example", f"{BASE}/@nobody",
    "https://other.example/@alice", f"{BASE}/@alice/outbox", "mailto:alice@localhost",
])
def test_webfinger_unknown_or_foreign_is_not_found(client, make_account, resource):
    make_account("alice")
    response = finger(client, resource)
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_data() == b""


@pytest.mark.parametrize("resource", ["", "alice", "acct:alice", "acct:@localhost",
                                      "acct:a b@localhost", "https://[::1/@alice"])
def test_webfinger_malformed_resource_is_a_bad_request(client, resource):
    response = finger(client, resource)
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_webfinger_without_resource_is_a_bad_request(client):
    assert client.get("/.well-known/webfinger").status_code == 400


def test_webfinger_rel_filter(client, make_account):
    make_account("alice", avatar_path="avatar/abc.webp")
    response = client.get("/.well-known/webfinger?resource=acct:alice@localhost"
                          f"&rel=self&rel={AVATAR}")
    document = response.get_json(force=True)
    assert [link["rel"] for link in document["links"]] == ["self", AVATAR]
    assert document["subject"] == "acct:alice@localhost"
    assert document["aliases"] == [f"{BASE}/@alice"]


def test_webfinger_changes_nothing_and_sets_no_cookie(client, make_account):
    make_account("alice")
    response = finger(client, "acct:alice@localhost")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")


# -- host-meta ------------------------------------------------------------------------------


def test_host_meta_is_an_xrd_pointing_at_webfinger(client):
    response = client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xrd+xml; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{XRD}XRD"
    [link] = root.findall(f"{XRD}Link")
    assert link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"


def test_host_meta_json(client):
    response = client.get("/.well-known/host-meta.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json() == {"links": [
        {"rel": "lrdd", "template": f"{BASE}/.well-known/webfinger?resource={{uri}}"}]}


def test_the_lrdd_template_leads_to_a_working_webfinger(client, make_account):
    make_account("alice")
    template = client.get("/.well-known/host-meta.json").get_json()["links"][0]["template"]
    url = template.replace("{uri}", "acct:alice@localhost").removeprefix(BASE)
    assert client.get(url).status_code == 200


# -- NodeInfo -------------------------------------------------------------------------------


def test_the_nodeinfo_index_links_both_documents(client):
    response = client.get("/.well-known/nodeinfo")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json() == {"links": [
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
         "href": f"{BASE}/nodeinfo/2.1"},
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
         "href": f"{BASE}/nodeinfo/2.0"}]}
    for link in response.get_json()["links"]:
        assert client.get(link["href"].removeprefix(BASE)).status_code == 200


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_documents_follow_their_schema(client, version):
    response = client.get(f"/nodeinfo/{version}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"')
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json(force=True)
    validate_nodeinfo(document, version)
    from hub import __version__

    assert document["software"]["name"] == "maillage"
    assert document["software"]["version"] == __version__
    assert document["protocols"] == ["activitypub"]


def test_an_unknown_nodeinfo_version_is_not_found(client):
    assert client.get("/nodeinfo/1.0").status_code == 404


def test_nodeinfo_counts_what_the_public_sees(client, make_account, make_org, settings):
    settings.name = "Coredem"
    settings.description = "Centres de ressources"
    settings.registration_mode = "approval"
    db.session.commit()
    now = utcnow()
    owner = make_account(last_login_at=now - timedelta(days=2))
    make_account(last_login_at=now - timedelta(days=90))
    make_account(last_login_at=now - timedelta(days=400))
    make_account()  # never logged in
    make_account(status="pending", last_login_at=now)
    make_account(status="suspended", last_login_at=now)
    make_account(status="deleted", last_login_at=now)
    org = make_org(owner=owner)
    make_org(owner=owner)
    post = make_post(org)
    make_post(org, visibility="members")
    make_post(org, visibility="unlisted")
    make_post(org, status="draft")
    make_post(org, deleted_at=now)
    make_post(org, hidden_at=now)
    make_resource(org)
    make_resource(org, visibility="members")
    make_event(org)
    make_discussion(org)
    make_comment("post", post)
    make_comment("post", post, hidden_at=now)
    make_comment("post", post, deleted_at=now)

    document = client.get("/nodeinfo/2.1").get_json(force=True)
    assert document["usage"] == {
        "users": {"total": 4, "activeMonth": 1, "activeHalfyear": 2},
        "localPosts": 4, "localComments": 1}
    assert document["openRegistrations"] is False
    assert document["metadata"] == {
        "nodeName": "Coredem", "nodeDescription": "Centres de ressources",
        "organisations": 2, "defaultLanguage": "en", "registrationMode": "approval"}


@pytest.mark.parametrize(("mode", "is_open"), [
    ("open", True), ("approval", False), ("invitation", False), ("closed", False)])
def test_nodeinfo_open_registrations_follow_the_mode(client, settings, mode, is_open):
    settings.registration_mode = mode
    db.session.commit()
    assert client.get("/nodeinfo/2.0").get_json(force=True)["openRegistrations"] is is_open


def test_nodeinfo_is_counted_in_one_statement_then_kept(client, make_account, count_queries,
                                                        monkeypatch):
    make_account()
    with count_queries() as counter:
        first = client.get("/nodeinfo/2.1").get_json(force=True)
    assert counter.count <= 2  # the settings row and one statement of counts
    make_account()
    with count_queries() as counter:
        kept = client.get("/nodeinfo/2.0").get_json(force=True)
    assert counter.count == 0
    assert kept["usage"] == first["usage"] == {
        "users": {"total": 1, "activeMonth": 0, "activeHalfyear": 0},
        "localPosts": 0, "localComments": 0}
    monkeypatch.setattr(discovery_views, "NODEINFO_CACHE_SECONDS", 0)
    fresh = client.get("/nodeinfo/2.1").get_json(force=True)
    assert fresh["usage"]["users"]["total"] == 2
