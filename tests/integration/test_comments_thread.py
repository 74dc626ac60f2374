"""Comments: writing, replying as a tree, "show more", edits, deletions, who may comment,
notifications and visibility."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.content.comments import services as comment_services
from hub.content.discussions import services as discussion_services
from hub.content.events.services import EventDraft, create_event
from hub.content.models import Comment, Discussion, DiscussionFollow, SearchDocument
from hub.extensions import db
from hub.notifications.models import Notification
from tests.integration.orgs_support import client_for, english  # noqa: F401


@pytest.fixture
def cast(app, make_account, make_org, make_member):
    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    people = {"owner": owner, "outsider": make_account("outsider"),
              "author": make_account("author"), "alice": make_account("alice"),
              "bob": make_account("bob")}
    for name in ("author", "alice", "bob"):
        make_member(org, people[name], "member")
    make_member(org, make_account("boss"), "admin")
    return org, people


def open_discussion(app, account, org, **extra):
    with app.test_request_context():
        discussion = discussion_services.open_discussion(
            account, org, discussion_services.DiscussionDraft(
                title=extra.pop("title", "Le fil"), body="Premier message", **extra))
    db.session.commit()
    return discussion


def comment_as(app, account, target, body, parent=None, target_type="discussion"):
    with app.test_request_context():
        comment = comment_services.add_comment(account, target_type, target, body,
                                               parent=parent)
    db.session.commit()
    return comment


def notifications(account=None):
    query = select(Notification.account_id, Notification.kind)
    if account is not None:
        query = query.where(Notification.account_id == account.id)
    return sorted(db.session.execute(query.order_by(Notification.id)).all())


def comment_count():
    return db.session.scalar(select(func.count()).select_from(Comment))


def test_a_member_comments_and_the_thread_counts_it(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    alice = client_for(app, people["alice"])
    url = f"/@collectif/discussions/{discussion.id}"
    before = discussion.last_activity_at

    response = alice.post(f"/comments/discussion/{discussion.id}", data={"body": "**Oui** !"})

    assert response.status_code == 302
    comment = db.session.scalar(select(Comment))
    assert response.headers["Location"] == f"{url}#comment-{comment.id}"
    assert (comment.root_id, comment.depth, comment.org_id) == (comment.id, 0, org.id)
    db.session.refresh(discussion)
    assert discussion.comment_count == 1 and discussion.last_activity_at >= before
    assert db.session.get(DiscussionFollow, (discussion.id, people["alice"].id))
    assert db.session.scalar(select(func.count()).where(SearchDocument.kind == "comment")) == 1
    page = client.get(url).get_data(as_text=True)
    assert "<strong>Oui</strong>" in page and f'id="comment-{comment.id}"' in page


def test_an_empty_comment_is_refused_and_nothing_stored(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    alice = client_for(app, people["alice"])

    response = alice.post(f"/comments/discussion/{discussion.id}", data={"body": "   "})

    assert response.status_code == 302
    assert comment_count() == 0
    page = alice.get(response.headers["Location"]).get_data(as_text=True)
    assert "Write something first." in page


@pytest.mark.parametrize("flag, message", [
    ("is_locked", "This discussion is locked: no new comments."),
    ("is_closed", "This discussion is closed: no new comments."),
])
def test_locked_and_closed_discussions_refuse_comments(app, cast, flag, message):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    earlier = comment_as(app, people["bob"], discussion, "Avant")
    setattr(discussion, flag, True)
    db.session.commit()
    alice = client_for(app, people["alice"])

    top = alice.post(f"/comments/discussion/{discussion.id}", data={"body": "Encore"})
    reply = alice.post(f"/comments/{earlier.id}/reply", data={"body": "Encore"})

    assert top.status_code == 403 and reply.status_code == 403
    assert message in top.get_data(as_text=True)
    assert comment_count() == 1
    page = alice.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert message in page and 'action="/comments/discussion/' not in page


@pytest.mark.parametrize("who, allowed", [
    ("visitor", False), ("outsider", True), ("alice", True),
])
def test_anyone_logged_in_comments_a_public_thread(app, client, cast, who, allowed):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    browser = client if who == "visitor" else client_for(app, people[who])

    response = browser.post(f"/comments/discussion/{discussion.id}", data={"body": "Salut"})

    assert response.status_code == 302
    assert comment_count() == (1 if allowed else 0)
    if not allowed:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("who, allowed", [
    ("visitor", False), ("outsider", False), ("alice", True),
])
def test_only_members_comment_a_members_only_thread(app, client, cast, who, allowed):
    org, people = cast
    discussion = open_discussion(app, people["author"], org, visibility="members")
    browser = client if who == "visitor" else client_for(app, people[who])

    response = browser.post(f"/comments/discussion/{discussion.id}", data={"body": "Salut"})

    assert response.status_code == (302 if who in ("visitor", "alice") else 404)
    assert comment_count() == (1 if allowed else 0)
    if allowed:
        assert db.session.scalar(select(Comment.visibility)) == "members"


def test_suspended_accounts_cannot_comment(app, cast, make_account):
    from hub.errors import PermissionDenied

    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    suspended = make_account("suspended", status="suspended")
    with app.test_request_context(), pytest.raises(PermissionDenied, match="cannot comment"):
        comment_services.add_comment(suspended, "discussion", discussion, "x")
    assert comment_count() == 0


def _chain(app, people, discussion, length):
    """A reply to a reply to a reply… ``length`` comments deep."""
    parent = None
    comments = []
    for depth in range(length):
        parent = comment_as(app, people["alice" if depth % 2 else "bob"], discussion,
                            f"niveau {depth}", parent=parent)
        comments.append(parent)
    return comments


def test_replies_show_two_levels_then_a_show_more_link(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    chain = _chain(app, people, discussion, 6)

    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)

    for depth in range(3):
        assert f"niveau {depth}" in page
    assert "niveau 3" not in page
    assert f'href="/comments/{chain[2].id}">Show more (1)' in page
    assert f'href="/comments/{chain[0].id}#reply"' not in page  # visitors get no reply link

    deeper = client.get(f"/comments/{chain[2].id}").get_data(as_text=True)
    for depth in (2, 3, 4):
        assert f"niveau {depth}" in deeper
    assert "niveau 5" not in deeper and f'href="/comments/{chain[4].id}">Show more (1)' in deeper
    assert f'href="/comments/{chain[1].id}"' in deeper  # back to the parent


def test_a_reply_from_the_comment_page_works_without_javascript(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    first = comment_as(app, people["bob"], discussion, "Question")
    alice = client_for(app, people["alice"])
    thread = alice.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert f'href="/comments/{first.id}#reply"' in thread

    form_page = alice.get(f"/comments/{first.id}").get_data(as_text=True)
    response = alice.post(f"/comments/{first.id}/reply", data={"body": "Réponse"})

    assert 'id="reply"' in form_page and f'action="/comments/{first.id}/reply"' in form_page
    assert response.status_code == 302
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == first.id))
    assert (reply.root_id, reply.depth) == (first.id, 1)
    db.session.refresh(first)
    assert first.reply_count == 1


def test_an_empty_reply_shows_the_form_again(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    first = comment_as(app, people["bob"], discussion, "Question")

    response = client_for(app, people["alice"]).post(f"/comments/{first.id}/reply",
                                                     data={"body": ""})

    assert response.status_code == 400 and comment_count() == 1


def test_authors_edit_with_an_edited_mark(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    mine = comment_as(app, people["alice"], discussion, "Version 1")
    alice = client_for(app, people["alice"])

    assert "Version 1" in alice.get(f"/comments/{mine.id}/edit").get_data(as_text=True)
    response = alice.post(f"/comments/{mine.id}/edit", data={"body": "Version 2"})

    assert response.status_code == 302
    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert "Version 2" in page and "edited" in page and "Version 1" not in page


@pytest.mark.parametrize("who", ["visitor", "outsider", "bob", "owner"])
def test_nobody_else_edits_or_deletes_a_comment(app, client, cast, who):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    mine = comment_as(app, people["alice"], discussion, "À moi")
    browser = client if who == "visitor" else client_for(app, people[who])

    edit = browser.post(f"/comments/{mine.id}/edit", data={"body": "Piraté"})
    delete = browser.post(f"/comments/{mine.id}/delete", data={})

    expected = 302 if who == "visitor" else 403
    assert edit.status_code == expected and delete.status_code == expected
    db.session.expire_all()
    row = db.session.get(Comment, mine.id)
    assert (row.body_source, row.deleted_at, row.edited_at) == ("À moi", None, None)


def test_a_deleted_comment_with_replies_leaves_a_placeholder(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    parent = comment_as(app, people["alice"], discussion, "Texte à effacer")
    comment_as(app, people["bob"], discussion, "Réponse qui reste", parent=parent)
    alice = client_for(app, people["alice"])

    assert alice.post(f"/comments/{parent.id}/delete", data={}).status_code == 302

    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert "Comment deleted" in page and "Texte à effacer" not in page
    assert "Réponse qui reste" in page
    assert db.session.scalar(select(func.count()).where(SearchDocument.kind == "comment")) == 1
    db.session.refresh(discussion)
    assert discussion.comment_count == 1


def test_a_deleted_comment_without_replies_disappears_with_its_empty_placeholder(
        app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    parent = comment_as(app, people["alice"], discussion, "Parent")
    child = comment_as(app, people["bob"], discussion, "Enfant", parent=parent)
    client_for(app, people["alice"]).post(f"/comments/{parent.id}/delete", data={})

    client_for(app, people["bob"]).post(f"/comments/{child.id}/delete", data={})

    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert "Comment deleted" not in page and "Enfant" not in page
    assert "No comments yet." in page
    assert client.get(f"/comments/{child.id}").status_code == 404
    db.session.refresh(discussion)
    assert discussion.comment_count == 0


def test_a_reply_notifies_the_parent_author_and_followers_once(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    question = comment_as(app, people["bob"], discussion, "Question")
    before = notifications()
    alice = client_for(app, people["alice"])

    alice.post(f"/comments/{question.id}/reply", data={"body": "Réponse"})

    new = [row for row in notifications() if row not in before]
    assert sorted(new) == sorted([(people["bob"].id, "reply"),
                                  (people["author"].id, "discussion")])
    assert notifications(people["alice"]) == []
    note = db.session.scalar(select(Notification).where(
        Notification.account_id == people["bob"].id, Notification.kind == "reply"))
    assert note.url.startswith("/comments/") and note.excerpt == "Réponse"


def test_a_top_level_comment_notifies_the_discussion_author(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)

    comment_as(app, people["alice"], discussion, "Bonjour")

    assert notifications() == [(people["author"].id, "reply")]


def test_mentions_notify_and_unfollowed_people_are_not_told(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    comment_as(app, people["bob"], discussion, "Je suis là")
    with app.test_request_context():
        discussion_services.set_following(people["bob"], discussion, False)
    db.session.commit()

    comment_as(app, people["alice"], discussion, "Merci @outsider !")

    assert notifications() == sorted([(people["author"].id, "reply"),
                                      (people["author"].id, "reply"),
                                      (people["outsider"].id, "mention")])


def test_mentions_in_members_only_threads_reach_only_members(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org, visibility="members")

    comment_as(app, people["alice"], discussion, "Voir @outsider et @bob")

    assert (people["outsider"].id, "mention") not in notifications()
    assert (people["bob"].id, "mention") in notifications()


def test_members_only_comments_stay_out_of_sight(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org, visibility="members")
    secret = comment_as(app, people["alice"], discussion, "Confidentiel")

    for viewer in (client, client_for(app, people["outsider"])):
        assert viewer.get(f"/comments/{secret.id}").status_code == 404
        assert viewer.get(f"/@collectif/discussions/{discussion.id}").status_code == 404
    assert client_for(app, people["bob"]).get(f"/comments/{secret.id}").status_code == 200
    assert db.session.scalar(select(SearchDocument.visibility).where(
        SearchDocument.kind == "comment")) == "members"


def test_making_a_thread_public_carries_its_comments(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org, visibility="members")
    comment_as(app, people["alice"], discussion, "Confidentiel")

    client_for(app, people["author"]).post(
        f"/@collectif/discussions/{discussion.id}/edit",
        data={"title": "Le fil", "body": "Premier message", "visibility": "public",
              "submit": "Publish"})

    assert db.session.scalar(select(Comment.visibility)) == "public"
    assert db.session.scalar(select(SearchDocument.visibility).where(
        SearchDocument.kind == "comment")) == "public"


def test_top_level_comments_page_with_a_cursor(app, client, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(55):
        row = Comment(target_type="discussion", target_id=discussion.id, org_id=org.id,
                      author_id=people["alice"].id, depth=0, body_html=f"<p>n°{number:02d}</p>",
                      created_at=base + timedelta(minutes=number))
        db.session.add(row)
        db.session.flush()
        row.root_id = row.id
    db.session.commit()

    first = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    more = re.search(r'href="([^"]*comments_after=[^"]+)"', first).group(1)
    second = client.get(more.replace("&amp;", "&")).get_data(as_text=True)

    assert re.findall(r"n°(\d\d)", first) == [f"{n:02d}" for n in range(50)]
    assert re.findall(r"n°(\d\d)", second) == [f"{n:02d}" for n in range(50, 55)]


def test_comments_under_an_event(app, client, cast, make_member):
    org, people = cast
    make_member(org, people["outsider"], "editor")
    with app.test_request_context():
        event = create_event(people["outsider"], org, EventDraft(
            title="Fête", start_date=datetime(2030, 5, 1).date(),
            start_time=datetime(2030, 5, 1, 18).time(), end_date=datetime(2030, 5, 1).date(),
            end_time=datetime(2030, 5, 1, 22).time()))
    db.session.commit()
    alice = client_for(app, people["alice"])

    response = alice.post(f"/comments/event/{event.id}", data={"body": "J'y serai"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/@collectif/events/{event.id}")
    assert "J'y serai" in client.get(f"/@collectif/events/{event.id}").get_data(
        as_text=True)
    assert notifications() == [(people["outsider"].id, "reply")]
    assert db.session.scalar(select(Discussion.id)) is None


def test_comments_on_unknown_or_deleted_targets_are_not_found(app, cast):
    org, people = cast
    discussion = open_discussion(app, people["author"], org)
    discussion.deleted_at = datetime.now(UTC)
    db.session.commit()
    alice = client_for(app, people["alice"])

    assert alice.post(f"/comments/discussion/{discussion.id}",
                      data={"body": "x"}).status_code == 404
    assert alice.post("/comments/post/999", data={"body": "x"}).status_code == 404
    assert alice.post("/comments/widget/1", data={"body": "x"}).status_code == 404
    assert comment_count() == 0


def test_comments_under_posts_and_resources_but_never_drafts(app, client, cast):
    from hub.content.models import Post, Resource

    org, people = cast
    now = datetime.now(UTC)
    post = Post(org_id=org.id, author_id=people["author"].id, title="Billet",
                status="published", published_at=now)
    draft = Post(org_id=org.id, author_id=people["author"].id, title="Brouillon")
    resource = Resource(org_id=org.id, author_id=people["bob"].id, kind="note",
                        title="Guide", title_key="guide")
    db.session.add_all([post, draft, resource])
    db.session.commit()
    alice = client_for(app, people["alice"])

    on_post = alice.post(f"/comments/post/{post.id}", data={"body": "Bravo"})
    on_resource = alice.post(f"/comments/resource/{resource.id}", data={"body": "Utile"})
    on_draft = alice.post(f"/comments/post/{draft.id}", data={"body": "Trop tôt"})

    assert on_post.headers["Location"].startswith(f"/@collectif/news/{post.id}#comment-")
    assert on_resource.headers["Location"].startswith(f"/library/{resource.id}#comment-")
    assert on_draft.status_code == 404
    assert sorted(notifications()) == sorted([(people["author"].id, "reply"),
                                              (people["bob"].id, "reply")])
    comment_id = on_post.headers["Location"].rsplit("-", 1)[1]
    page = client.get(f"/comments/{comment_id}").get_data(as_text=True)
    assert "Bravo" in page and f'href="/@collectif/news/{post.id}"' in page
