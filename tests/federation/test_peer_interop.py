"""Interoperability with real third-party ActivityPub software on loopback.

A live hub (``maillage run``, its HUB_BASE_URL its own loopback URL) is read by Fedify's
parser (``fedify.sh lookup``), signs activities that the Fedify peer's inbox verifies
(draft-cavage and RFC 9421: Fedify fetches our actor document for the key), and signs the
GETs that bovine demands. The peers come from ``../shared/peers`` (tests/plugins/
fedify_peer.py); each is started once per session.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.federation.client import fetch, make_session
from hub.federation.keys import instance_key_pair, key_pair
from hub.federation.signatures import SignedAuth, sign_rfc9421
from tests.e2e.conftest import start_live_server
from tests.integration.content_rows import make_comment, make_event, make_post, make_resource

pytestmark = pytest.mark.slow

AS = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
def live(make_app, database_url, tmp_path, app):
    """A live hub on the test database; ``app`` (the test's own context) writes its rows."""
    with start_live_server(make_app, database_url, tmp_path) as server:
        yield server.url


@pytest.fixture
def cast(make_org, make_account):
    ada = make_account("ada", display_name="Ada Lovelace")
    org = make_org(owner=ada, handle="collectif", name="Collectif Terre",
                   summary="Pour la Terre")
    return org, ada


def test_fedify_reads_our_actors_and_objects(live, cast, fedify_peer):
    org, ada = cast
    post = make_post(org, "Assemblée générale", body="Le compte rendu.", author_id=ada.id,
                     themes="Écologie")
    event = make_event(org, "Atelier réparation", description="Apportez vos objets.",
                       place_name="Maison des associations", address="12 rue de la Paix")
    resource = make_resource(org, "Rapport annuel", abstract="Le bilan.", author_id=ada.id)
    comment = make_comment("post", post, "Merci !", author_id=ada.id)
    actors = {f"{live}/@collectif": ("Group", "collectif", "Collectif Terre"),
              f"{live}/@ada": ("Person", "ada", "Ada Lovelace"),
              # the instance actor is named after the host
              f"{live}/actor": ("Application", urlsplit(live).hostname, "Maillage")}
    news = f"{live}/@collectif/news/{post.id}"
    objects = {news: ("Article", "Assemblée générale"),
               f"{live}/@collectif/events/{event.id}": ("Event", "Atelier réparation"),
               f"{live}/library/{resource.id}": ("Page", "Rapport annuel"),
               f"{live}/comments/{comment.id}": ("Note", None)}
    # Each lookup is a Node process: run them side by side. Actors are read as Fedify's
    # summary (its parsed inbox and key ids), objects as Fedify's re-serialised JSON-LD.
    with ThreadPoolExecutor(4) as pool:
        read_actors = dict(zip(actors, pool.map(fedify_peer.lookup, actors), strict=True))
        read_objects = dict(zip(objects, pool.map(
            lambda url: fedify_peer.lookup(url, "--raw"), objects), strict=True))

    for url, (kind, username, name) in actors.items():
        read = read_actors[url].document
        assert (read["type"], read["id"], read["name"]) == (kind, url, name), read
        assert read["preferredUsername"] == username, read
        assert read["inbox"] == f"{url}/inbox", read
        assert read["publicKeys"] == [f"{url}#main-key"], read
    for url, (kind, name) in objects.items():
        read = read_objects[url].document
        assert (read["type"], read["id"], read["url"]) == (kind, url, url), read
        assert read.get("name") == name and read["to"] == "as:Public", read
        assert read["audience"] == f"{live}/@collectif", read
    article = read_objects[news].document
    assert article["content"] == "<p>Le compte rendu.</p>\n"
    assert article["attributedTo"] == [{"id": f"{live}/@collectif", "type": "Group"},
                                       {"id": f"{live}/@ada", "type": "Person"}]
    assert article["tag"] == {"type": "Hashtag", "href": f"{live}/themes/ecologie",
                              "name": "#Écologie"}
    place = read_objects[f"{live}/@collectif/events/{event.id}"].document["location"]
    assert (place["type"], place["name"]) == ("Place", "Maison des associations")
    note = read_objects[f"{live}/comments/{comment.id}"].document
    assert note["inReplyTo"] == news and note["attributedTo"] == f"{live}/@ada"


def _signed_post(inbox: str, activity: dict, auth: SignedAuth):
    return fetch(make_session(allow_private=True), "POST", inbox, json=activity,
                 headers={"Content-Type": AS}, auth=auth, timeout=30)


def _create_note(actor: str, to: str, text: str) -> dict:
    note_id = f"{actor}#note-{uuid.uuid4().hex}"
    return {"@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}-create", "type": "Create", "actor": actor, "to": [to],
            "cc": [PUBLIC],
            "object": {"id": note_id, "type": "Note", "attributedTo": actor, "to": [to],
                       "cc": [PUBLIC], "content": f"<p>{text}</p>"}}


def test_fedify_verifies_our_signatures_in_both_schemes(live, cast, fedify_peer):
    org, _ada = cast
    actor = f"{live}/@collectif"
    private_key = key_pair("organisation", org.id).private_key  # made before Fedify asks
    sent = {}
    for scheme in ("cavage", "rfc9421"):
        activity = _create_note(actor, fedify_peer.actor, f"signed with {scheme}")
        response = _signed_post(fedify_peer.inbox, activity,
                                SignedAuth(f"{actor}#main-key", private_key, scheme=scheme))
        assert response.status_code == 202, (scheme, response.status_code, response.text,
                                              fedify_peer.log()[-2000:])
        sent[activity["id"]] = scheme
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _create_note(actor, fedify_peer.actor, "forged")
    response = _signed_post(fedify_peer.inbox, forged,
                            SignedAuth(f"{actor}#main-key", forger, scheme="rfc9421"))
    assert response.status_code == 401, (response.status_code, response.text)
    response = _signed_post(fedify_peer.inbox, forged,
                            SignedAuth(f"{actor}#main-key", forger, scheme="cavage"))
    assert response.status_code == 401, (response.status_code, response.text)

    received = {entry["id"]: entry for entry in fedify_peer.received()}
    for activity_id, scheme in sent.items():
        entry = received.get(activity_id)
        assert entry is not None, (scheme, fedify_peer.log()[-2000:])
        assert entry["type"] == "Create" and entry["actor"] == actor
        assert entry["signatureVerified"] is True
        assert entry["activity"]["object"]["content"] == f"<p>signed with {scheme}</p>"
    assert forged["id"] not in received


class _Rfc9421Without(SignedAuth):
    """RFC 9421 over the components bovine 0.5.19 can rebuild: it has no ``@target-uri``
    (it looks the name up as a header field), so it refuses what Fedify and we sign."""

    def __call__(self, request):
        request.headers.update(sign_rfc9421(
            request.method, request.url, request.headers, None, self.key_id,
            self.private_key, self._now(), components=["@method", "@path", "@authority",
                                                       "date"]))
        return request


def test_bovine_accepts_our_signed_fetches_only(live, app, bovine_peer):
    instance = instance_key_pair()  # made before bovine fetches our instance actor
    key_id = f"{live}/actor#main-key"
    session = make_session(allow_private=True)
    target = bovine_peer.actor

    def get(auth=None):
        return fetch(session, "GET", target, headers={"Accept": AS}, auth=auth, timeout=30)

    assert get().status_code == 401
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert get(SignedAuth(key_id, forger)).status_code == 401
    for auth in (SignedAuth(key_id, instance.private_key, scheme="cavage"),
                 _Rfc9421Without(key_id, instance.private_key)):
        signed = get(auth)
        assert signed.status_code == 200, (type(auth), signed.status_code, signed.text[:500])
        document = signed.json()
        assert document["id"] == target and document["preferredUsername"] == "bob"
    # Our full RFC 9421 signature (with @target-uri, as Fedify signs) is refused by bovine:
    # a sender falls back to draft-cavage on a 4xx, as Fedify does.
    full = get(SignedAuth(key_id, instance.private_key, scheme="rfc9421"))
    assert full.status_code == 401


def test_an_organisation_follows_fedify_and_keeps_its_notes(tmp_path):
    """A hub organisation follows a Fedify actor (which accepts), then the actor's new
    note, signed by Fedify, is kept on the hub as content from the network."""
    import json
    import urllib.request

    from sqlalchemy import select

    from tests.plugins.app import free_port
    from tests.plugins.fedify_peer import FedifyPeer
    from tests.plugins.instances import running_instance

    peer = FedifyPeer(free_port())
    peer.start("--accept-follow")
    try:
        with running_instance(tmp_path, "hub") as hub:
            from tests.federation.test_two_instances import _seed_org

            _seed_org(hub)
            with hub.context():
                from hub.accounts.models import Account
                from hub.extensions import db
                from hub.federation.follows import follow_remote
                from hub.orgs.models import Organisation

                ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
                org = db.session.scalar(select(Organisation).where(
                    Organisation.handle == "collectif"))
                follow_remote(ada, ("organisation", org.id), peer.actor)
                db.session.commit()
                db.session.remove()

            from hub.federation.models import Follow, RemoteObject

            def accepted():
                from hub.extensions import db

                return db.session.scalar(select(Follow.id).where(
                    Follow.follower_type == "organisation", Follow.status == "accepted"))

            try:
                hub.wait_for(accepted, timeout=30)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{peer.log()[-3000:]}") from None

            request = urllib.request.Request(
                f"{peer.base}/_control/post?text=" + urllib.parse.quote("Bonjour #veille"),
                method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                sent = json.load(response)
            assert sent["followers"], sent  # the hub's organisation is among them

            def kept():
                from hub.extensions import db

                return db.session.scalar(select(RemoteObject).where(
                    RemoteObject.actor.has(uri=peer.actor)))

            try:
                row = hub.wait_for(kept, timeout=30)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{peer.log()[-3000:]}") from None
            assert row.kind == "note" and "Bonjour" in row.content_html
            with urllib.request.urlopen(f"{hub.url}/network", timeout=10) as response:
                assert "Bonjour" in response.read().decode()
    finally:
        peer.stop()


def test_bovine_follows_an_organisation_and_is_followed_back(tmp_path):
    """bovine (a second, unrelated server that demands signed GETs) follows a hub
    organisation and gets its Accept; the organisation follows bovine's actor, bovine
    accepts, and bovine's new note is kept on the hub."""
    import json
    import subprocess

    from sqlalchemy import select

    from tests.federation.test_two_instances import _seed_org
    from tests.plugins.app import free_port
    from tests.plugins.fedify_peer import PEERS, BovinePeer
    from tests.plugins.instances import running_instance

    peer = BovinePeer(free_port(), "bob")
    peer.start()

    def ctl(*args: str) -> str:
        secret = (PEERS / "run" / peer.name / "secret.txt").read_text().strip()
        done = subprocess.run(
            [str(PEERS / "bovine" / ".venv" / "bin" / "python"),
             str(PEERS / "bovine" / "bovine_ctl.py"), "--domain", peer.base, "--secret",
             secret, *args], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def log() -> str:
        path = PEERS / "run" / f"{peer.name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    try:
        with running_instance(tmp_path, "hub") as hub:
            org_url = _seed_org(hub)
            from hub.federation.models import Follow, RemoteObject

            # bovine follows the organisation: the hub accepts and says so to bovine.
            ctl("follow", org_url)

            def followed_by_bovine():
                from hub.extensions import db

                return db.session.scalar(select(Follow.id).where(
                    Follow.follower_type == "remote", Follow.followed_type == "organisation",
                    Follow.status == "accepted"))

            try:
                hub.wait_for(followed_by_bovine, timeout=40)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{log()}") from None

            def bovine_got_accept() -> bool:
                lines = [json.loads(line) for line in ctl("inbox", "--limit", "20").splitlines()
                         if line.startswith("{")]
                return any(item.get("type") == "Accept" for item in lines)

            import time

            deadline = time.monotonic() + 40
            while not bovine_got_accept():
                assert time.monotonic() < deadline, f"no Accept reached bovine\n{log()}"
                time.sleep(1)

            # The organisation follows bovine's actor; bovine accepts by hand.
            with hub.context():
                from hub.accounts.models import Account
                from hub.extensions import db
                from hub.federation.follows import follow_remote
                from hub.orgs.models import Organisation

                ada = db.session.scalar(select(Account).where(Account.handle == "ada"))
                org = db.session.scalar(select(Organisation).where(
                    Organisation.handle == "collectif"))
                follow_remote(ada, ("organisation", org.id), peer.actor)
                db.session.commit()
                db.session.remove()

            def following_bovine():
                from hub.extensions import db

                return db.session.scalar(select(Follow.id).where(
                    Follow.follower_type == "organisation", Follow.status == "accepted"))

            deadline = time.monotonic() + 40
            while True:
                ctl("accept-follows")
                try:
                    hub.wait_for(following_bovine, timeout=3)
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, f"bovine never accepted\n{log()}"

            ctl("post", "Bonjour depuis bovine")

            def kept():
                from hub.extensions import db

                return db.session.scalar(select(RemoteObject).where(
                    RemoteObject.actor.has(uri=peer.actor)))

            try:
                row = hub.wait_for(kept, timeout=40)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{log()}") from None
            assert "Bonjour depuis bovine" in row.content_html
    finally:
        peer.stop()
