"""Content from other servers: replies to local content become comments of the thread,
what followed actors publish is kept, shown with its origin, found by search and themes,
and changed or removed by its origin only. Signed POSTs to the real inbox, processed by the
real queue; the remote server is a real HTTP server on loopback (``peer``)."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import func, select

from hub.content.models import Comment, SearchDocument
from hub.extensions import db
from hub.federation.models import Follow, RemoteActor, RemoteObject
from hub.notifications.models import Notification
from tests.integration.content_rows import make_comment, make_discussion, make_post
from tests.integration.inbox_support import (
    ALICE_KEY,
    OTHER_KEY,
    PUBLIC,
    activity,
    post,
    row,
    serve_peer,
)

_seq = itertools.count(1)
HOSTILE = ('<p>Bonjour <script>alert(1)</script><img src="http://tracker.example/p.png">'
           '<a href="javascript:alert(2)">x</a> <b onclick="alert(3)">gras</b></p>')


@pytest.fixture
def alice(peer) -> str:
    return peer.actor("alice")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def note(actor: str, **fields) -> dict:
    n = next(_seq)
    return {"id": f"{actor}/notes/{n}", "type": "Note", "attributedTo": actor,
            "content": f"<p>Note {n}</p>", "to": [PUBLIC], "cc": [f"{actor}/followers"],
            "published": "2026-11-20T10:00:00Z", **fields}


def send(client, run_jobs, actor: str, kind: str, obj, key: str = ALICE_KEY) -> str:
    doc = activity(actor, kind, obj=obj)
    response = post(client, "/inbox", doc, key=key)
    assert response.status_code == 202, response.get_data(as_text=True)
    run_jobs()
    stored = row(doc["id"])
    return f"{stored.status}: {stored.error}"


def post_url(org_, post_) -> str:
    return f"http://localhost/@{org_.handle}/news/{post_.id}"


def follow(org_, actor_uri: str) -> None:
    from hub.federation.remote_actors import fetch_actor

    remote = fetch_actor(actor_uri)
    db.session.add(Follow(follower_type="organisation", follower_id=org_.id,
                          followed_type="remote", followed_id=remote.id, status="accepted"))
    db.session.commit()


def comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).order_by(Comment.id)))


# -- replies → comments -----------------------------------------------------------------------


def test_a_reply_to_a_post_becomes_a_comment_shown_with_its_origin(
        client, org, alice, run_jobs):
    billet = make_post(org, title="Assemblée générale")
    reply = note(alice, inReplyTo=post_url(org, billet), content=HOSTILE,
                 url=f"{alice}/statuses/1")

    outcome = send(client, run_jobs, alice, "Create", reply)

    assert outcome.startswith("done: comment")
    [comment] = comments()
    assert (comment.target_type, comment.target_id) == ("post", billet.id)
    assert comment.author_id is None and comment.remote_author.uri == alice
    assert comment.ap_uri == reply["id"] and comment.remote_url == f"{alice}/statuses/1"
    for bad in ("script", "javascript:", "onclick", "tracker.example"):
        assert bad not in comment.body_html
    # The image stays, shown from this instance's copy: no browser contacts the tracker.
    assert '<img src="/media/remote/images/' in comment.body_html
    page = client.get(f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)
    assert "Alice (@alice@127.0.0.1:" in page and "gras" in page
    assert "<script>alert" not in page and "onclick" not in page
    # Found by search, as a comment.
    assert db.session.scalar(select(SearchDocument.id).where(
        SearchDocument.kind == "comment", SearchDocument.object_id == comment.id))


def test_the_same_reply_sent_twice_is_one_comment(client, org, alice, run_jobs):
    billet = make_post(org)
    reply = note(alice, inReplyTo=post_url(org, billet))
    send(client, run_jobs, alice, "Create", reply)

    outcome = send(client, run_jobs, alice, "Create", reply)  # another activity id

    assert outcome == "done: already here"
    assert len(comments()) == 1


def test_a_reply_to_a_comment_is_nested_and_its_author_is_told(
        client, org, alice, run_jobs, make_account):
    author = make_account("autrice")
    billet = make_post(org)
    first = make_comment("post", billet, "Premier", author_id=author.id)

    send(client, run_jobs, alice, "Create",
         note(alice, inReplyTo=f"http://localhost/comments/{first.id}"))

    reply = comments()[-1]
    assert reply.parent_id == first.id and reply.depth == 1 and reply.root_id == first.id
    assert db.session.get(Comment, first.id).reply_count == 1
    [told] = db.session.scalars(select(Notification).where(
        Notification.account_id == author.id))
    assert told.kind == "reply" and "Alice" in told.excerpt


def test_a_reply_to_a_reply_received_earlier_continues_the_thread(client, org, alice, run_jobs):
    billet = make_post(org)
    first = note(alice, inReplyTo=post_url(org, billet))
    send(client, run_jobs, alice, "Create", first)

    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=first["id"]))

    parent, child = comments()
    assert child.parent_id == parent.id and child.depth == 1


def test_a_mention_of_a_local_person_notifies_them(client, org, alice, run_jobs,
                                                   make_account):
    zoe = make_account("zoe")
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", note(
        alice, inReplyTo=post_url(org, billet),
        tag=[{"type": "Mention", "href": "http://localhost/@zoe", "name": "@zoe@localhost"}]))

    kinds = list(db.session.scalars(select(Notification.kind).where(
        Notification.account_id == zoe.id)))
    assert kinds == ["mention"]


@pytest.mark.parametrize("case", ["members", "draft", "closed", "locked"])
def test_replies_to_what_is_not_open_change_nothing(client, org, alice, run_jobs, case):
    if case in ("members", "draft"):
        target = make_post(org, visibility="members" if case == "members" else "public",
                           status="draft" if case == "draft" else "published")
        url = post_url(org, target)
    else:
        target = make_discussion(org, is_closed=case == "closed", is_locked=case == "locked")
        url = f"http://localhost/@{org.handle}/discussions/{target.id}"

    outcome = send(client, run_jobs, alice, "Create", note(alice, inReplyTo=url))

    assert outcome.startswith("ignored:")
    assert comments() == []


def test_a_reply_to_a_discussion_counts_in_it(client, org, alice, run_jobs):
    discussion = make_discussion(org)
    send(client, run_jobs, alice, "Create", note(
        alice, inReplyTo=f"http://localhost/@{org.handle}/discussions/{discussion.id}"))

    db.session.expire_all()
    assert discussion.comment_count == 1
    page = client.get(f"/@{org.handle}/discussions/{discussion.id}").get_data(as_text=True)
    assert "@alice@127.0.0.1" in page


def test_the_author_edits_and_deletes_their_reply(client, org, alice, run_jobs):
    billet = make_post(org)
    reply = note(alice, inReplyTo=post_url(org, billet))
    send(client, run_jobs, alice, "Create", reply)

    assert send(client, run_jobs, alice, "Update",
                {**reply, "content": "<p>Corrigé</p>"}).startswith("done")
    [comment] = comments()
    assert "Corrigé" in comment.body_html and comment.edited_at is not None

    assert send(client, run_jobs, alice, "Delete",
                {"id": reply["id"], "type": "Tombstone"}).startswith("done")
    [comment] = comments()
    assert comment.deleted_at is not None
    assert "Corrigé" not in client.get(f"/@{org.handle}/news/{billet.id}").get_data(
        as_text=True)


def _word_filter(pattern: str, effect: str) -> None:
    from hub.moderation.models import WordFilter
    from hub.moderation.prevention import forget_cache

    db.session.add(WordFilter(pattern=pattern, effect=effect, message="Non."))
    db.session.commit()
    forget_cache()


def test_word_filters_apply_to_replies_from_other_servers(client, org, alice, run_jobs):
    from hub.moderation.models import ModerationCase

    billet = make_post(org)
    _word_filter("casino", "refuse")
    _word_filter("bitcoin", "hold")
    refused = send(client, run_jobs, alice, "Create", note(
        alice, inReplyTo=post_url(org, billet), content="<p>Le <b>CASINO</b> en ligne</p>"))
    assert refused == "ignored: refused by a word filter: Non."
    assert comments() == []

    held = note(alice, inReplyTo=post_url(org, billet), content="<p>Du Bitcoin</p>")
    assert send(client, run_jobs, alice, "Create", held).startswith("done")
    [comment] = comments()
    assert comment.hidden_at is not None
    assert "Du Bitcoin" not in client.get(f"/@{org.handle}/news/{billet.id}").get_data(
        as_text=True)
    [case] = db.session.scalars(select(ModerationCase))
    assert (case.kind, case.target_id) == ("held", comment.id)

    # An edit that brings a refused word is refused too and changes nothing.
    fine = note(alice, inReplyTo=post_url(org, billet), content="<p>Bonjour</p>")
    send(client, run_jobs, alice, "Create", fine)
    edited = send(client, run_jobs, alice, "Update", {**fine, "content": "<p>casino</p>"})
    assert edited == "ignored: refused by a word filter: Non."
    db.session.expire_all()
    assert "Bonjour" in comments()[-1].body_html


def test_an_organisation_that_holds_comments_holds_replies_from_other_servers(
        client, org, alice, run_jobs):
    org.holds_comments = True
    db.session.commit()
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet)))
    [comment] = comments()
    assert comment.hidden_at is not None


def test_another_actor_cannot_edit_or_delete_a_reply(client, org, alice, peer, run_jobs):
    billet = make_post(org)
    reply = note(alice, inReplyTo=post_url(org, billet))
    send(client, run_jobs, alice, "Create", reply)
    mallory = peer.actor("mallory", OTHER_KEY)

    # Mallory's Update carries Alice's object: it is fetched from its origin, and it is not
    # Mallory's.
    peer.documents[reply["id"].removeprefix(peer.base)] = (200, reply)
    assert send(client, run_jobs, mallory, "Update", {**reply, "content": "<p>Pirate</p>"},
                key=OTHER_KEY).startswith("ignored")
    assert send(client, run_jobs, mallory, "Delete", reply["id"],
                key=OTHER_KEY).startswith("ignored")

    [comment] = comments()
    assert "Pirate" not in comment.body_html and comment.deleted_at is None


def test_an_object_embedded_from_another_origin_is_fetched_from_its_origin(
        client, org, alice, peer, run_jobs):
    billet = make_post(org)
    forged = {"id": "http://127.0.0.2:9/notes/1", "type": "Note", "attributedTo": alice,
              "content": "<p>forged</p>", "inReplyTo": post_url(org, billet), "to": [PUBLIC]}

    outcome = send(client, run_jobs, alice, "Create", forged)

    # It could not be fetched from 127.0.0.2:9: retried later, nothing kept.
    assert not outcome.startswith("done")
    assert comments() == []


# -- followed actors' content -----------------------------------------------------------------


def article(actor: str, **fields) -> dict:
    n = next(_seq)
    return {"id": f"{actor}/articles/{n}", "type": "Article", "attributedTo": actor,
            "name": f"Rapport annuel {n}", "summary": "<p>Le résumé</p>",
            "content": f"<p>Texte complet {n} sur la biodiversité</p>" + HOSTILE,
            "url": f"{actor}/articles/{n}.html", "contentMap": {"fr": "…"},
            "to": [PUBLIC], "cc": [f"{actor}/followers"], "published": "2026-11-21T09:00:00Z",
            "tag": [{"type": "Hashtag", "name": "#Écologie", "href": f"{actor}/tags/ecologie"}],
            **fields}


def test_a_followed_actors_article_is_kept_listed_and_searchable(
        client, org, alice, run_jobs, make_account):
    follow(org, alice)
    doc = article(alice)

    assert send(client, run_jobs, alice, "Create", doc).startswith("done: remote object")

    kept = db.session.scalar(select(RemoteObject))
    assert (kept.kind, kept.language, kept.themes.split()) == ("post", "fr", ["ecologie"])
    for bad in ("script", "javascript:", "onclick", "tracker.example"):
        assert bad not in kept.content_html
    listing = client.get("/network").get_data(as_text=True)
    assert doc["name"] in listing and "@alice@127.0.0.1" in listing
    page = client.get(f"/network/{kept.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Texte complet" in text and doc["url"] in text
    assert "<script>alert" not in text and "tracker.example" not in text
    found = client.get("/search?q=biodiversite").get_data(as_text=True)
    assert doc["name"] in found and f"/network/{kept.id}" in found
    assert doc["name"] in client.get("/network?kind=post&theme=ecologie").get_data(as_text=True)
    assert doc["name"] not in client.get("/network?kind=event").get_data(as_text=True)


def test_a_theme_page_shows_what_came_from_the_network(client, org, alice, run_jobs):
    make_post(org, title="Local", themes="Écologie")
    follow(org, alice)
    doc = article(alice)
    send(client, run_jobs, alice, "Create", doc)

    page = client.get("/themes/ecologie").get_data(as_text=True)

    assert "From the network" in page and doc["name"] in page


def test_content_nobody_follows_and_followers_only_content_are_not_kept(
        client, org, alice, run_jobs):
    assert send(client, run_jobs, alice, "Create", article(alice)) == \
        "ignored: nobody here follows its author"
    follow(org, alice)
    private = article(alice, to=[f"{alice}/followers"], cc=[])
    assert send(client, run_jobs, alice, "Create", private).startswith("ignored: not public")
    assert db.session.scalar(select(func.count(RemoteObject.id))) == 0


def test_an_update_changes_it_and_a_delete_removes_it_everywhere(
        client, org, alice, run_jobs):
    follow(org, alice)
    doc = article(alice)
    send(client, run_jobs, alice, "Create", doc)

    send(client, run_jobs, alice, "Update", {**doc, "name": "Rapport corrigé",
                                             "updated": "2026-11-22T09:00:00Z"})
    db.session.expire_all()
    assert db.session.scalar(select(RemoteObject.name)) == "Rapport corrigé"
    assert "Rapport corrigé" in client.get("/network").get_data(as_text=True)

    send(client, run_jobs, alice, "Delete", {"id": doc["id"], "type": "Tombstone"})
    assert db.session.scalar(select(func.count(RemoteObject.id))) == 0
    assert db.session.scalar(select(func.count(SearchDocument.id)).where(
        SearchDocument.kind == "remote")) == 0
    assert "Rapport" not in client.get("/network").get_data(as_text=True)


def test_an_event_keeps_its_time_and_place(client, org, alice, run_jobs):
    follow(org, alice)
    event = {"id": f"{alice}/events/1", "type": "Event", "attributedTo": alice,
             "name": "Atelier réparation", "content": "<p>Venez</p>", "to": [PUBLIC],
             "startTime": "2026-12-05T14:00:00+01:00", "endTime": "2026-12-05T17:00:00+01:00",
             "location": {"type": "Place", "name": "La Fabrique",
                          "address": {"type": "PostalAddress", "streetAddress": "3 rue Neuve",
                                      "addressLocality": "Lyon"}}}
    send(client, run_jobs, alice, "Create", event)

    kept = db.session.scalar(select(RemoteObject))
    assert kept.kind == "event" and kept.starts_at.hour == 13  # stored in UTC
    assert (kept.place_name, kept.place_address) == ("La Fabrique", "3 rue Neuve, Lyon")
    page = client.get(f"/network/{kept.id}").get_data(as_text=True)
    assert "La Fabrique" in page and "2026" in page


def test_a_deleted_actor_takes_its_content_and_leaves_placeholders(
        client, org, alice, run_jobs):
    follow(org, alice)
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", article(alice))
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet)))

    assert send(client, run_jobs, alice, "Delete", alice).startswith("done")

    assert db.session.scalar(select(func.count(RemoteObject.id))) == 0
    [comment] = comments()
    assert comment.deleted_at is not None
    assert db.session.scalar(select(RemoteActor.deleted_at)) is not None


def test_a_remote_reply_is_never_served_or_sent_as_ours(client, org, alice, peer, run_jobs):
    # A remote follower of the organisation would receive what it federates.
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet)))
    [comment] = comments()

    response = client.get(f"/comments/{comment.id}",
                          headers={"Accept": "application/activity+json"})

    assert response.status_code == 404
    from hub.federation.publishing import content_changed

    assert content_changed("comment", comment) is None


def test_the_json_stays_as_sent_in_the_activity_row(client, org, alice, run_jobs):
    billet = make_post(org)
    reply = note(alice, inReplyTo=post_url(org, billet), content=HOSTILE)
    doc = activity(alice, "Create", obj=reply)
    post(client, "/inbox", doc)
    run_jobs()
    assert json.loads(row(doc["id"]).payload)["object"]["content"] == HOSTILE


def test_the_home_page_shows_the_latest_from_the_network(client, org, alice, run_jobs):
    follow(org, alice)
    doc = article(alice)
    send(client, run_jobs, alice, "Create", doc)

    page = client.get("/").get_data(as_text=True)

    assert "From the network" in page and doc["name"] in page
    assert 'href="/network"' in page


def test_a_post_mentioning_someone_here_is_kept_and_they_are_told(
        client, org, alice, run_jobs, make_account, login):
    zoe = make_account("zoe")
    doc = note(alice, content="<p>@zoe tu viens ?</p>",
               tag=[{"type": "Mention", "href": "http://localhost/@zoe"}])

    assert send(client, run_jobs, alice, "Create", doc).startswith("done: remote object")

    kept = db.session.scalar(select(RemoteObject))
    [told] = db.session.scalars(select(Notification).where(Notification.account_id == zoe.id))
    assert told.kind == "mention" and told.url == f"/network/{kept.id}"
    login(zoe)
    assert "tu viens" in client.get("/notifications").get_data(as_text=True)


# -- replying from here -------------------------------------------------------------------------


def test_a_member_replies_to_content_from_the_network_and_the_author_receives_it(
        client, org, alice, peer, run_jobs, make_account, login):
    follow(org, alice)
    doc = article(alice)
    send(client, run_jobs, alice, "Create", doc)
    kept = db.session.scalar(select(RemoteObject))
    zoe = make_account("zoe")
    login(zoe)
    response = client.post(f"/network/{kept.id}/replies",
                           data={"body": "Merci pour ce **rapport**"})

    assert response.status_code == 302
    run_jobs()
    [(path, create)] = [(p, b) for p, b in peer.received if b.get("type") == "Create"]
    note_doc = create["object"]
    assert create["actor"] == "http://localhost/@zoe" and note_doc["inReplyTo"] == doc["id"]
    assert "<strong>rapport</strong>" in note_doc["content"]
    assert note_doc["tag"][0] == {"type": "Mention", "href": alice,
                                  "name": f"@alice@127.0.0.1:{peer.port}"}
    shown = client.get(f"/network/{kept.id}").get_data(as_text=True)
    assert "<strong>rapport</strong>" in shown
    # Its id serves the Note to peers.
    served = client.get(note_doc["id"].removeprefix("http://localhost"),
                        headers={"Accept": "application/activity+json"})
    assert served.status_code == 200 and served.get_json()["inReplyTo"] == doc["id"]

    # Deleting it sends a Delete and its id answers 410.
    reply_id = int(note_doc["id"].rsplit("/", 1)[1])
    deleted = client.post(f"/network/replies/{reply_id}/delete", data={})
    assert deleted.status_code == 302, deleted.get_data(as_text=True)[:3000]
    run_jobs()
    assert [b["type"] for _p, b in peer.received if b["type"] in ("Create", "Delete")] == [
        "Create", "Delete"]
    assert client.get(f"/network/replies/{reply_id}",
                      headers={"Accept": "application/activity+json"}).status_code == 410


def test_replying_needs_an_account_and_a_body(client, org, alice, run_jobs, make_account,
                                              login):
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))
    kept = db.session.scalar(select(RemoteObject))
    from hub.federation.models import NetworkReply

    assert client.post(f"/network/{kept.id}/replies",
                       data={"body": "x"}).status_code in (302, 401)
    login(make_account("zoe"))
    empty = client.post(f"/network/{kept.id}/replies", data={"body": " "})
    assert empty.status_code == 400 and "Write something first" in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count(NetworkReply.id))) == 0


# -- boosts, likes, reports ------------------------------------------------------------------


def serve(peer, doc: dict) -> dict:
    peer.documents[doc["id"].removeprefix(peer.base)] = (200, doc)
    return doc


def test_a_boost_by_a_followed_actor_keeps_the_authors_object(client, org, alice, peer,
                                                               run_jobs):
    bob = peer.actor("bob", OTHER_KEY)
    follow(org, alice)
    boosted = serve(peer, article(bob))

    # Whatever is embedded, the object is read from its origin.
    outcome = send(client, run_jobs, alice, "Announce", {**boosted, "name": "Faux titre"})

    assert outcome.startswith("done: remote object")
    kept = db.session.scalar(select(RemoteObject))
    assert kept.actor.uri == bob and kept.name == boosted["name"]


def test_a_lemmy_style_announce_of_a_create_unwraps(client, org, alice, peer, run_jobs):
    bob = peer.actor("bob", OTHER_KEY)
    follow(org, alice)
    page = serve(peer, {**article(bob), "type": "Page"})

    outcome = send(client, run_jobs, alice, "Announce",
                   {"id": f"{bob}/create/1", "type": "Create", "actor": bob, "object": page})

    assert outcome.startswith("done")
    assert db.session.scalar(select(RemoteObject.kind)) == "resource"


def test_boosts_nobody_asked_for_and_boosted_deletes_are_ignored(client, org, alice, peer,
                                                                 run_jobs):
    bob = peer.actor("bob", OTHER_KEY)
    boosted = serve(peer, article(bob))
    assert send(client, run_jobs, alice, "Announce", boosted["id"]) == \
        "ignored: nobody here follows who boosted it"
    follow(org, alice)
    assert send(client, run_jobs, alice, "Announce", {
        "id": f"{bob}/delete/1", "type": "Delete", "actor": bob, "object": boosted["id"]}
    ).startswith("ignored: Announce of a Delete")
    assert db.session.scalar(select(func.count(RemoteObject.id))) == 0


def test_the_organisation_relays_a_reply_to_its_other_followers(client, org, alice, peer,
                                                                 run_jobs):
    with serve_peer() as other:
        carol = other.actor("carol", OTHER_KEY)
        for who, key in ((alice, ALICE_KEY), (carol, OTHER_KEY)):
            post(client, "/inbox", activity(who), key=key)  # both follow the organisation
        run_jobs()
        billet = make_post(org)
        peer.received.clear()
        other.received.clear()
        reply = note(alice, inReplyTo=post_url(org, billet))

        send(client, run_jobs, alice, "Create", reply)

        announces = [body for _p, body in other.received if body["type"] == "Announce"]
        assert len(announces) == 1 and announces[0]["object"] == reply["id"]
        assert announces[0]["actor"] == f"http://localhost/@{org.handle}"
        assert not [b for _p, b in peer.received if b["type"] == "Announce"]


# -- avatars -----------------------------------------------------------------------------------


def png(size=(300, 200), color=(200, 30, 30)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_a_remote_avatar_is_fetched_once_and_served_from_here(client, org, peer, run_jobs):
    import io
    from pathlib import Path

    from PIL import Image

    peer.documents["/avatars/a.png"] = (200, png())
    alice = peer.actor("alice", icon={"type": "Image", "url": f"{peer.base}/avatars/a.png"})
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))
    assert peer.fetches.count("/avatars/a.png") == 1

    page = client.get("/network").get_data(as_text=True)

    assert "/media/remote/" in page and "/avatars/a.png" not in page
    src = page.split('class="avatar-mini" src="')[1].split('"')[0]
    served = client.get(src)
    data = served.get_data()
    served.close()
    assert served.status_code == 200
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP" and img.size == (96, 96)
    assert Path(client.application.config["HUB_MEDIA_PATH"], src.removeprefix("/media/")
                ).is_file()


def test_images_in_remote_content_are_shown_from_copies_served_here(client, org, alice, peer,
                                                                   run_jobs):
    import io

    from PIL import Image

    peer.documents["/media/photo.png"] = (200, png((2000, 1000)))
    billet = make_post(org)
    content = (f'<p>Regardez <img src="{peer.base}/media/photo.png" alt="Le jardin"> '
               f'<img src="data:image/png;base64,AAAA"><img src="javascript:alert(1)"></p>')
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet),
                                                 content=content))
    [comment] = comments()
    assert peer.base not in comment.body_html and "data:" not in comment.body_html
    assert comment.body_html.count("<img") == 1 and 'alt="Le jardin"' in comment.body_html
    src = comment.body_html.split('src="')[1].split('"')[0]
    assert src.startswith("/media/remote/images/") and src.endswith(".webp")
    assert peer.fetches.count("/media/photo.png") == 1  # by the job, once

    page = client.get(f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)
    assert src in page and f"{peer.base}/media/photo.png" not in page
    served = client.get(src)
    data = served.get_data()
    served.close()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP" and img.size == (1280, 640)

    # The same image in another reply is not fetched again.
    send(client, run_jobs, alice, "Create", note(alice, inReplyTo=post_url(org, billet),
                                                 content=content))
    assert peer.fetches.count("/media/photo.png") == 1


def test_images_of_a_server_whose_media_are_rejected_are_dropped(client, org, alice, peer,
                                                                run_jobs):
    from hub.federation.policies import set_policy

    set_policy(None, "127.0.0.1", "reject_media")
    db.session.commit()
    peer.documents["/media/photo.png"] = (200, png())
    billet = make_post(org)
    send(client, run_jobs, alice, "Create", note(
        alice, inReplyTo=post_url(org, billet),
        content=f'<p>Texte <img src="{peer.base}/media/photo.png"></p>'))
    [comment] = comments()
    assert "<img" not in comment.body_html and "Texte" in comment.body_html
    assert "/media/photo.png" not in peer.fetches


@pytest.mark.parametrize("served", ["html", "huge", "missing"])
def test_what_is_not_a_small_image_is_never_cached(client, org, peer, run_jobs, served):
    body = {"html": b"<html><script>alert(1)</script></html>",
            "huge": b"\x89PNG" + b"0" * (3 * 1024 * 1024)}.get(served)
    if body is not None:
        peer.documents["/avatars/a.png"] = (200, body)
    alice = peer.actor("alice", icon={"type": "Image", "url": f"{peer.base}/avatars/a.png"})
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))

    assert "/media/remote/" not in client.get("/network").get_data(as_text=True)


def test_rejected_media_are_never_fetched(client, org, peer, run_jobs):
    from hub.federation.policies import set_policy

    set_policy(None, "127.0.0.1", "reject_media")
    db.session.commit()
    peer.documents["/avatars/a.png"] = (200, png())
    alice = peer.actor("alice", icon={"type": "Image", "url": f"{peer.base}/avatars/a.png"})
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))

    assert "/avatars/a.png" not in peer.fetches


# -- an organisation shares content from the network -------------------------------------------


def test_an_editor_shares_a_partners_post_with_the_organisations_followers_and_undoes_it(
        client, org, alice, peer, run_jobs, make_account, make_member, login):
    with serve_peer() as other:
        carol = other.actor("carol", OTHER_KEY)
        post(client, "/inbox", activity(carol), key=OTHER_KEY)  # carol follows the org
        run_jobs()
        follow(org, alice)
        doc = article(alice)
        send(client, run_jobs, alice, "Create", doc)
        kept = db.session.scalar(select(RemoteObject))
        editor = make_account("redac")
        make_member(org, editor, "editor")
        login(editor)
        peer.received.clear()
        other.received.clear()

        assert client.post(f"/network/{kept.id}/share/{org.handle}", data={}).status_code == 302
        run_jobs()

        [announce] = [b for _p, b in other.received if b["type"] == "Announce"]
        assert announce["object"] == doc["id"] and announce["actor"].endswith("/@collectif")
        assert [b["type"] for _p, b in peer.received] == ["Announce"]  # the author is told
        page = client.get(f"/network/{kept.id}").get_data(as_text=True)
        assert "Shared by" in page and "Stop sharing as Collectif" in page
        # Sharing twice sends nothing more.
        client.post(f"/network/{kept.id}/share/{org.handle}", data={})
        run_jobs()
        assert len([b for _p, b in other.received if b["type"] == "Announce"]) == 1

        client.post(f"/network/{kept.id}/share/{org.handle}", data={"undo": "1"})
        run_jobs()
        [undo] = [b for _p, b in other.received if b["type"] == "Undo"]
        assert undo["object"]["id"] == announce["id"] and undo["object"]["type"] == "Announce"
        assert "Shared by" not in client.get(f"/network/{kept.id}").get_data(as_text=True)


def test_a_member_cannot_share_in_the_organisations_name(client, org, alice, peer, run_jobs,
                                                         make_account, make_member, login):
    follow(org, alice)
    send(client, run_jobs, alice, "Create", article(alice))
    kept = db.session.scalar(select(RemoteObject))
    member = make_account("membre")
    make_member(org, member, "member")
    login(member)
    assert "Share with the followers" not in client.get(f"/network/{kept.id}").get_data(
        as_text=True)
    peer.received.clear()

    assert client.post(f"/network/{kept.id}/share/{org.handle}", data={}).status_code == 403
    run_jobs()
    assert peer.received == []


# -- reports across servers (Flag) -------------------------------------------------------------


def test_a_flag_from_another_server_becomes_an_anonymous_report(client, org, alice,
                                                                run_jobs):
    from hub.moderation.models import ModerationCase, Report

    billet = make_post(org, title="Signalé")
    outcome = send(client, run_jobs, alice, "Flag", [
        post_url(org, billet), "http://localhost/@fondatrice", "http://elsewhere.example/x"])

    assert outcome == "done: 2 report(s)"
    cases = {(c.target_type, c.target_id) for c in db.session.scalars(select(ModerationCase))}
    assert ("post", billet.id) in cases and len(cases) == 2
    report = db.session.scalar(select(Report).order_by(Report.id).limit(1))
    assert report.reporter_id is None and "Forwarded by 127.0.0.1" in report.comment


def test_a_moderator_forwards_a_report_on_a_remote_reply_to_its_server(
        client, org, alice, peer, run_jobs, make_account, login):
    from hub.federation.snapshots import instance_actor_id
    from hub.moderation.models import ModerationCase

    billet = make_post(org)
    reply = note(alice, inReplyTo=post_url(org, billet))
    send(client, run_jobs, alice, "Create", reply)
    [comment] = comments()
    client.post(f"/report/comment/{comment.id}", data={"comment": "Insultant"})
    case = db.session.scalar(select(ModerationCase))
    login(make_account("modo", role="moderator"))
    peer.received.clear()

    response = client.post(f"/moderation/cases/{case.id}/act",
                           data={"action": "forward", "reason": "Propos insultants"})
    run_jobs()

    assert response.status_code == 302
    [flag] = [body for _p, body in peer.received if body["type"] == "Flag"]
    assert flag["actor"] == instance_actor_id() and flag["object"] == [alice, reply["id"]]
    assert flag["content"] == "Propos insultants"
    assert db.session.get(ModerationCase, case.id).status == "open"  # more may follow


# -- likes ---------------------------------------------------------------------------------------


def _likes() -> list[tuple]:
    from hub.federation.models import Like

    db.session.expire_all()
    return [(r.actor_type, r.object_type, r.object_id) for r in db.session.scalars(
        select(Like).order_by(Like.id))]


def test_a_like_of_a_post_is_counted_once_and_undone(client, org, alice, run_jobs):
    billet = make_post(org, title="Fête des semis")
    first = activity(alice, "Like", obj=post_url(org, billet))
    assert post(client, "/inbox", first).status_code == 202
    run_jobs()
    assert _likes() == [("remote", "post", billet.id)]
    # The same like again, under another id (Mastodon re-sends): still one.
    assert send(client, run_jobs, alice, "Like", post_url(org, billet)).startswith("done")
    assert len(_likes()) == 1
    page = client.get(f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)
    assert "1 like from the fediverse" in page

    undo = activity(alice, "Undo", obj={"id": "http://elsewhere/x", "type": "Like",
                                        "actor": alice, "object": post_url(org, billet)})
    post(client, "/inbox", undo)
    run_jobs()
    assert _likes() == []
    assert "like from the fediverse" not in client.get(
        f"/@{org.handle}/news/{billet.id}").get_data(as_text=True)


def test_an_undo_by_the_like_id_alone_removes_it(client, org, alice, run_jobs):
    billet = make_post(org)
    like = activity(alice, "Like", obj=post_url(org, billet))
    post(client, "/inbox", like)
    run_jobs()
    assert send(client, run_jobs, alice, "Undo", like["id"]).startswith("done")
    assert _likes() == []


def test_likes_of_what_is_not_public_here_are_not_kept(client, org, alice, run_jobs):
    hidden = make_post(org, visibility="members")
    assert send(client, run_jobs, alice, "Like", post_url(org, hidden)).startswith("ignored")
    assert send(client, run_jobs, alice, "Like", "http://localhost/@collectif/news/999999"
                ).startswith("ignored")
    assert send(client, run_jobs, alice, "Like", "https://elsewhere.example/x").startswith(
        "ignored")
    assert _likes() == []


def test_another_actor_cannot_undo_a_like(client, org, alice, peer, run_jobs):
    billet = make_post(org)
    send(client, run_jobs, alice, "Like", post_url(org, billet))
    with serve_peer() as other:
        carol = other.actor("carol", OTHER_KEY)
        outcome = send(client, run_jobs, carol, "Undo", {
            "type": "Like", "actor": alice, "object": post_url(org, billet)}, key=OTHER_KEY)
    assert outcome.startswith("ignored")
    assert len(_likes()) == 1


def test_a_member_likes_content_from_the_network_and_unlikes_it(
        client, org, alice, peer, run_jobs, make_account, login):
    follow(org, alice)
    doc = article(alice)
    send(client, run_jobs, alice, "Create", doc)
    kept = db.session.scalar(select(RemoteObject))
    peer.received.clear()
    assert client.post(f"/network/{kept.id}/like", data={}).status_code == 302  # to log in
    assert _likes() == []

    zoe = make_account("zoe")
    login(zoe)
    assert client.post(f"/network/{kept.id}/like", data={}).status_code == 302
    assert client.post(f"/network/{kept.id}/like", data={}).status_code == 302  # once
    assert _likes() == [("account", "remote", kept.id)]
    assert "Liked — undo" in client.get(f"/network/{kept.id}").get_data(as_text=True)
    run_jobs()
    [(path, like)] = [(p, b) for p, b in peer.received if b.get("type") == "Like"]
    assert like["actor"] == "http://localhost/@zoe" and like["object"] == doc["id"]

    assert client.post(f"/network/{kept.id}/like", data={"undo": "1"}).status_code == 302
    run_jobs()
    [undo] = [b for _p, b in peer.received if b.get("type") == "Undo"]
    assert undo["object"]["type"] == "Like" and undo["object"]["id"] == like["id"]
    assert _likes() == []
    assert client.post("/network/999999/like", data={}).status_code == 404
