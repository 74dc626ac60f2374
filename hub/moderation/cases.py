"""Reports and the cases they open: who may report what, grouping by item, who sees which
case, assignment and internal notes.

Anyone may report what they can see — members, and visitors without an account (an
optional e-mail address to be told the outcome). Several reports on one item join its open
case. Instance moderators see every case; an organisation's admins see the cases about
its spaces (its content and the comments under it). Services flush; the view commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.keyset import beyond
from hub.models_base import utcnow
from hub.moderation.models import (
    CASE_KINDS,
    CASE_STATUSES,
    TARGET_TYPES,
    CaseNote,
    ModerationCase,
    Report,
)

MAX_COMMENT = 2_000
MAX_NOTE = 5_000
PAGE_SIZE = 30
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")


# -- what is reported ---------------------------------------------------------------------


def _models() -> dict[str, Any]:
    from hub.accounts.models import Account
    from hub.content.models import Comment, Discussion, Event, Post, Resource
    from hub.orgs.models import Organisation

    return {"post": Post, "resource": Resource, "comment": Comment, "discussion": Discussion,
            "event": Event, "account": Account, "organisation": Organisation}


def load_target(target_type: str, target_id: int) -> Any | None:
    if target_type not in TARGET_TYPES:
        return None
    return db.session.get(_models()[target_type], target_id)


def space_of(target_type: str, target: Any) -> int | None:
    """The organisation whose space the item is in (None: the instance's own matter)."""
    if target_type in ("account", "organisation"):
        return None
    return target.org_id


def subject_of(target_type: str, target: Any) -> int | None:
    """The account the item belongs to, told of what is done about it."""
    if target_type == "account":
        return target.id
    if target_type == "organisation":
        return None
    return getattr(target, "author_id", None)


def title_of(target_type: str, target: Any) -> str:
    """A short label of the item for lists (never HTML)."""
    from hub.sanitize import plain_text

    if target is None:
        return _("(deleted)")
    if target_type == "account":
        return f"@{target.handle}"
    if target_type == "organisation":
        return target.name
    if target_type == "comment":
        return plain_text(target.body_html).strip()[:80] or _("(empty comment)")
    return getattr(target, "title", "") or _("(untitled)")


def may_see_target(target_type: str, target: Any, viewer: Any) -> bool:
    from hub.content.visibility import is_viewable

    if target is None:
        return False
    if target_type == "account":
        return target.status in ("active", "suspended")
    if target_type == "organisation":
        return True
    return is_viewable(target, viewer)


# -- who moderates what --------------------------------------------------------------------


def is_instance_moderator(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) \
        and actor.is_moderator


def may_moderate_space(actor: Any, org_id: int | None) -> bool:
    """Instance moderators everywhere; an organisation's admins in its spaces."""
    if is_instance_moderator(actor):
        return True
    if org_id is None or actor is None or not getattr(actor, "is_authenticated", False):
        return False
    from hub.orgs.access import may
    from hub.orgs.models import Organisation

    org = db.session.get(Organisation, org_id)
    return org is not None and may("moderate", actor, org)


def moderated_org_ids(actor: Any) -> list[int]:
    """The organisations whose spaces ``actor`` moderates as an admin."""
    from hub.orgs.models import Membership
    from hub.orgs.permissions import can

    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return [m.org_id for m in db.session.scalars(
        select(Membership).where(Membership.account_id == actor.id))
        if can("moderate", m.role)]


def may_see_queue(actor: Any) -> bool:
    return is_instance_moderator(actor) or bool(moderated_org_ids(actor))


# -- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportDraft:
    target_type: str
    target_id: int
    articles: tuple[int, ...] = ()
    comment: str = ""
    email: str = ""


def open_case(target_type: str, target: Any, kind: str = "report") -> ModerationCase:
    """The open case of an item, created when there is none (reports and prevention)."""
    if kind not in CASE_KINDS:
        raise ValueError(kind)
    case = db.session.scalar(select(ModerationCase).where(
        ModerationCase.target_type == target_type, ModerationCase.target_id == target.id,
        ModerationCase.status == "open").limit(1))
    now = utcnow()
    if case is None:
        case = ModerationCase(target_type=target_type, target_id=target.id,
                              org_id=space_of(target_type, target), kind=kind,
                              status="open", subject_id=subject_of(target_type, target),
                              created_at=now, updated_at=now)
        db.session.add(case)
        db.session.flush()
        _tell_moderators(case)
    else:
        case.updated_at = now
        if kind == "report" and case.kind != "report":
            case.kind = "report"  # a held item someone reports: the report comes first
        elif kind == "held" and case.kind == "flagged":
            case.kind = "held"  # flagged, then held by another rule: it waits for approval
    return case


def _tell_moderators(case: ModerationCase) -> None:
    from hub.accounts.models import Account
    from hub.notifications.services import notify
    from hub.urls import local_path

    path = local_path("moderation.case", case_id=case.id)
    told: set[int] = set()
    moderators = db.session.scalars(select(Account).where(
        Account.role.in_(("moderator", "admin")), Account.status == "active"))
    for account in moderators:
        told.add(account.id)
        notify(account, "case", target_type="case", target_id=case.id, url=path,
               excerpt=case.target_type, send_email=False)
    if case.org_id is not None:
        from hub.orgs.models import Membership
        from hub.orgs.permissions import can

        for membership in db.session.scalars(select(Membership).where(
                Membership.org_id == case.org_id)):
            if can("moderate", membership.role) and membership.account_id not in told:
                account = db.session.get(Account, membership.account_id)
                if account is not None:
                    notify(account, "case", target_type="case", target_id=case.id,
                           url=path, excerpt=case.target_type, send_email=False)


def valid_articles(numbers: tuple[int, ...]) -> tuple[int, ...]:
    """The cited article numbers that exist in the current instance charter."""
    from hub.moderation.charter import current_version

    version = current_version()
    known = {a.position for a in version.articles} if version is not None else set()
    return tuple(sorted({n for n in numbers if n in known}))


def file_report(reporter: Any, draft: ReportDraft) -> Report:
    """Someone reports an item they can see; it joins the item's open case."""
    from hub.moderation.charter import current_version, require_charter

    if draft.target_type not in TARGET_TYPES:
        raise NotFound("report target")
    target = load_target(draft.target_type, draft.target_id)
    viewer = reporter if reporter is not None and reporter.is_authenticated else None
    if target is None or not may_see_target(draft.target_type, target, viewer):
        raise NotFound("report target")
    if viewer is not None:
        if viewer.status != "active":
            raise PermissionDenied(_("Your account cannot report."))
        require_charter(viewer)
        if draft.target_type == "account" and target.id == viewer.id:
            raise ValidationFailed(_("You cannot report yourself."))
    articles = valid_articles(draft.articles)
    comment = (draft.comment or "").strip()
    if not articles and not comment:
        raise ValidationFailed(_("Choose the article(s) it breaks, or say what is wrong."),
                               field="articles")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(_("A report is %(n)d characters at most.", n=MAX_COMMENT),
                               field="comment")
    email = (draft.email or "").strip()
    if viewer is None and email and not _EMAIL_RE.match(email):
        raise ValidationFailed(_("This e-mail address does not look right."), field="email")
    case = open_case(draft.target_type, target)
    version = current_version()
    report = Report(case_id=case.id, reporter_id=viewer.id if viewer else None,
                    reporter_email=email[:254] if viewer is None else "",
                    charter_version_id=version.id if version is not None else None,
                    articles=list(articles), comment=comment, created_at=utcnow())
    db.session.add(report)
    db.session.flush()
    return report


def local_item(uri: str) -> tuple[str, Any] | None:
    """The local item an ActivityPub id names (for reports from other servers)."""
    from hub.federation.follows import local_party
    from hub.federation.remote_content import _local_endpoint

    party = local_party(uri)
    if party is not None and party[0] in ("account", "organisation"):
        target = load_target(party[0], party[1])
        return (party[0], target) if target is not None else None
    found = _local_endpoint(uri)
    if found is None:
        return None
    endpoint, args = found
    kinds = {"posts.post": ("post", "post_id"), "events.event": ("event", "event_id"),
             "resources.resource": ("resource", "resource_id"),
             "discussions.discussion": ("discussion", "discussion_id"),
             "comments.comment": ("comment", "comment_id")}
    if endpoint not in kinds:
        return None
    kind, argument = kinds[endpoint]
    target = load_target(kind, args[argument])
    return (kind, target) if target is not None else None


def file_remote_report(host: str, uris: tuple[str, ...], comment: str) -> list[Report]:
    """A report forwarded by another server (an ActivityPub ``Flag``): one report per
    local item it names, anonymous, with the server's name in the comment."""
    from hub.sanitize import plain_text

    text = plain_text(comment or "").strip()[:MAX_COMMENT - 100]
    reports = []
    for uri in uris:
        found = local_item(uri)
        if found is None:
            continue
        kind, target = found
        if kind != "account" and kind != "organisation" and (
                target.deleted_at is not None):
            continue
        case = open_case(kind, target)
        report = Report(case_id=case.id, reporter_id=None, reporter_email="",
                        articles=[], created_at=utcnow(),
                        comment=_("Forwarded by %(host)s: %(text)s", host=host, text=text)
                        if text else _("Forwarded by %(host)s.", host=host))
        db.session.add(report)
        reports.append(report)
    db.session.flush()
    return reports


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"
    kind: str = ""
    article: int | None = None
    org_id: int | None = None
    mine: bool = False


@dataclass(frozen=True)
class QueuePage:
    cases: list[ModerationCase]
    next_cursor: tuple[datetime, int] | None


def list_cases(viewer: Any, filters: QueueFilters,
               before: tuple[datetime, int] | None = None) -> QueuePage:
    """The cases ``viewer`` may see, newest first (keyset on created_at, id)."""
    if not may_see_queue(viewer):
        raise PermissionDenied(_("Only moderators see the moderation queue."))
    stmt = select(ModerationCase).options(selectinload(ModerationCase.reports))
    if not is_instance_moderator(viewer):
        stmt = stmt.where(ModerationCase.org_id.in_(moderated_org_ids(viewer)))
    if filters.status in CASE_STATUSES:
        stmt = stmt.where(ModerationCase.status == filters.status)
    if filters.kind in CASE_KINDS:
        stmt = stmt.where(ModerationCase.kind == filters.kind)
    if filters.org_id is not None:
        stmt = stmt.where(ModerationCase.org_id == filters.org_id)
    if filters.mine:
        stmt = stmt.where(ModerationCase.assigned_to_id == viewer.id)
    if before is not None:
        stmt = stmt.where(beyond((ModerationCase.created_at, ModerationCase.id), before,
                                 descending=True))
    rows = list(db.session.scalars(stmt.order_by(ModerationCase.created_at.desc(),
                                                 ModerationCase.id.desc())
                                   .limit(PAGE_SIZE * 4 if filters.article else PAGE_SIZE + 1)))
    if filters.article:
        # Articles live in each report's JSON list: filtered here, on a bounded page.
        rows = [c for c in rows if any(filters.article in (r.articles or [])
                                       for r in c.reports)][:PAGE_SIZE + 1]
    cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        cursor = (rows[-1].created_at, rows[-1].id)
    return QueuePage(rows, cursor)


def get_case(viewer: Any, case_id: int) -> ModerationCase:
    case = db.session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound("case")
    if not may_moderate_space(viewer, case.org_id):
        raise PermissionDenied(_("You do not moderate this space."))
    return case


def assign(actor: Any, case: ModerationCase, assignee: Any | None) -> None:
    if not may_moderate_space(actor, case.org_id):
        raise PermissionDenied(_("You do not moderate this space."))
    if assignee is not None and not may_moderate_space(assignee, case.org_id):
        raise ValidationFailed(_("This person does not moderate this space."),
                               field="assignee")
    case.assigned_to_id = assignee.id if assignee is not None else None
    case.updated_at = utcnow()
    db.session.flush()


def add_note(actor: Any, case: ModerationCase, body: str) -> CaseNote:
    if not may_moderate_space(actor, case.org_id):
        raise PermissionDenied(_("You do not moderate this space."))
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(_("Write something first."), field="body")
    if len(text) > MAX_NOTE:
        raise ValidationFailed(_("A note is %(n)d characters at most.", n=MAX_NOTE),
                               field="body")
    note = CaseNote(case_id=case.id, author_id=actor.id, body=text, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    return note


def notes_of(case: ModerationCase) -> list[CaseNote]:
    return list(db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                                   .order_by(CaseNote.id)))


def reports_by(account: Any) -> list[Report]:
    """What a member reported, newest first, with the cases (their outcome)."""
    return list(db.session.scalars(
        select(Report).where(Report.reporter_id == account.id)
        .options(selectinload(Report.case)).order_by(Report.id.desc()).limit(100)))
