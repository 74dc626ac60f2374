"""Who may see which content: the one set of rules pages, lists, search and feeds reuse.

A row is *listed* (in lists, themes, search, feeds) when it is published, not deleted,
not hidden by moderation, and public — or members-only and the viewer belongs to its
organisation. A row is *viewable* by its URL under the same rules, except that unlisted
posts are viewable by anyone with the link, and authors still see their own hidden rows.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context
from sqlalchemy import ColumnElement, and_, false, or_, select, true

from hub.content.models import Post
from hub.extensions import db
from hub.orgs.models import Membership


def member_org_ids(viewer: Any) -> frozenset[int]:
    """Organisations the viewer belongs to (empty for visitors); once per request."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_member_org_ids", {}) if has_request_context() else {}
    if viewer.id not in cache:
        cache[viewer.id] = frozenset(db.session.scalars(
            select(Membership.org_id).where(Membership.account_id == viewer.id)))
    return cache[viewer.id]


def listed_clause(model: Any, viewer: Any) -> ColumnElement[bool]:
    """SQL condition for rows of ``model`` the viewer may see in lists."""
    orgs = member_org_ids(viewer)
    members = (and_(model.visibility == "members", model.org_id.in_(orgs))
               if orgs else false())
    clause = and_(model.deleted_at.is_(None), model.hidden_at.is_(None),
                  or_(model.visibility == "public", members))
    if model is Post:
        clause = and_(clause, model.status == "published")
    return clause


def is_listed(obj: Any, viewer: Any) -> bool:
    if obj.deleted_at is not None or obj.hidden_at is not None:
        return False
    if isinstance(obj, Post) and obj.status != "published":
        return False
    return obj.visibility == "public" or (
        obj.visibility == "members" and obj.org_id in member_org_ids(viewer))


def is_viewable(obj: Any, viewer: Any, *, may_edit: bool = False) -> bool:
    """May the viewer open this item's page? ``may_edit``: the viewer is its author or an
    editor of its organisation, who also sees drafts, scheduled and hidden rows."""
    if obj.deleted_at is not None:
        return False
    if may_edit:
        return True
    if obj.hidden_at is not None:
        return False
    if isinstance(obj, Post) and obj.status != "published":
        return False
    if obj.visibility in ("public", "unlisted"):
        return True
    return obj.org_id in member_org_ids(viewer)


def public_clause(model: Any) -> ColumnElement[bool]:
    """Rows anyone may see: what feeds and federation publish."""
    clause = and_(model.deleted_at.is_(None), model.hidden_at.is_(None),
                  model.visibility == "public")
    return and_(clause, model.status == "published") if model is Post else and_(clause, true())
