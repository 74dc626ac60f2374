"""Deleting an account: the person's words go (placeholders where others replied), what
organisations own stays without an author, personal notification rows always go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.content.models import (
    Comment,
    Discussion,
    DiscussionFollow,
    Event,
    Post,
    Resource,
    SearchDocument,
    Shelf,
)
from hub.content.search.index import sync
from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications.models import Notification, NotificationPreference
from tests.integration.orgs_support import client_for
from tests.plugins.factories import PASSWORD


@pytest.fixture
def alice(make_account):
    return make_account("alice")


@pytest.fixture
def bob(make_account):
    return make_account("bob")


@pytest.fixture
def org(make_org, bob, alice, make_member):
    org = make_org(owner=bob, handle="collectif")
    make_member(org, alice, "editor")
    return org


def comment(author, target_type, target, text, parent=None):
    """A comment stored as the comments service stores it (counters included)."""
    row = Comment(target_type=target_type, target_id=target.id, org_id=target.org_id,
                  visibility=target.visibility, author_id=author.id,
                  parent_id=parent.id if parent else None,
                  root_id=parent.root_id if parent else None,
                  depth=parent.depth + 1 if parent else 0, body_source=text,
                  body_html=f"<p>{text}</p>", created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    if parent is None:
        row.root_id = row.id
    else:
        parent.reply_count += 1
    if target_type == "discussion":
        target.comment_count += 1
    sync("comment", row)
    db.session.commit()
    return row


def delete_account(app, account, content: str):
    response = client_for(app, account).post("/settings/delete", data={
        "current_password": PASSWORD, "content": content, "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()


@pytest.fixture
def world(org, alice, bob):
    """Alice wrote a bit of everything; Bob answered some of it."""
    now = utcnow()
    post = Post(org_id=org.id, author_id=alice.id, title="Billet d'Alice", status="published",
                published_at=now, body_source="Texte", body_html="<p>Texte</p>")
    resource = Resource(org_id=org.id, author_id=alice.id, kind="note", title="Note",
                        title_key="note")
    event = Event(org_id=org.id, author_id=alice.id, title="Rencontre", starts_at=now,
                  ends_at=now + timedelta(hours=1))
    lonely = Discussion(org_id=org.id, author_id=alice.id, title="Personne ne répond",
                        body_source="Seule", body_html="<p>Seule</p>")
    answered = Discussion(org_id=org.id, author_id=alice.id, title="Débat animé",
                          body_source="Mon avis", body_html="<p>Mon avis</p>")
    db.session.add_all([post, resource, event, lonely, answered])
    db.session.flush()
    db.session.add(Shelf(org_id=org.id, resource_id=resource.id, shared_by_id=alice.id))
    for discussion in (lonely, answered):
        sync("discussion", discussion)
    db.session.commit()
    w = {"post": post, "resource": resource, "event": event, "lonely": lonely,
         "answered": answered}
    w["alone"] = comment(alice, "post", post, "Alice seule")
    w["asked"] = comment(alice, "post", post, "Alice demande")
    w["reply"] = comment(bob, "post", post, "Bob répond", parent=w["asked"])
    w["own_lonely"] = comment(alice, "discussion", lonely, "Alice insiste")
    w["bob_answer"] = comment(bob, "discussion", answered, "Bob débat")
    w["alice_answer"] = comment(alice, "discussion", answered, "Alice répond",
                                parent=w["bob_answer"])
    db.session.add_all([
        DiscussionFollow(discussion_id=answered.id, account_id=alice.id),
        DiscussionFollow(discussion_id=answered.id, account_id=bob.id),
        Notification(account_id=alice.id, kind="reply", actor_id=bob.id, url="/",
                     excerpt="Bob répond"),
        Notification(account_id=bob.id, kind="reply", actor_id=alice.id, url="/",
                     target_type="comment", target_id=w["alice_answer"].id,
                     excerpt="Alice répond"),
        Notification(account_id=bob.id, kind="mention", actor_id=alice.id, url="/",
                     target_type="post", target_id=post.id, excerpt="Billet d'Alice"),
        NotificationPreference(account_id=alice.id, kind="reply", by_email=True),
    ])
    db.session.commit()
    return w


def texts_with(word: str) -> list[str]:
    rows = db.session.execute(select(Comment.body_source, Comment.body_html)).all()
    rows += db.session.execute(select(Discussion.body_source, Discussion.body_html)).all()
    rows += db.session.execute(select(SearchDocument.body, SearchDocument.title)).all()
    return [value for row in rows for value in row if word.lower() in (value or "").lower()]


def test_deleting_with_the_content_erases_the_persons_words(app, world, alice, bob):
    delete_account(app, alice, "delete")

    assert texts_with("Alice") == []  # no comment or first message of hers, nor index
    assert texts_with("Seule") == [] and texts_with("Mon avis") == []
    for key in ("alone", "asked", "own_lonely", "alice_answer"):
        assert db.session.get(Comment, world[key].id).deleted_at is not None
    # Bob's words stay, under a placeholder where he answered her.
    reply = db.session.get(Comment, world["reply"].id)
    assert reply.deleted_at is None and reply.body_source == "Bob répond"
    assert db.session.get(Comment, world["asked"].id).reply_count == 1


def test_a_discussion_others_answered_stays_without_its_first_message(app, world, alice):
    delete_account(app, alice, "delete")
    answered = db.session.get(Discussion, world["answered"].id)
    assert answered.deleted_at is None and answered.title == "Débat animé"
    assert answered.author_id is None and answered.body_html == ""
    assert answered.comment_count == 1  # Bob's answer
    lonely = db.session.get(Discussion, world["lonely"].id)
    assert lonely.deleted_at is not None and lonely.author_id is None
    assert db.session.scalar(select(SearchDocument).where(
        SearchDocument.kind == "discussion", SearchDocument.object_id == lonely.id)) is None


def test_what_the_organisation_owns_stays_without_an_author(app, world, alice):
    delete_account(app, alice, "delete")
    for key, model in (("post", Post), ("resource", Resource), ("event", Event)):
        row = db.session.get(model, world[key].id)
        assert row.deleted_at is None and row.author_id is None, key
    assert db.session.get(Post, world["post"].id).body_source == "Texte"
    assert db.session.scalar(select(Shelf.shared_by_id)) is None


def test_notifications_quoting_her_removed_words_go(app, world, alice, bob):
    delete_account(app, alice, "delete")
    left = db.session.execute(select(Notification.account_id, Notification.kind)).all()
    assert left == [(bob.id, "mention")]  # about the post, which stays


def test_keeping_the_content_keeps_every_word(app, world, alice, bob):
    delete_account(app, alice, "keep")
    assert db.session.get(Comment, world["alone"].id).body_source == "Alice seule"
    assert db.session.get(Discussion, world["lonely"].id).deleted_at is None
    assert db.session.get(Post, world["post"].id).author_id == alice.id
    # Her own notification rows, choices and follows go in every case.
    assert db.session.execute(select(Notification.account_id)).scalars().all() == [
        bob.id, bob.id]
    assert db.session.scalar(select(NotificationPreference)) is None
    assert db.session.execute(select(DiscussionFollow.account_id)).scalars().all() == [bob.id]


def test_a_refused_deletion_changes_nothing(app, world, alice):
    response = client_for(app, alice).post("/settings/delete", data={
        "current_password": "wrong password!", "content": "delete", "confirm": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Comment, world["alone"].id).body_source == "Alice seule"
    assert db.session.scalar(select(NotificationPreference.by_email)) is True
