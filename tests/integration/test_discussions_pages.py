"""Discussion threads: opening, the list, who may write and moderate, visibility, queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.content.discussions import services
from hub.content.models import Comment, Discussion, DiscussionFollow, SearchDocument
from hub.extensions import db
from tests.integration.orgs_support import client_for, english  # noqa: F401

ROLES = ("visitor", "non_member", "member", "editor", "admin", "owner", "instance_admin")


@pytest.fixture
def cast(app, make_account, make_org, make_member):
    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    people = {"owner": owner, "non_member": make_account("outsider"),
              "instance_admin": make_account("sysadmin", role="admin")}
    for role in ("member", "editor", "admin"):
        people[role] = make_account(f"the_{role}")
        make_member(org, people[role], role)
    return org, people


def browser(app, client, people, who):
    return client if who == "visitor" else client_for(app, people[who])


def open_as(app, account, org, title="Habitat partagé", body="Parlons-en.", **extra):
    with app.test_request_context():
        discussion = services.open_discussion(account, org, services.DiscussionDraft(
            title=title, body=body, **extra))
    db.session.commit()
    return discussion


def columns(discussion_id):
    return tuple(db.session.execute(select(
        Discussion.title, Discussion.body_source, Discussion.is_locked, Discussion.is_pinned,
        Discussion.is_closed, Discussion.deleted_at, Discussion.visibility)
        .where(Discussion.id == discussion_id)).one())


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_member_opens_a_discussion_and_follows_it(app, client, cast):
    org, people = cast
    member = client_for(app, people["member"])

    response = member.post("/@collectif/discussions/new", data={
        "title": "Jardin partagé", "body": "Qui a des *graines* ?", "themes": "",
        "visibility": "public", "submit": "Publish"})

    assert response.status_code == 302
    discussion = db.session.scalar(select(Discussion))
    assert response.headers["Location"] == f"/@collectif/discussions/{discussion.id}"
    assert discussion.body_html.strip() == "<p>Qui a des <em>graines</em> ?</p>"
    assert db.session.get(DiscussionFollow, (discussion.id, people["member"].id))
    assert db.session.scalar(select(SearchDocument.title).where(
        SearchDocument.kind == "discussion")) == "Jardin partagé"
    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert "Jardin partagé" in page and "<em>graines</em>" in page
    assert "Log in to comment" in page


def test_the_preview_button_renders_without_saving(app, cast):
    org, people = cast
    member = client_for(app, people["member"])

    response = member.post("/@collectif/discussions/new", data={
        "title": "T", "body": "**gras**", "visibility": "public", "preview": "Preview"})

    assert response.status_code == 200
    assert "<strong>gras</strong>" in response.get_data(as_text=True)
    assert count(Discussion) == 0


def test_bad_input_is_refused_with_a_message_and_nothing_stored(app, cast):
    org, people = cast
    member = client_for(app, people["member"])

    response = member.post("/@collectif/discussions/new", data={
        "title": "   ", "body": "x", "visibility": "public", "submit": "Publish"})
    bad_audience = member.post("/@collectif/discussions/new", data={
        "title": "T", "body": "x", "visibility": "everyone", "submit": "Publish"})

    assert response.status_code == 400 and bad_audience.status_code == 400
    assert count(Discussion) == 0


@pytest.mark.parametrize("who", ROLES)
def test_only_members_open_discussions(app, client, cast, who):
    org, people = cast
    allowed = who in {"member", "editor", "admin", "owner", "instance_admin"}

    response = browser(app, client, people, who).post("/@collectif/discussions/new", data={
        "title": "T", "body": "B", "visibility": "public", "submit": "Publish"})

    if allowed:
        assert response.status_code == 302
        assert count(Discussion) == 1
    else:
        assert response.status_code == (302 if who == "visitor" else 403)
        if who == "visitor":
            assert response.headers["Location"].startswith("/login")
        assert count(Discussion) == 0


@pytest.mark.parametrize("who", ROLES)
def test_only_the_author_edits(app, client, cast, who):
    org, people = cast
    discussion = open_as(app, people["member"], org)
    before = columns(discussion.id)
    people["author"] = people["member"]
    actor = "author" if who == "member" else who

    response = browser(app, client, people, actor).post(
        f"/@collectif/discussions/{discussion.id}/edit",
        data={"title": "Nouveau titre", "body": "Nouveau", "visibility": "public",
              "submit": "Publish"})

    if actor == "author":
        assert response.status_code == 302
        assert columns(discussion.id)[:2] == ("Nouveau titre", "Nouveau")
        page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
        assert "edited" in page
    else:
        assert response.status_code in (302, 403)
        assert columns(discussion.id) == before


@pytest.mark.parametrize("who", ROLES)
def test_the_author_and_admins_delete(app, client, cast, who):
    org, people = cast
    author = people["editor"] if who != "editor" else people["member"]
    discussion = open_as(app, author, org)
    before = columns(discussion.id)
    allowed = who in {"admin", "owner", "instance_admin"}

    response = browser(app, client, people, who).post(
        f"/@collectif/discussions/{discussion.id}/delete", data={})

    if allowed:
        assert response.status_code == 302
        assert columns(discussion.id)[5] is not None
        assert client.get(f"/@collectif/discussions/{discussion.id}").status_code == 404
        assert db.session.scalar(select(func.count()).where(
            SearchDocument.kind == "discussion")) == 0
    else:
        assert response.status_code in (302, 403)
        assert columns(discussion.id) == before


def test_authors_delete_their_own(app, cast):
    org, people = cast
    discussion = open_as(app, people["member"], org)

    response = client_for(app, people["member"]).post(
        f"/@collectif/discussions/{discussion.id}/delete", data={})

    assert response.status_code == 302 and columns(discussion.id)[5] is not None


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("action", ["lock", "pin", "close"])
def test_only_admins_moderate(app, client, cast, who, action):
    org, people = cast
    discussion = open_as(app, people["member"], org)
    before = columns(discussion.id)
    allowed = who in {"admin", "owner", "instance_admin"}

    response = browser(app, client, people, who).post(
        f"/@collectif/discussions/{discussion.id}/moderate", data={"action": action})

    if allowed:
        assert response.status_code == 302
        flags = dict(zip(("lock", "pin", "close"), columns(discussion.id)[2:5], strict=True))
        assert flags == {name: name == action for name in flags}
    else:
        assert response.status_code in (302, 403)
        assert columns(discussion.id) == before


def test_moderation_reverses_and_refuses_unknown_actions(app, cast):
    org, people = cast
    discussion = open_as(app, people["member"], org)
    admin = client_for(app, people["admin"])

    for action in ("lock", "pin", "close", "unlock", "unpin", "reopen"):
        assert admin.post(f"/@collectif/discussions/{discussion.id}/moderate",
                          data={"action": action}).status_code == 302
    bad = admin.post(f"/@collectif/discussions/{discussion.id}/moderate",
                     data={"action": "explode"})

    assert bad.status_code == 400
    assert columns(discussion.id)[2:5] == (False, False, False)


def test_the_list_puts_pinned_first_then_the_latest_activity(app, client, cast):
    org, people = cast
    old = open_as(app, people["member"], org, title="Ancienne")
    pinned = open_as(app, people["member"], org, title="Épinglée")
    recent = open_as(app, people["member"], org, title="Récente")
    pinned.is_pinned = True
    base = datetime(2025, 1, 1, tzinfo=UTC)
    old.last_activity_at, pinned.last_activity_at = base, base - timedelta(days=9)
    recent.last_activity_at = base + timedelta(days=1)
    db.session.commit()

    page = client.get("/@collectif/discussions").get_data(as_text=True)

    assert page.index("Épinglée") < page.index("Récente") < page.index("Ancienne")
    assert "Pinned" in page


def test_the_list_pages_with_a_keyset_cursor(app, client, cast):
    org, people = cast
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(35):
        db.session.add(Discussion(org_id=org.id, author_id=people["member"].id,
                                  title=f"Fil {number:02d}", body_html="<p>x</p>",
                                  is_pinned=number in (3, 30),
                                  last_activity_at=base + timedelta(hours=number)))
    db.session.commit()

    first = client.get("/@collectif/discussions").get_data(as_text=True)
    next_url = re.search(r'href="(/@collectif/discussions\?after=[^"]+)"', first).group(1)
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)

    titles = re.findall(r"Fil (\d\d)", first) + re.findall(r"Fil (\d\d)", second)
    expected = ["30", "03"] + [f"{n:02d}" for n in range(34, -1, -1) if n not in (3, 30)]
    assert titles == expected


def test_members_only_discussions_are_hidden_from_visitors_and_other_members(
        app, client, cast, make_account, make_org, make_member):
    org, people = cast
    secret = open_as(app, people["member"], org, title="Budget interne", visibility="members")
    other_org = make_org(handle="autre")
    stranger = make_account("stranger")
    make_member(other_org, stranger, "admin")

    for viewer in (client, client_for(app, stranger), client_for(app, people["non_member"])):
        assert viewer.get(f"/@collectif/discussions/{secret.id}").status_code == 404
        assert "Budget interne" not in viewer.get("/@collectif/discussions").get_data(
            as_text=True)
        assert "Budget interne" not in viewer.get("/@collectif").get_data(as_text=True)
    insider = client_for(app, people["editor"])
    assert insider.get(f"/@collectif/discussions/{secret.id}").status_code == 200
    assert "Budget interne" in insider.get("/@collectif/discussions").get_data(as_text=True)
    assert "Budget interne" in insider.get("/@collectif").get_data(as_text=True)
    assert db.session.scalar(select(SearchDocument.visibility).where(
        SearchDocument.kind == "discussion")) == "members"


def test_the_organisation_page_lists_recent_discussions(app, client, cast):
    org, people = cast
    open_as(app, people["member"], org, title="Assemblée générale")

    page = client.get("/@collectif").get_data(as_text=True)

    assert "Assemblée générale" in page and 'href="/@collectif/discussions"' in page


def test_follow_and_unfollow(app, cast):
    org, people = cast
    discussion = open_as(app, people["member"], org)
    reader = client_for(app, people["editor"])
    key = (discussion.id, people["editor"].id)

    assert "Follow" in reader.get(f"/@collectif/discussions/{discussion.id}").get_data(
        as_text=True)
    assert reader.post(f"/@collectif/discussions/{discussion.id}/follow",
                       data={}).status_code == 302
    assert db.session.get(DiscussionFollow, key) is not None
    assert "Stop following" in reader.get(f"/@collectif/discussions/{discussion.id}").get_data(
        as_text=True)
    assert reader.post(f"/@collectif/discussions/{discussion.id}/unfollow",
                       data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(DiscussionFollow, key) is None


def test_nobody_follows_a_thread_they_cannot_read(app, cast):
    org, people = cast
    secret = open_as(app, people["member"], org, visibility="members")

    response = client_for(app, people["non_member"]).post(
        f"/@collectif/discussions/{secret.id}/follow", data={})

    assert response.status_code == 404
    assert db.session.get(DiscussionFollow, (secret.id, people["non_member"].id)) is None


def _thread(org, author, discussion, top_level):
    """``top_level`` comments, each with a reply and a reply to the reply (fast rows)."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for number in range(top_level):
        top = Comment(target_type="discussion", target_id=discussion.id, org_id=org.id,
                      author_id=author.id, depth=0, body_html=f"<p>c{number}</p>",
                      created_at=base + timedelta(minutes=number), reply_count=1)
        db.session.add(top)
        db.session.flush()
        top.root_id = top.id
        reply = Comment(target_type="discussion", target_id=discussion.id, org_id=org.id,
                        author_id=author.id, parent_id=top.id, root_id=top.id, depth=1,
                        body_html="<p>r</p>", created_at=top.created_at, reply_count=1)
        db.session.add(reply)
        db.session.flush()
        db.session.add(Comment(target_type="discussion", target_id=discussion.id,
                               org_id=org.id, author_id=author.id, parent_id=reply.id,
                               root_id=top.id, depth=2, body_html="<p>rr</p>",
                               created_at=top.created_at, reply_count=2))
    db.session.commit()


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_the_discussion_page_runs_a_fixed_number_of_queries(app, client, cast, make_account,
                                                            count_queries, who):
    org, people = cast
    viewer = browser(app, client, people, who)
    counts = []
    for size in (5, 200):
        discussion = open_as(app, people["member"], org, title=f"Fil {size}")
        _thread(org, make_account(), discussion, size)
        url = f"/@collectif/discussions/{discussion.id}"
        viewer.get(url)  # warm the page cache's version and the templates
        with count_queries() as counter:
            response = viewer.get(url + "?fresh=1")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Show more (2)") == min(size, 50)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_list_page_runs_a_fixed_number_of_queries(app, client, cast, make_account,
                                                      count_queries):
    org, people = cast
    counts = []
    for size in (3, 60):
        for number in range(size):
            db.session.add(Discussion(org_id=org.id, author_id=make_account().id,
                                      title=f"F{number}", body_html=""))
        db.session.commit()
        with count_queries() as counter:
            assert client.get(f"/@collectif/discussions?n={size}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_themes_come_from_the_field_and_the_hashtags(app, client, cast):
    org, people = cast

    discussion = open_as(app, people["member"], org, body="Parlons #Écologie ici",
                         themes="Habitat, logement")

    assert [tag.slug for tag in discussion.themes] == ["ecologie", "habitat", "logement"]
    page = client.get(f"/@collectif/discussions/{discussion.id}").get_data(as_text=True)
    assert 'href="/themes/ecologie"' in page and 'href="/themes/habitat"' in page


def test_a_mention_in_the_first_message_notifies(app, cast):
    from hub.notifications.models import Notification

    org, people = cast
    open_as(app, people["member"], org, body="Qu'en penses-tu @the_editor ?")

    assert db.session.execute(select(Notification.account_id, Notification.kind)).all() == [
        (people["editor"].id, "mention")]
