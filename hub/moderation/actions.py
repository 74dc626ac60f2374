"""Moderation actions: on content (hide, reinstate, delete, lock, mark sensitive), on people
(warn, limit, suspend, and their reversals; remove from an organisation, ban from its
spaces), and settling a case without action (dismiss).

Every action needs a reason, may cite charter articles, is written to the audit log
(``AdminAction``, append-only), tells the person concerned, and — when it settles a case —
tells the reporters the outcome with the moderators' public explanation (in-app for
members, by e-mail for visitors who left an address). Instance moderators may do all of
it; an organisation's admins act on content in its spaces and on its members.

Reversible actions record what they changed (``details``), so reversing one — after an
appeal, say — restores exactly that. Services flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from hub.admin.models import AdminAction
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.moderation import cases as case_rules
from hub.moderation.models import ModerationCase, OrgBan

CONTENT_TYPES = ("post", "resource", "comment", "discussion", "event")
#: Action → the target types it applies to.
ACTIONS: dict[str, tuple[str, ...]] = {
    "hide": CONTENT_TYPES,
    "reinstate": CONTENT_TYPES,
    "delete": CONTENT_TYPES,
    "lock": ("discussion",),
    "sensitive": CONTENT_TYPES,
    "warn": ("account",),
    "limit": ("account",),
    "unlimit": ("account",),
    "suspend": ("account",),
    "unsuspend": ("account",),
    "remove_member": ("account",),
    "ban": ("account",),
    "unban": ("account",),
    "dismiss": (*CONTENT_TYPES, "account", "organisation"),
    # A reply received from another server: the report goes to its moderators (Flag).
    "forward": ("comment",),
}
#: What only instance moderators may do (organisation admins act within their spaces).
INSTANCE_ONLY = frozenset({"warn", "limit", "unlimit", "suspend", "unsuspend", "forward"})
#: Actions that leave the case open (more may follow).
KEEPS_CASE_OPEN = frozenset({"forward"})
#: Actions on people within one organisation.
ORG_ACTIONS = frozenset({"remove_member", "ban", "unban"})
#: What undoes what (an appeal granted applies the reversal).
REVERSAL = {"hide": "reinstate", "limit": "unlimit", "suspend": "unsuspend", "ban": "unban",
            "sensitive": "sensitive", "lock": "lock"}
MAX_REASON = 2_000
MAX_WARNING = 200


@dataclass(frozen=True)
class ActionDraft:
    action: str
    target_type: str
    target_id: int
    reason: str
    articles: tuple[int, ...] = ()
    #: For "sensitive": the warning shown before the content ("" removes it).
    warning: str = ""
    #: For actions on people within an organisation, and to settle cases.
    org_id: int | None = None
    case_id: int | None = None
    #: Told to the reporters when it settles a case.
    public_explanation: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _refuse() -> PermissionDenied:
    return PermissionDenied(_("You may not take this action here."))


def _authorise(actor: Any, draft: ActionDraft, target: Any) -> int | None:
    """The organisation the action is taken in (None: the instance); raise when refused."""
    if draft.action in INSTANCE_ONLY:
        if not case_rules.is_instance_moderator(actor):
            raise _refuse()
        return None
    if draft.action in ORG_ACTIONS:
        if draft.org_id is None:
            raise ValidationFailed(_("Choose the organisation."), field="org_id")
        if not case_rules.may_moderate_space(actor, draft.org_id):
            raise _refuse()
        return draft.org_id
    org_id = case_rules.space_of(draft.target_type, target)
    if draft.target_type in ("account", "organisation"):
        if not case_rules.is_instance_moderator(actor):
            raise _refuse()
        return None
    if not case_rules.may_moderate_space(actor, org_id):
        raise _refuse()
    return org_id


def take_action(actor: Any, draft: ActionDraft) -> AdminAction:
    """Apply one action, log it, tell whom it concerns; settle its case when given."""
    if draft.action not in ACTIONS or draft.target_type not in ACTIONS[draft.action]:
        raise ValidationFailed(_("This action does not apply here."), field="action")
    target = case_rules.load_target(draft.target_type, draft.target_id)
    if target is None:
        raise NotFound("moderation target")
    org_id = _authorise(actor, draft, target)
    reason = (draft.reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason: the person concerned will read it."),
                               field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(_("A reason is %(n)d characters at most.", n=MAX_REASON),
                               field="reason")
    case = None
    if draft.case_id is not None:
        case = db.session.get(ModerationCase, draft.case_id)
        if case is None or (case.target_type, case.target_id) != (draft.target_type,
                                                                  draft.target_id) \
                and not (case.target_type != "account" and draft.target_type == "account"
                         and case.subject_id == draft.target_id):
            raise ValidationFailed(_("This case is about something else."), field="case")
        if not case_rules.may_moderate_space(actor, case.org_id):
            raise _refuse()
    if actor is not None and draft.target_type == "account" and target.id == actor.id:
        raise ValidationFailed(_("You cannot act on your own account."))
    details = {"articles": list(case_rules.valid_articles(draft.articles)), **draft.details}
    details.update(_apply(draft, target, details) or {})
    row = AdminAction(actor_id=getattr(actor, "id", None),
                      action=f"moderation.{draft.action}", target_type=draft.target_type,
                      target_id=draft.target_id, reason=reason, details=details,
                      case_id=case.id if case is not None else None,
                      org_id=org_id if org_id is not None else getattr(case, "org_id", None),
                      created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    if draft.action not in ("dismiss", "forward"):
        _tell_subject(row, draft.target_type, target)
    if case is not None and case.status == "open" and draft.action not in KEEPS_CASE_OPEN:
        settle(case, draft.action, draft.public_explanation)
    return row


# -- effects ----------------------------------------------------------------------------------


def _federate(target_type: str, target: Any) -> None:
    from hub.federation.publishing import content_changed

    if target_type in ("post", "event", "resource", "comment"):
        content_changed(target_type, target)


def _reindex(target_type: str, target: Any) -> None:
    from hub.content.search.index import sync

    sync(target_type, target)


def _shown(kind: str, target: Any, delta: int) -> None:
    if kind == "comment" and target.deleted_at is None:
        from hub.content.comments.services import count_shown

        count_shown(target, delta)


def _apply(draft: ActionDraft, target: Any, details: dict[str, Any]) -> dict[str, Any] | None:
    now = utcnow()
    action, kind = draft.action, draft.target_type
    if action == "hide":
        if target.hidden_at is None:
            target.hidden_at = now
            _shown(kind, target, -1)
            _reindex(kind, target)
            _federate(kind, target)
    elif action == "reinstate":
        if target.hidden_at is not None:
            target.hidden_at = None
            _shown(kind, target, +1)
            _reindex(kind, target)
            _federate(kind, target)
    elif action == "delete":
        if kind == "comment":
            from hub.content.comments.services import withdraw_comment

            withdraw_comment(target)
        elif target.deleted_at is None:
            target.deleted_at = now
            _reindex(kind, target)
        _federate(kind, target)
    elif action == "lock":
        target.is_locked = not target.is_locked if details.get("toggle") else True
    elif action == "sensitive":
        target.content_warning = (draft.warning or "").strip()[:MAX_WARNING]
        _federate(kind, target)
    elif action == "limit":
        target.limited_at = target.limited_at or now
    elif action == "unlimit":
        target.limited_at = None
    elif action == "suspend":
        return _suspend(target)
    elif action == "unsuspend":
        return _unsuspend(target, draft.details.get("hidden", {}))
    elif action == "remove_member":
        _remove_member(draft.org_id, target)
    elif action == "ban":
        if db.session.get(OrgBan, (draft.org_id, target.id)) is None:
            db.session.add(OrgBan(org_id=draft.org_id, account_id=target.id,
                                  reason=draft.reason.strip(), created_at=now))
        _remove_member(draft.org_id, target, quietly=True)
    elif action == "forward":
        _forward(target, draft.reason)
    elif action == "unban":
        ban = db.session.get(OrgBan, (draft.org_id, target.id))
        if ban is not None:
            db.session.delete(ban)
    db.session.flush()
    return None


def _forward(comment: Any, reason: str) -> None:
    """Send the report to the server the reply came from, as this instance (a Flag signed
    by the instance actor: the reporters stay anonymous)."""
    from hub.federation.delivery import new_activity_uri, publish
    from hub.federation.snapshots import instance_actor_id
    from hub.federation.vocab import context

    author = comment.remote_author
    if author is None or not comment.ap_uri:
        raise ValidationFailed(_("Only a reply received from another server can be "
                                 "forwarded to it."), field="action")
    inbox = author.shared_inbox or author.inbox
    flag = {"@context": context(), "id": new_activity_uri(), "type": "Flag",
            "actor": instance_actor_id(), "object": [author.uri, comment.ap_uri],
            "content": reason.strip()[:MAX_REASON], "to": [author.uri]}
    publish(("instance", 0), flag, [inbox] if inbox else [])


def _suspend(account: Any) -> dict[str, Any]:
    """Login refused and everything they published hidden — only what was not hidden
    already, recorded so that lifting the suspension shows exactly that again."""
    from hub.content.models import Comment, Discussion, Event, Post, Resource

    if account.role == "admin":
        raise ValidationFailed(_("An instance administrator cannot be suspended."))
    account.status = "suspended"
    account.security_stamp = _new_stamp()  # logs them out everywhere
    now = utcnow()
    hidden: dict[str, list[int]] = {}
    for kind, model in (("post", Post), ("resource", Resource), ("comment", Comment),
                        ("discussion", Discussion), ("event", Event)):
        ids = list(db.session.scalars(select(model.id).where(
            model.author_id == account.id, model.hidden_at.is_(None),
            model.deleted_at.is_(None))))
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids)).values(hidden_at=now)
                               .execution_options(synchronize_session=False))
            hidden[kind] = ids
            _resync(kind, model, ids)
    return {"hidden": hidden}


def _unsuspend(account: Any, hidden: dict[str, list[int]]) -> dict[str, Any]:
    from hub.content.models import Comment, Discussion, Event, Post, Resource

    account.status = "active"
    models = {"post": Post, "resource": Resource, "comment": Comment,
              "discussion": Discussion, "event": Event}
    if not hidden:
        hidden = _last_suspension(account.id)
    for kind, ids in hidden.items():
        model = models.get(kind)
        if model is None or not ids:
            continue
        db.session.execute(update(model).where(model.id.in_(ids)).values(hidden_at=None)
                           .execution_options(synchronize_session=False))
        _resync(kind, model, ids)
    return {"shown": hidden}


def _last_suspension(account_id: int) -> dict[str, list[int]]:
    row = db.session.scalar(select(AdminAction).where(
        AdminAction.action == "moderation.suspend", AdminAction.target_type == "account",
        AdminAction.target_id == account_id).order_by(AdminAction.id.desc()).limit(1))
    return dict((row.details or {}).get("hidden", {})) if row is not None else {}


def _resync(kind: str, model: Any, ids: list[int]) -> None:
    for obj in db.session.scalars(select(model).where(model.id.in_(ids))
                                  .execution_options(populate_existing=True)):
        _reindex(kind, obj)
        _federate(kind, obj)


def _new_stamp() -> str:
    import secrets

    return secrets.token_hex(16)


def _remove_member(org_id: int | None, account: Any, quietly: bool = False) -> None:
    from hub.orgs.models import Membership

    membership = db.session.scalar(select(Membership).where(
        Membership.org_id == org_id, Membership.account_id == account.id))
    if membership is None:
        if quietly:
            return
        raise ValidationFailed(_("This person is not a member of the organisation."))
    if membership.role == "owner":
        raise ValidationFailed(_("The owner cannot be removed: ownership must be "
                                 "transferred first."))
    db.session.delete(membership)


def is_banned(account: Any, org_id: int) -> bool:
    if account is None or not getattr(account, "is_authenticated", False):
        return False
    return db.session.get(OrgBan, (org_id, account.id)) is not None


# -- telling people --------------------------------------------------------------------------


def _subject_account(target_type: str, target: Any) -> Any:
    from hub.accounts.models import Account

    subject_id = case_rules.subject_of(target_type, target)
    return db.session.get(Account, subject_id) if subject_id is not None else None


def _tell_subject(row: AdminAction, target_type: str, target: Any) -> None:
    from hub.notifications.services import notify
    from hub.urls import local_path

    account = _subject_account(target_type, target)
    if account is None:
        return
    if account.status == "suspended" and account.email:
        # Notifications are for active accounts; a suspended person is told by e-mail.
        from hub.mail.services import queue_email
        from hub.moderation.appeals import link_token
        from hub.urls import external_url

        queue_email(account.email, "moderation_notice", account.locale or "fr",
                    account=account, action=row,
                    url=external_url("moderation.appeal_by_link",
                                     token=link_token(account, row)))
        return
    notify(account, "moderation", target_type="action", target_id=row.id,
           url=local_path("moderation.my_record"), excerpt=row.reason[:300])


def settle(case: ModerationCase, outcome: str, explanation: str = "") -> None:
    """Close a case and tell its reporters the outcome."""
    case.status = "dismissed" if outcome == "dismiss" else "resolved"
    case.outcome = outcome
    case.public_explanation = (explanation or "").strip()[:MAX_REASON]
    case.resolved_at = case.updated_at = utcnow()
    db.session.flush()
    _tell_reporters(case)


def _tell_reporters(case: ModerationCase) -> None:
    from hub.admin.queries import instance_settings
    from hub.mail.services import queue_email
    from hub.notifications.services import notify
    from hub.urls import external_url, local_path

    now = utcnow()
    for report in case.reports:
        if report.told_at is not None:
            continue
        if report.reporter is not None and report.reporter.status == "active":
            notify(report.reporter, "outcome", target_type="report", target_id=report.id,
                   url=local_path("moderation.my_reports"),
                   excerpt=case.public_explanation[:300])
            report.told_at = now
        elif report.reporter_email:
            queue_email(report.reporter_email, "report_outcome",
                        instance_settings().default_locale, case=case,
                        outcome=case.outcome, url=external_url("charter.index"))
            report.told_at = now
    db.session.flush()


# -- the person's record ------------------------------------------------------------------


def record_of(account: Any) -> list[AdminAction]:
    """The moderation actions about this person or their content, newest first."""
    from sqlalchemy import or_

    from hub.content.models import Comment, Discussion, Event, Post, Resource

    owned = []
    for kind, model in (("post", Post), ("resource", Resource), ("comment", Comment),
                        ("discussion", Discussion), ("event", Event)):
        owned.append((AdminAction.target_type == kind) & AdminAction.target_id.in_(
            select(model.id).where(model.author_id == account.id)))
    return list(db.session.scalars(
        select(AdminAction).where(
            AdminAction.action.like("moderation.%"), AdminAction.action != "moderation.dismiss",
            or_((AdminAction.target_type == "account") & (AdminAction.target_id == account.id),
                *owned))
        .order_by(AdminAction.id.desc()).limit(200)))
