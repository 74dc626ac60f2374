"""Contributions held for approval: they are stored hidden, with a "held" case in the
moderation queue, and appear when a moderator reinstates them.

Who is held: accounts limited by moderation. Prevention rules (the first contributions of
new accounts, organisations that hold every comment in their spaces, word filters) add
their reasons through ``hold_reasons``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.extensions import db
from hub.models_base import utcnow

#: Extra rules: (actor, kind, obj) → a reason to hold, or None.
_RULES: list[Callable[[Any, str, Any], str | None]] = []


def add_rule(rule: Callable[[Any, str, Any], str | None]) -> None:
    """Prevention registers its rules here (once, at import)."""
    if rule not in _RULES:
        _RULES.append(rule)


def hold_reasons(actor: Any, kind: str, obj: Any) -> list[str]:
    from hub.moderation import prevention

    prevention.install()
    reasons = []
    if getattr(actor, "limited_at", None) is not None:
        reasons.append("limited")
    for rule in _RULES:
        reason = rule(actor, kind, obj)
        if reason:
            reasons.append(reason)
    return reasons


def hold_if_needed(actor: Any, kind: str, obj: Any) -> bool:
    """Hide a new contribution and queue it for approval when a rule says so (flushed);
    True when held. Call it after the row is flushed and before it is indexed or sent."""
    if not hold_reasons(actor, kind, obj):
        return False
    hold(kind, obj)
    return True


def hold(kind: str, obj: Any) -> None:
    """Hide ``obj`` and put it in the queue as held for approval (flushed)."""
    from hub.moderation.cases import open_case

    obj.hidden_at = utcnow()
    db.session.flush()
    if kind == "comment":
        from hub.content.comments.services import count_shown

        count_shown(obj, -1)
    open_case(kind, obj, "held")
