"""Content rows made directly (as the content services will), indexed like they index.

Search, theme and home tests use these so they do not depend on the writing services.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from hub.content.models import Comment, Discussion, Event, Post, Resource
from hub.content.search import index
from hub.content.themes import resolve_themes
from hub.extensions import db
from hub.models_base import utcnow
from hub.sanitize import render_markdown

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _done(kind: str, obj, themes: str):
    if themes:
        obj.themes = resolve_themes([t.strip() for t in themes.split(",")])
    db.session.add(obj)
    db.session.flush()
    index.sync(kind, obj)
    db.session.commit()
    return obj


def make_post(org, title="Un billet", body="", themes="", visibility="public",
              status="published", when=None, **extra) -> Post:
    when = when or utcnow() - timedelta(minutes=next(_seq))
    post = Post(org_id=org.id, title=title, body_source=body, body_html=render_markdown(body),
                visibility=visibility, status=status,
                published_at=when if status == "published" else None, created_at=when,
                **extra)
    return _done("post", post, themes)


def make_resource(org, title="Une ressource", abstract="", themes="", visibility="public",
                  language="fr", file_text="", when=None, **extra) -> Resource:
    when = when or utcnow() - timedelta(minutes=next(_seq))
    resource = Resource(org_id=org.id, kind="note", title=title, title_key=title.lower(),
                        abstract_source=abstract, abstract_html=render_markdown(abstract),
                        language=language, visibility=visibility, file_text=file_text,
                        created_at=when, **extra)
    return _done("resource", resource, themes)


def make_event(org, title="Une rencontre", description="", themes="", visibility="public",
               starts_in=timedelta(days=3), **extra) -> Event:
    starts = utcnow() + starts_in
    event = Event(org_id=org.id, title=title, description_source=description,
                  description_html=render_markdown(description), starts_at=starts,
                  ends_at=starts + timedelta(hours=2), visibility=visibility, **extra)
    return _done("event", event, themes)


def make_discussion(org, title="Un échange", body="", themes="", visibility="public",
                    **extra) -> Discussion:
    discussion = Discussion(org_id=org.id, title=title, body_source=body,
                            body_html=render_markdown(body), visibility=visibility, **extra)
    return _done("discussion", discussion, themes)


def make_comment(target_type, target, body="", **extra) -> Comment:
    comment = Comment(target_type=target_type, target_id=target.id, org_id=target.org_id,
                      visibility=getattr(target, "visibility", "public"), body_source=body,
                      body_html=render_markdown(body), **extra)
    db.session.add(comment)
    db.session.flush()
    comment.root_id = comment.id
    index.sync("comment", comment)
    db.session.commit()
    return comment
