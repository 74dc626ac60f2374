"""Helpers shared by the news post tests: a cast of people around one organisation, a post
factory going through the real service, and snapshots read with plain column queries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from hub.content.models import Post, SearchDocument, Tag
from hub.extensions import db
from tests.integration.orgs_support import client_for, english  # noqa: F401

ROLES = ("member", "editor", "admin")


@dataclass
class Cast:
    org: object
    other_org: object
    people: dict


@pytest.fixture
def cast(app, make_account, make_org, make_member) -> Cast:
    """"collectif" with an owner, an admin, an editor and a member; "voisins" with its own
    editor; someone from nowhere and an instance admin."""
    owner = make_account("owner")
    org = make_org(owner=owner, handle="collectif", name="Collectif")
    people = {"owner": owner, "non_member": make_account("outsider"),
              "instance_admin": make_account("sysadmin", role="admin")}
    for role in ROLES:
        people[role] = make_account(f"the_{role}")
        make_member(org, people[role], role)
    other = make_org(handle="voisins", name="Voisins")
    people["other_editor"] = make_account("other_editor")
    make_member(other, people["other_editor"], "editor")
    return Cast(org, other, people)


@pytest.fixture
def make_post(app):
    """Create a post through the service, as its author would (published by default)."""
    from hub.content.posts.services import PostDraft, create_post

    def factory(org, author, title: str = "Un billet", **fields) -> Post:
        fields.setdefault("status", "published")
        now = fields.pop("now", None)
        with app.test_request_context():
            post = create_post(author, org, PostDraft(title=title, **fields), now=now)
            db.session.commit()
        return post

    return factory


def post_columns(post_id: int) -> tuple:
    """What a write could change in a post, read from the table itself."""
    return tuple(db.session.execute(select(
        Post.title, Post.summary, Post.body_source, Post.visibility, Post.status,
        Post.publish_at, Post.published_at, Post.is_pinned, Post.edited_at, Post.deleted_at,
        Post.cover_path,
    ).where(Post.id == post_id)).one())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def snapshot() -> dict:
    posts = db.session.execute(select(Post.id, Post.title, Post.status, Post.is_pinned,
                                      Post.deleted_at, Post.edited_at).order_by(Post.id)).all()
    return {"posts": [tuple(row) for row in posts], "tags": count(Tag),
            "documents": count(SearchDocument)}


def search_document(post_id: int):
    return db.session.scalar(select(SearchDocument).where(
        SearchDocument.kind == "post", SearchDocument.object_id == post_id))


def browser_for(app, client, cast: Cast, who: str):
    return client if who == "visitor" else client_for(app, cast.people[who])
