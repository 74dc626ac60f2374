"""Who may do what in an organisation. Pure: no Flask, database or network.

One table decides; services ask it and tests walk it as a matrix.
"""

from __future__ import annotations

from hub.orgs.models import ORG_ROLES

#: The least organisation role each action needs. Instance admins may do all of them,
#: except acts that only make sense for oneself (leaving, answering an invitation).
ACTIONS: dict[str, str] = {
    "view_members": "member",
    "leave": "member",
    "edit": "admin",
    "invite": "admin",
    "change_role": "admin",
    "remove_member": "admin",
    "revoke_invitation": "admin",
    "transfer_ownership": "owner",
    # Content of the organisation.
    "view_members_only": "member",
    "share_resource": "member",
    "open_discussion": "member",
    "publish": "editor",  # posts and events
    "edit_content": "editor",  # any post, event or resource of the organisation
    "manage_library": "editor",  # folders, "add to our library"
    "view_stats": "editor",
    "moderate_discussion": "admin",  # lock, pin, close
    "manage_watch": "admin",  # the external feeds of the collective watch
    "manage_follows": "admin",  # whom the organisation follows on the fediverse, its followers
    "edit_rules": "admin",  # the organisation's own charter articles for its spaces
    "moderate": "admin",  # cases about the organisation's spaces, and acting there
    "delete": "owner",
}

SELF_ONLY = frozenset({"leave"})


def rank(role: str | None) -> int:
    return ORG_ROLES.index(role) + 1 if role in ORG_ROLES else 0


def can(action: str, org_role: str | None, *, instance_admin: bool = False) -> bool:
    """May someone with ``org_role`` (None: not a member) do ``action``?"""
    needed = ACTIONS[action]
    if rank(org_role) >= rank(needed):
        return True
    return instance_admin and action not in SELF_ONLY


def can_grant(actor_role: str | None, target_role: str, *, instance_admin: bool = False,
              current_role: str | None = None) -> bool:
    """Admins manage members, editors and admins; only owners make or unmake owners."""
    if instance_admin or actor_role == "owner":
        return True
    if actor_role != "admin":
        return False
    return target_role != "owner" and current_role != "owner"
