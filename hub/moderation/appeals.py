"""Appeals: the person concerned contests an action once, within the delay the instance
sets; another moderator than the one who acted decides. Granting applies the reversal
(through ``actions``, so it is logged and told like any action); both sides are told.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from hub.admin.models import AdminAction
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.moderation import actions as act
from hub.moderation import cases as case_rules
from hub.moderation.models import Appeal

MAX_TEXT = 3_000
#: Days an action may be appealed when the instance sets nothing else.
DEFAULT_DAYS = 14
#: Actions that can be appealed (a dismissal or a reversal cannot).
APPEALABLE = frozenset({"hide", "delete", "lock", "sensitive", "warn", "limit", "suspend",
                        "remove_member", "ban"})


def appeal_days() -> int:
    from hub.admin.queries import instance_settings

    return int(getattr(instance_settings(), "appeal_days", DEFAULT_DAYS) or DEFAULT_DAYS)


def _name(row: AdminAction) -> str:
    return row.action.removeprefix("moderation.")


def concerns(account: Any, row: AdminAction) -> bool:
    """Whether ``row`` is about ``account`` or its content."""
    target = case_rules.load_target(row.target_type, row.target_id or 0)
    if target is None:
        return False
    return case_rules.subject_of(row.target_type, target) == account.id


def may_appeal(account: Any, row: AdminAction) -> str | None:
    """Why ``account`` may not appeal ``row`` (None when it may)."""
    if not row.action.startswith("moderation.") or _name(row) not in APPEALABLE:
        return _("This decision cannot be appealed.")
    if not concerns(account, row):
        return _("Only the person concerned may appeal.")
    if db.session.scalar(select(Appeal.id).where(Appeal.action_id == row.id)) is not None:
        return _("This decision was appealed already: an appeal is made once.")
    if utcnow() > row.created_at + timedelta(days=appeal_days()):
        return _("The delay to appeal (%(n)d days) is over.", n=appeal_days())
    return None


def link_token(account: Any, row: AdminAction) -> str:
    """A signed link for appealing ``row`` without logging in: a suspended person cannot
    log in, yet must be able to appeal (it lives as long as the delay to appeal)."""
    from hub.tokens import make_token

    return make_token("appeal", {"account": account.id, "action": row.id})


def read_link(token: str) -> tuple[Any, AdminAction]:
    """The account and the action an appeal link names, or NotFound."""
    from hub.accounts.models import Account
    from hub.tokens import TokenInvalid, read_token

    try:
        data = read_token("appeal", token, max_age=(appeal_days() + 1) * 86_400)
    except TokenInvalid:
        raise NotFound(_("This link is not valid or has expired.")) from None
    account = db.session.get(Account, data.get("account"))
    row = db.session.get(AdminAction, data.get("action"))
    if account is None or row is None or account.status == "deleted":
        raise NotFound(_("This link is not valid or has expired."))
    return account, row


def file_appeal(account: Any, action_id: int, text: str) -> Appeal:
    row = db.session.get(AdminAction, action_id)
    if row is None:
        raise NotFound("action")
    refusal = may_appeal(account, row)
    if refusal:
        raise PermissionDenied(refusal) if "once" not in refusal else Conflict(refusal)
    body = (text or "").strip()
    if not body:
        raise ValidationFailed(_("Say why the decision should change."), field="text")
    if len(body) > MAX_TEXT:
        raise ValidationFailed(_("An appeal is %(n)d characters at most.", n=MAX_TEXT),
                               field="text")
    appeal = Appeal(action_id=row.id, account_id=account.id, text=body, status="pending",
                    created_at=utcnow())
    db.session.add(appeal)
    db.session.flush()
    _tell_deciders(appeal, row)
    return appeal


def _tell_deciders(appeal: Appeal, row: AdminAction) -> None:
    from hub.accounts.models import Account
    from hub.notifications.services import notify
    from hub.urls import local_path

    for account in db.session.scalars(select(Account).where(
            Account.role.in_(("moderator", "admin")), Account.status == "active",
            Account.id != (row.actor_id or 0))):
        notify(account, "appeal", target_type="appeal", target_id=appeal.id,
               url=local_path("moderation.appeal", appeal_id=appeal.id),
               excerpt=appeal.text[:300], send_email=False)


def may_decide(actor: Any, appeal: Appeal) -> str | None:
    row = db.session.get(AdminAction, appeal.action_id)
    if row is None or not case_rules.may_moderate_space(actor, row.org_id):
        return _("You do not moderate this space.")
    if row.actor_id == actor.id:
        return _("Another moderator decides: not the one who took the decision.")
    if appeal.status != "pending":
        return _("This appeal was decided already.")
    return None


def decide(actor: Any, appeal: Appeal, grant: bool, decision: str) -> AdminAction | None:
    """Grant (the action is reversed, logged and told) or deny; the appellant is told."""
    from hub.notifications.services import notify
    from hub.urls import local_path

    refusal = may_decide(actor, appeal)
    if refusal:
        raise PermissionDenied(refusal)
    text = (decision or "").strip()
    if not text:
        raise ValidationFailed(_("Explain the decision: the person will read it."),
                               field="decision")
    row = db.session.get(AdminAction, appeal.action_id)
    assert row is not None
    reversal = None
    if grant:
        reversal = _reverse(actor, row, text)
    appeal.status = "granted" if grant else "denied"
    appeal.decided_by_id = actor.id
    appeal.decided_at = utcnow()
    appeal.decision = text[:MAX_TEXT]
    db.session.add(AdminAction(actor_id=actor.id, action="moderation.appeal_" + appeal.status,
                               target_type=row.target_type, target_id=row.target_id,
                               reason=text, case_id=row.case_id, org_id=row.org_id,
                               details={"appeal": appeal.id, "action": row.id},
                               created_at=utcnow()))
    db.session.flush()
    account = appeal.account
    if account is not None and account.status == "suspended":
        _mail_decision(account, appeal, row)  # after a denial, still suspended: by e-mail
    elif account is not None:
        notify(account, "appeal", target_type="appeal", target_id=appeal.id,
               url=local_path("moderation.my_record"), excerpt=text[:300])
    return reversal


def _mail_decision(account: Any, appeal: Appeal, row: AdminAction) -> None:
    from hub.mail.services import queue_email
    from hub.urls import external_url

    if account.email:
        queue_email(account.email, "appeal_decision", account.locale or "fr", account=account,
                    appeal=appeal, action=row,
                    url=external_url("moderation.appeal_by_link",
                                     token=link_token(account, row)))


def _reverse(actor: Any, row: AdminAction, reason: str) -> AdminAction | None:
    name = _name(row)
    details = dict(row.details or {})
    if name == "delete":
        return _undelete(actor, row, reason)
    reversal = act.REVERSAL.get(name)
    if reversal is None:  # a warning: granting it withdraws the strike
        return None
    if name == "lock":
        target = case_rules.load_target(row.target_type, row.target_id or 0)
        if target is not None:
            target.is_locked = False
        return None
    return act.take_action(actor, act.ActionDraft(
        action=reversal, target_type=row.target_type, target_id=row.target_id or 0,
        reason=reason, warning="", org_id=row.org_id,  # "sensitive" with no warning lifts it
        details={"hidden": details.get("hidden", {})} if name == "suspend" else {}))


def _undelete(actor: Any, row: AdminAction, reason: str) -> AdminAction | None:
    from hub.content.search.index import sync
    from hub.federation.publishing import content_changed

    target = case_rules.load_target(row.target_type, row.target_id or 0)
    if target is None:
        return None
    target.deleted_at = None
    db.session.flush()
    sync(row.target_type, target)
    if row.target_type in ("post", "event", "resource", "comment"):
        content_changed(row.target_type, target)
    return None


def pending_appeals(actor: Any) -> list[Appeal]:
    """Appeals waiting for a decision that ``actor`` may take."""
    rows = db.session.scalars(select(Appeal).where(Appeal.status == "pending")
                              .order_by(Appeal.created_at))
    return [a for a in rows if may_decide(actor, a) is None]


def appeals_of(account: Any) -> dict[int, Appeal]:
    """The person's appeals, by the action they contest."""
    return {a.action_id: a for a in db.session.scalars(
        select(Appeal).where(Appeal.account_id == account.id))}
