"""Following, both ways, against a real peer on loopback: a WebFinger/ActivityPub server
that serves a JRD and actor documents and records what reaches its inboxes.

Lookups, Follow/Undo sent by local accounts and organisations, remote follows accepted
automatically with an Accept to the follower's own inbox, Accept/Reject of our follows,
who may do what, the network pages and the followers/following collections.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation import follows, lookup
from hub.federation.keys import key_pair
from hub.federation.models import Activity, Delivery, Follow, RemoteActor
from hub.federation.signatures import verify_request
from tests.integration import posts_support
from tests.integration.orgs_support import client_for, login_redirect
from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable

cast = posts_support.cast
english = posts_support.english

BASE = "http://localhost"
ORG_ACTOR = f"{BASE}/@collectif"
AS = "application/activity+json"


# -- the peer ---------------------------------------------------------------------------------


@dataclass
class Peer:
    server: ThreadingHTTPServer
    #: path (with query for WebFinger) → (status, JSON body)
    routes: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    requested: list = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    def actor(self, name: str, kind: str = "Person", display: str = "", **extra) -> str:
        uri = f"{self.base}/users/{name}"
        self.routes[f"/users/{name}"] = (200, {
            "@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": kind,
            "preferredUsername": name, "name": display or name.title(),
            "url": f"{self.base}/@{name}", "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "manuallyApprovesFollowers": False, **extra})
        resource = f"acct:{name}@{self.host}"
        self.routes[f"/.well-known/webfinger?resource={resource}"] = (200, {
            "subject": resource,
            "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                       "href": f"{self.base}/@{name}"},
                      {"rel": "self", "type": AS, "href": uri}]})
        return uri

    def inbox_docs(self, path: str | None = None) -> list[dict]:
        return [json.loads(body) for got, _headers, body in self.received
                if path is None or got == path]


def _handler(ref: list) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            peer = ref[0]
            parts = urlsplit(self.path)
            key = parts.path
            if parts.path == "/.well-known/webfinger":
                resource = parse_qs(parts.query).get("resource", [""])[0]
                key = f"{parts.path}?resource={resource}"
            peer.requested.append((key, self.headers.get("Accept", "")))
            status, body = peer.routes.get(key, (404, {"error": "not found"}))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/jrd+json" if "webfinger" in key
                             else AS)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            peer = ref[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peer.received.append((self.path, list(self.headers.items()), body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

        def log_error(self, *args) -> None:  # https attempts on this plain-http server
            pass

    return Handler


@pytest.fixture
def peer():
    ref: list = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    server.daemon_threads = True
    peer = Peer(server)
    ref.append(peer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield peer
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def settings_row(app):
    from hub.admin.services import ensure_settings

    ensure_settings()
    db.session.commit()


def org_party(cast) -> tuple[str, int]:
    return ("organisation", cast.org.id)


def follow_rows() -> list[tuple]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(select(
        Follow.follower_type, Follow.follower_id, Follow.followed_type, Follow.followed_id,
        Follow.status).order_by(Follow.id))]


def out_activities(kind: str | None = None) -> list[dict]:
    stmt = select(Activity).where(Activity.direction == "out").order_by(Activity.id)
    if kind:
        stmt = stmt.where(Activity.type == kind)
    return [json.loads(row.payload) for row in db.session.scalars(stmt)]


def count_deliveries() -> int:
    return db.session.scalar(select(func.count()).select_from(Delivery)) or 0


def remote_row(uri: str) -> RemoteActor:
    return db.session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))


def remote_follower(peer: Peer, name: str, party, display: str = "") -> RemoteActor:
    """A remote actor (stored) following ``party``, through the service the inbox uses."""
    uri = peer.actor(name, display=display)
    from hub.federation.remote_actors import fetch_actor

    remote = fetch_actor(uri)
    follows.record_remote_follow(remote, party, f"{uri}/follows/{party[0]}{party[1]}")
    db.session.commit()
    return remote


# -- lookup -----------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["@alice@{host}", "alice@{host}", "acct:alice@{host}",
                                  "  @alice@{host} "])
def test_a_handle_resolves_through_webfinger_to_the_stored_actor(app, peer, form):
    uri = peer.actor("alice", display="Alice Martin")
    assert lookup.resolve(form.format(host=peer.host)) == uri
    actor = remote_row(uri)
    assert (actor.handle, actor.domain, actor.name) == ("alice", peer.host, "Alice Martin")
    assert actor.inbox == f"{uri}/inbox"
    webfinger = [a for path, a in peer.requested if path.startswith("/.well-known")]
    assert webfinger and "application/jrd+json" in webfinger[0]


def test_an_actor_url_and_a_whole_instance_resolve(app, peer):
    person = peer.actor("bob")
    instance = f"{peer.base}/actor"
    peer.routes["/actor"] = (200, {"id": instance, "type": "Application",
                                   "preferredUsername": peer.host, "inbox": f"{peer.base}/inbox"})
    assert lookup.resolve(person) == person
    assert lookup.resolve(instance) == instance
    assert remote_row(instance).type == "Application"


def test_a_profile_page_url_resolves_through_webfinger(app, peer):
    uri = peer.actor("carla")
    page = f"{peer.base}/@carla"
    peer.routes[f"/.well-known/webfinger?resource={page}"] = (200, {
        "subject": page, "links": [{"rel": "self", "type": 'application/ld+json; '
                                    'profile="https://www.w3.org/ns/activitystreams"',
                                    "href": uri}]})
    assert lookup.resolve(page) == uri


@pytest.mark.parametrize("text", ["", "   ", "alice", "@alice", "alice@", "@al ice@host.example",
                                  "@alice@host/path", "@alice@-bad-.example", "x" * 600,
                                  "ftp://host.example/users/a"])
def test_malformed_addresses_are_refused_before_any_request(app, peer, text):
    with pytest.raises(ValidationFailed) as refused:
        lookup.resolve(text)
    assert refused.value.message and refused.value.field == "address"
    assert peer.requested == [] and count_rows(RemoteActor) == 0


def count_rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_an_unknown_account_is_refused_clearly(app, peer):
    with pytest.raises(ValidationFailed, match="No account @nobody@"):
        lookup.resolve(f"@nobody@{peer.host}")
    assert count_rows(RemoteActor) == 0


def test_a_handle_whose_server_names_no_actor_is_refused(app, peer):
    resource = f"acct:ghost@{peer.host}"
    peer.routes[f"/.well-known/webfinger?resource={resource}"] = (200, {
        "subject": resource, "links": [{"rel": "self", "type": "text/html",
                                        "href": f"{peer.base}/ghost"}]})
    with pytest.raises(ValidationFailed, match="not on the fediverse"):
        lookup.resolve(f"@ghost@{peer.host}")


def test_something_that_is_not_an_actor_is_refused(app, peer):
    peer.routes["/notes/1"] = (200, {"id": f"{peer.base}/notes/1", "type": "Note",
                                     "content": "hello"})
    with pytest.raises(ValidationFailed, match="not an account"):
        lookup.resolve(f"{peer.base}/notes/1")
    assert count_rows(RemoteActor) == 0


def test_an_address_on_this_instance_is_refused(app, cast, peer):
    with pytest.raises(ValidationFailed, match="on this instance"):
        lookup.resolve("@collectif@localhost")
    with pytest.raises(ValidationFailed, match="on this instance"):
        lookup.resolve(ORG_ACTOR)


def test_private_addresses_are_refused_without_the_setting(make_app, peer):
    guarded = make_app(HUB_OUTBOUND_ALLOW_PRIVATE=False)
    with guarded.app_context():
        with pytest.raises(ValidationFailed, match="private network"):
            lookup.resolve(f"@alice@{peer.host}")
        with pytest.raises(ValidationFailed, match="https"):
            lookup.resolve(f"{peer.base}/users/alice")
        assert count_rows(RemoteActor) == 0
    assert peer.requested == []


def test_actor_link_reads_only_activitystreams_self_links():
    assert lookup.actor_link({"links": [
        {"rel": "self", "type": "text/html", "href": "https://a.example/x"},
        {"rel": "self", "type": "application/activity+json", "href": "javascript:alert(1)"},
        {"rel": "self", "type": "application/activity+json", "href": "https://a.example/u"},
    ]}) == "https://a.example/u"
    assert lookup.actor_link({"links": "nope"}) is None
    assert lookup.actor_link([]) is None


# -- local → remote ---------------------------------------------------------------------------


def check_signed(headers, body, path, peer, owner_type, owner_id, actor) -> None:
    public = key_pair(owner_type, owner_id).public_pem
    verified = verify_request("POST", peer.base + path, headers, body, public,
                              datetime.now(UTC))
    assert verified.key_id == f"{actor}#main-key"


def test_an_admin_makes_the_organisation_follow_a_remote_actor(app, cast, peer, run_jobs):
    uri = peer.actor("alice")
    row = follows.follow_remote(cast.people["admin"], org_party(cast), uri)
    db.session.commit()
    remote = remote_row(uri)
    assert follow_rows() == [("organisation", cast.org.id, "remote", remote.id, "pending")]
    [sent] = out_activities("Follow")
    assert sent["id"] == row.activity_uri and sent["id"].startswith(f"{BASE}/activities/")
    assert (sent["actor"], sent["object"]) == (ORG_ACTOR, uri)

    run_jobs()
    [(path, headers, body)] = peer.received
    assert path == "/users/alice/inbox"
    assert json.loads(body)["type"] == "Follow"
    check_signed(headers, body, path, peer, "organisation", cast.org.id, ORG_ACTOR)


def test_following_again_returns_the_same_follow_and_sends_nothing(app, cast, peer):
    uri = peer.actor("alice")
    first = follows.follow_remote(cast.people["admin"], org_party(cast), uri)
    db.session.commit()
    again = follows.follow_remote(cast.people["owner"], org_party(cast), uri)
    db.session.commit()
    assert again.id == first.id and len(out_activities("Follow")) == 1


def test_an_accept_by_id_or_by_embedded_follow_marks_our_follow_accepted(app, cast, peer):
    alice, bob = peer.actor("alice"), peer.actor("bob")
    by_id = follows.follow_remote(cast.people["admin"], org_party(cast), alice)
    by_object = follows.follow_remote(cast.people["admin"], org_party(cast), bob)
    db.session.commit()

    assert follows.mark_accepted(by_id.activity_uri, remote_row(alice)).id == by_id.id
    # Some servers embed the Follow without its id: our actor and their actor name it.
    embedded = {"type": "Follow", "actor": ORG_ACTOR, "object": bob}
    assert follows.mark_accepted(embedded).id == by_object.id
    db.session.commit()
    assert [row[-1] for row in follow_rows()] == ["accepted", "accepted"]
    assert db.session.get(Follow, by_id.id).accepted_at is not None


def test_an_accept_from_another_actor_or_for_an_unknown_follow_changes_nothing(app, cast,
                                                                             peer):
    alice = peer.actor("alice")
    row = follows.follow_remote(cast.people["admin"], org_party(cast), alice)
    db.session.commit()
    from hub.federation.remote_actors import fetch_actor

    mallory = fetch_actor(peer.actor("mallory"))
    assert follows.mark_accepted(row.activity_uri, mallory) is None
    assert follows.mark_accepted(f"{BASE}/activities/unknown") is None
    assert follows.mark_accepted({"actor": f"{BASE}/@nobody", "object": alice}) is None
    db.session.commit()
    assert [r[-1] for r in follow_rows()] == ["pending"]


def test_a_reject_marks_the_follow_refused_and_following_again_asks_anew(app, cast, peer):
    alice = peer.actor("alice")
    row = follows.follow_remote(cast.people["admin"], org_party(cast), alice)
    db.session.commit()
    first_id = row.activity_uri
    follows.mark_rejected({"id": first_id, "type": "Follow"}, remote_row(alice))
    db.session.commit()
    assert [r[-1] for r in follow_rows()] == ["rejected"]
    again = follows.follow_remote(cast.people["admin"], org_party(cast), alice)
    db.session.commit()
    assert again.status == "pending" and again.activity_uri != first_id
    assert len(out_activities("Follow")) == 2


def test_unfollowing_deletes_the_row_and_sends_undo(app, cast, peer, run_jobs):
    alice = peer.actor("alice")
    row = follows.follow_remote(cast.people["admin"], org_party(cast), alice)
    db.session.commit()
    follow_id = row.activity_uri
    assert follows.unfollow_remote(cast.people["admin"], org_party(cast), alice) is True
    db.session.commit()
    assert follow_rows() == []
    [undo] = out_activities("Undo")
    assert undo["actor"] == ORG_ACTOR
    assert undo["object"] == {"id": follow_id, "type": "Follow", "actor": ORG_ACTOR,
                              "object": alice}
    run_jobs()
    assert [doc["type"] for doc in peer.inbox_docs("/users/alice/inbox")] == ["Follow", "Undo"]
    # Unfollowing again changes nothing.
    assert follows.unfollow_remote(cast.people["admin"], org_party(cast), alice) is False


@pytest.mark.parametrize("who", ["member", "editor", "non_member", "other_editor"])
def test_only_admins_make_the_organisation_follow(app, cast, peer, who):
    uri = peer.actor("alice")
    with pytest.raises(PermissionDenied):
        follows.follow_remote(cast.people[who], org_party(cast), uri)
    db.session.rollback()
    assert follow_rows() == [] and out_activities() == [] and peer.requested == []


@pytest.mark.parametrize("who", ["admin", "owner", "instance_admin"])
def test_admins_owners_and_instance_admins_may_make_the_organisation_follow(app, cast, peer,
                                                                             who):
    follows.follow_remote(cast.people[who], org_party(cast), peer.actor("alice"))
    db.session.commit()
    assert len(follow_rows()) == 1


def test_a_visitor_or_another_account_cannot_follow_for_an_account(app, cast, peer):
    uri = peer.actor("alice")
    me = cast.people["member"]
    for actor in (None, cast.people["admin"]):
        with pytest.raises(PermissionDenied):
            follows.follow_remote(actor, ("account", me.id), uri)
    follows.follow_remote(me, ("account", me.id), uri)
    db.session.commit()
    assert follow_rows()[0][:2] == ("account", me.id)
    assert out_activities("Follow")[0]["actor"] == f"{BASE}/@the_member"


def test_no_one_follows_an_actor_of_this_instance_or_itself(app, cast):
    for target in (ORG_ACTOR, f"{BASE}/@the_admin"):
        with pytest.raises(ValidationFailed):
            follows.follow_remote(cast.people["admin"], org_party(cast), target)
    assert follow_rows() == []


# -- remote → local ---------------------------------------------------------------------------


def test_a_remote_follow_is_accepted_and_the_accept_goes_to_the_personal_inbox(
        app, cast, peer, run_jobs):
    remote = remote_follower(peer, "alice", org_party(cast))
    assert follow_rows() == [("remote", remote.id, "organisation", cast.org.id, "accepted")]
    [accept] = out_activities("Accept")
    assert accept["actor"] == ORG_ACTOR
    assert accept["object"] == {"id": f"{remote.uri}/follows/organisation{cast.org.id}",
                                "type": "Follow", "actor": remote.uri, "object": ORG_ACTOR}
    run_jobs()
    [(path, headers, body)] = peer.received
    assert path == "/users/alice/inbox"  # not the shared inbox, as Mastodon does
    check_signed(headers, body, path, peer, "organisation", cast.org.id, ORG_ACTOR)


def test_a_repeated_follow_keeps_one_row_and_is_accepted_again(app, cast, peer):
    remote = remote_follower(peer, "alice", org_party(cast))
    follows.record_remote_follow(remote, org_party(cast), f"{remote.uri}/follows/again")
    db.session.commit()
    assert len(follow_rows()) == 1 and len(out_activities("Accept")) == 2
    assert db.session.scalar(select(Follow.activity_uri)) == f"{remote.uri}/follows/again"


def test_an_undo_removes_the_follower(app, cast, peer):
    alice = remote_follower(peer, "alice", org_party(cast))
    bob = remote_follower(peer, "bob", org_party(cast))
    assert follows.remove_remote_follow(alice, activity_uri=f"{alice.uri}/follows/nothing") is False
    assert follows.remove_remote_follow(alice, followed=org_party(cast)) is True
    assert follows.remove_remote_follow(
        bob, activity_uri=f"{bob.uri}/follows/organisation{cast.org.id}") is True
    db.session.commit()
    assert follow_rows() == []


def test_an_admin_removes_a_follower_with_a_reject(app, cast, peer):
    remote = remote_follower(peer, "alice", org_party(cast))
    row_id = db.session.scalar(select(Follow.id))
    with pytest.raises(PermissionDenied):
        follows.reject_follower(cast.people["editor"], org_party(cast), row_id)
    follows.reject_follower(cast.people["admin"], org_party(cast), row_id)
    db.session.commit()
    assert follow_rows() == []
    [reject] = out_activities("Reject")
    assert reject["object"]["actor"] == remote.uri and reject["object"]["type"] == "Follow"


def test_an_organisation_that_approves_followers_holds_the_follow_until_accepted(
        app, cast, peer, run_jobs):
    follows.set_approves_followers(cast.people["admin"], org_party(cast), True)
    db.session.commit()
    remote = remote_follower(peer, "alice", org_party(cast))
    assert follow_rows() == [("remote", remote.id, "organisation", cast.org.id, "pending")]
    assert out_activities("Accept") == []
    assert follows.count_followers(org_party(cast)) == 0
    # A repeated Follow while waiting changes nothing and sends nothing.
    follows.record_remote_follow(remote, org_party(cast), f"{remote.uri}/follows/again")
    db.session.commit()
    assert follow_rows()[0][-1] == "pending" and out_activities("Accept") == []

    row_id = db.session.scalar(select(Follow.id))
    with pytest.raises(PermissionDenied):
        follows.accept_follower(cast.people["editor"], org_party(cast), row_id)
    follows.accept_follower(cast.people["admin"], org_party(cast), row_id)
    db.session.commit()
    assert follow_rows()[0][-1] == "accepted"
    [accept] = out_activities("Accept")
    assert accept["object"]["id"] == f"{remote.uri}/follows/again"
    run_jobs()
    assert [d["type"] for d in peer.inbox_docs("/users/alice/inbox")] == ["Accept"]


def test_a_held_follow_request_is_refused_with_a_reject(app, cast, peer, run_jobs):
    follows.set_approves_followers(cast.people["admin"], org_party(cast), True)
    db.session.commit()
    remote = remote_follower(peer, "alice", org_party(cast))
    follows.reject_follower(cast.people["admin"], org_party(cast),
                            db.session.scalar(select(Follow.id)))
    db.session.commit()
    assert follow_rows() == []
    [reject] = out_activities("Reject")
    assert reject["object"]["actor"] == remote.uri and out_activities("Accept") == []


def test_the_actor_document_says_whether_followers_are_approved(app, cast, client):
    accept = {"Accept": "application/activity+json"}
    assert client.get("/@collectif", headers=accept).get_json()[
        "manuallyApprovesFollowers"] is False
    follows.set_approves_followers(cast.people["admin"], org_party(cast), True)
    db.session.commit()
    assert client.get("/@collectif", headers=accept).get_json()[
        "manuallyApprovesFollowers"] is True


def test_the_network_page_turns_approval_on_and_lists_requests(app, cast, peer):
    admin = client_for(app, cast.people["admin"])
    page = admin.get("/@collectif/network").get_data(as_text=True)
    assert "accepted automatically" in page
    response = admin.post("/@collectif/network/approval", data={"approves_followers": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert cast.org.approves_followers is True
    remote_follower(peer, "alice", org_party(cast), display="Alice Martin")
    page = admin.get("/@collectif/network").get_data(as_text=True)
    assert "Follow requests" in page and "Alice Martin" in page
    assert "wait for approval" in page
    row_id = db.session.scalar(select(Follow.id))
    response = admin.post(f"/@collectif/network/followers/{row_id}/accept", data={})
    assert response.status_code == 302 and follow_rows()[0][-1] == "accepted"
    admin.post("/@collectif/network/approval", data={"approves_followers": "0"})
    db.session.expire_all()
    assert cast.org.approves_followers is False


@pytest.mark.parametrize("who", ["member", "editor"])
def test_only_admins_turn_approval_on(app, cast, who):
    browser = client_for(app, cast.people[who])
    response = browser.post("/@collectif/network/approval", data={"approves_followers": "1"})
    assert response.status_code == 403
    db.session.expire_all()
    assert cast.org.approves_followers is False


# -- pages ------------------------------------------------------------------------------------


def test_an_admin_follows_from_the_network_page_and_unfollows(app, cast, peer, run_jobs):
    uri = peer.actor("alice", display="Alice Martin")
    admin = client_for(app, cast.people["admin"])
    for path in ("/@collectif", "/@collectif/network"):
        assert "Follow on the fediverse" in admin.get(path).get_data(as_text=True)
    response = admin.post("/@collectif/network/follow",
                          data={"address": f"@alice@{peer.host}"})
    assert response.status_code == 302 and response.location.endswith("/@collectif/network")
    page = admin.get("/@collectif/network").get_data(as_text=True)
    assert "A follow request was sent to Alice Martin" in page
    assert "waiting for an answer" in page and f"@alice@{peer.host}" in page

    assert f'href="{peer.base}/@alice"' in page  # the remote profile, by its url
    follow_id = db.session.scalar(select(Follow.id))
    response = admin.post(f"/@collectif/network/following/{follow_id}/unfollow", data={})
    assert response.status_code == 302
    assert follow_rows() == [] and len(out_activities("Undo")) == 1
    run_jobs()
    docs = peer.inbox_docs("/users/alice/inbox")
    assert [(d["type"], d["actor"]) for d in docs] == [("Follow", ORG_ACTOR), ("Undo", ORG_ACTOR)]
    assert docs[1]["object"]["object"] == uri


def test_a_bad_address_on_the_form_shows_the_reason_and_changes_nothing(app, cast, peer):
    admin = client_for(app, cast.people["admin"])
    response = admin.post("/@collectif/network/follow", data={"address": f"@nobody@{peer.host}"})
    assert response.status_code == 400
    assert "No account @nobody@" in response.get_data(as_text=True)
    assert follow_rows() == [] and count_rows(RemoteActor) == 0


@pytest.mark.parametrize("who", ["member", "editor"])
def test_members_and_editors_get_no_form_and_are_refused(app, cast, peer, who):
    browser = client_for(app, cast.people[who])
    assert "Follow on the fediverse" not in browser.get("/@collectif/network").get_data(
        as_text=True)
    assert "Follow on the fediverse" not in browser.get("/@collectif").get_data(as_text=True)
    response = browser.post("/@collectif/network/follow",
                            data={"address": f"@alice@{peer.host}"})
    assert response.status_code == 403
    assert follow_rows() == [] and peer.requested == []


def test_a_visitor_is_sent_to_log_in(app, cast, peer, client):
    path = "/@collectif/network/follow"
    response = client.post(path, data={"address": f"@alice@{peer.host}"})
    assert response.status_code == 302 and response.location.endswith(login_redirect(path))
    assert follow_rows() == [] and peer.requested == []


def test_a_post_without_csrf_token_is_refused(app, cast, peer):
    admin = client_for(app, cast.people["admin"])
    response = admin.post("/@collectif/network/follow",
                          data={"address": f"@alice@{peer.host}"}, csrf=False)
    assert response.status_code == 400 and peer.requested == []


def test_an_account_follows_for_itself_from_its_settings(app, cast, peer):
    member = cast.people["member"]
    browser = client_for(app, member)
    response = browser.get("/settings/network")
    assert response.status_code == 302 and response.location.endswith("/@the_member/network")
    peer.actor("alice")
    response = browser.post("/@the_member/network/follow", data={"address": f"@alice@{peer.host}"})
    assert response.status_code == 302
    assert follow_rows()[0][:2] == ("account", member.id)
    other = client_for(app, cast.people["editor"])
    assert other.post("/@the_member/network/follow",
                      data={"address": f"@alice@{peer.host}"}).status_code == 403


def test_the_network_page_lists_followers_and_following_with_hostile_names_inert(
        app, cast, peer, client):
    followers = []
    for n, (_name, source) in enumerate(CORPUS_CASES):
        remote = RemoteActor(uri=f"{peer.base}/users/h{n}", handle=f"h{n}", domain=peer.host,
                             name=source[:200], url="javascript:alert(1)" if n % 2 else
                             f"{peer.base}/@h{n}", inbox=f"{peer.base}/users/h{n}/inbox")
        db.session.add(remote)
        db.session.flush()
        db.session.add(Follow(follower_type="remote", follower_id=remote.id,
                              followed_type="organisation", followed_id=cast.org.id,
                              status="accepted", activity_uri=f"{remote.uri}/f"))
        followers.append(remote)
    followed = followers[0]
    db.session.add(Follow(follower_type="organisation", follower_id=cast.org.id,
                          followed_type="remote", followed_id=followed.id, status="accepted",
                          activity_uri=f"{BASE}/activities/x"))
    db.session.commit()
    page = client.get("/@collectif/network").get_data(as_text=True)
    assert_nothing_executable(page, page=True)
    assert f"Followers <small class=\"muted\">({len(followers)})</small>" in page
    assert "@h0@" in page and "accepted" in page
    assert "Unfollow" not in page  # visitors see no buttons


def test_the_org_page_shows_the_follower_count(app, cast, peer, client):
    remote_follower(peer, "alice", org_party(cast))
    remote_follower(peer, "bob", org_party(cast))
    page = client.get("/@collectif").get_data(as_text=True)
    assert "2 followers" in page and "/@collectif/network" in page
    assert "@collectif@localhost" in page


# -- collections ------------------------------------------------------------------------------


def fetch(client, path: str) -> dict:
    response = client.get(path, headers={"Accept": AS})
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    assert response.content_type == "application/activity+json; charset=utf-8"
    return response.get_json()


def test_collections_list_the_actor_ids_with_their_totals(app, cast, peer, client):
    remotes = [remote_follower(peer, f"f{n}", org_party(cast)) for n in range(3)]
    followed = peer.actor("star")
    follows.follow_remote(cast.people["admin"], org_party(cast), followed)
    pending = peer.actor("pending")
    follows.follow_remote(cast.people["admin"], org_party(cast), pending)
    follows.mark_accepted({"actor": ORG_ACTOR, "object": followed})
    db.session.commit()

    collection = fetch(client, "/@collectif/followers")
    assert collection["totalItems"] == 3
    first = fetch(client, collection["first"].removeprefix(BASE))
    assert first["type"] == "OrderedCollectionPage"
    assert first["orderedItems"] == [r.uri for r in reversed(remotes)]  # newest first
    following = fetch(client, "/@collectif/following")
    assert following["totalItems"] == 1  # the pending one is not listed
    assert fetch(client, following["first"].removeprefix(BASE))["orderedItems"] == [followed]


def test_collections_page_with_a_keyset(app, cast, peer, client, monkeypatch):
    monkeypatch.setattr(follows, "PAGE_SIZE", 2)
    remotes = [remote_follower(peer, f"f{n}", org_party(cast)) for n in range(5)]
    collection = fetch(client, "/@collectif/followers")
    url, seen = collection["first"], []
    while url:
        doc = fetch(client, url.removeprefix(BASE))
        assert len(doc["orderedItems"]) <= 2
        seen += doc["orderedItems"]
        url = doc.get("next")
    assert seen == [r.uri for r in reversed(remotes)]
    assert client.get("/@collectif/followers?page=true&before=1%20OR%201=1").status_code == 400


def test_the_instance_actor_lists_the_instances_that_follow_it(app, peer, client):
    remote = remote_follower(peer, "otherhub", ("instance", 0))
    collection = fetch(client, "/actor/followers")
    assert collection["totalItems"] == 1
    assert fetch(client, collection["first"].removeprefix(BASE))["orderedItems"] == [remote.uri]
    [accept] = out_activities("Accept")
    assert accept["actor"] == f"{BASE}/actor"
