"""The permission table asked for an account: one answer for every service and page.

``hub.orgs.permissions`` is pure over roles; this reads the role once and adds what
holds for every action: visitors and accounts that are not active may do nothing.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from hub.errors import PermissionDenied
from hub.orgs.permissions import can
from hub.orgs.queries import role_of


def may(action: str, actor: Any, org: Any) -> bool:
    """May ``actor`` (None or anonymous: a visitor) do ``action`` in ``org``?"""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.status != "active":
        return False
    return can(action, role_of(org, actor), instance_admin=actor.is_admin)


def refusal() -> PermissionDenied:
    return PermissionDenied(_("You are not allowed to do this in this organisation."))
