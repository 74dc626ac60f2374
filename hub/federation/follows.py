"""Following, both ways: local accounts and organisations follow remote actors, remote
actors follow them, and the lists each side sees.

Services take the acting account (or, for what arrives from the inbox, the remote actor
whose signature was checked) and never commit: the request or the job does, and only then
are the activities they write delivered (``delivery.publish`` plans them in the same
transaction). Parties are ``(type, id)`` pairs as in ``Follow``: ("account", id),
("organisation", id), ("remote", RemoteActor.id), and ("instance", 0) for the instance's
own actor, which a remote Maillage instance follows to receive the whole catalogue.

Followers are accepted automatically unless the account or organisation approves them by
hand (``approves_followers``, said as ``manuallyApprovesFollowers``): the Follow then waits
as "pending" until ``accept_follower`` or ``reject_follower`` (which also removes an
accepted follower: Mastodon sends Reject for that too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation.models import Follow, RemoteActor
from hub.federation.vocab import AS_CONTEXT, id_of
from hub.models_base import utcnow

log = logging.getLogger(__name__)

Party = tuple[str, int]
LOCAL_TYPES = ("account", "organisation", "instance")
INSTANCE: Party = ("instance", 0)
PAGE_SIZE = 40


# -- local actors -------------------------------------------------------------------------


def _local_row(party: Party) -> Any:
    """The account or organisation behind a local party (None for the instance)."""
    kind, row_id = party
    if kind == "account":
        from hub.accounts.models import Account

        row = db.session.get(Account, row_id)
        if row is None or row.status != "active":
            raise NotFound(_("This account does not exist."))
        return row
    if kind == "organisation":
        from hub.orgs.models import Organisation

        row = db.session.get(Organisation, row_id)
        if row is None:
            raise NotFound(_("This organisation does not exist."))
        return row
    if party == INSTANCE:
        return None
    raise NotFound(_("This account does not exist."))


def local_actor_id(party: Party) -> str:
    """The ActivityPub id of a local account, organisation or of the instance."""
    from hub.federation import snapshots

    row = _local_row(party)
    return snapshots.instance_actor_id() if row is None else snapshots.actor_id(row.handle)


def local_party(uri: str) -> Party | None:
    """The local party whose actor id is ``uri`` (None when it is not one of ours)."""
    from hub.accounts.queries import find_account_by_handle
    from hub.federation import snapshots
    from hub.orgs.queries import find_organisation

    if not isinstance(uri, str):
        return None
    if uri == snapshots.instance_actor_id():
        return INSTANCE
    prefix = f"{snapshots.base_url()}/@"
    handle = uri.removeprefix(prefix)
    if handle == uri or not handle or "/" in handle or "?" in handle or "#" in handle:
        return None
    org = find_organisation(handle)
    if org is not None:
        return ("organisation", org.id)
    account = find_account_by_handle(handle)
    if account is not None and account.status == "active":
        return ("account", account.id)
    return None


def may_manage(actor: Any, party: Party) -> bool:
    """May ``actor`` follow and unfollow for ``party``, and manage its followers? An
    account for itself; an organisation's admins (and instance admins) for it."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.status != "active":
        return False
    kind, row_id = party
    if kind == "account":
        return actor.id == row_id
    if kind == "organisation":
        from hub.orgs.access import may
        from hub.orgs.models import Organisation

        org = db.session.get(Organisation, row_id)
        return org is not None and may("manage_follows", actor, org)
    return False


def approves_followers(party: Party) -> bool:
    """Does this local account or organisation hold follow requests for approval?"""
    row = _local_row(party)
    return bool(row is not None and row.approves_followers)


def set_approves_followers(actor: Any, party: Party, value: bool) -> None:
    """Turn approval of new followers on or off. Requests already waiting stay to be
    decided; turning it on does not touch accepted followers."""
    _require(actor, party)
    row = _local_row(party)
    if row is None:
        raise NotFound(_("This account does not exist."))
    row.approves_followers = bool(value)
    db.session.flush()


def _require(actor: Any, party: Party) -> None:
    if not may_manage(actor, party):
        raise PermissionDenied(_("You may not manage whom this account or organisation "
                                 "follows."))


# -- activities (pure) --------------------------------------------------------------------


def follow_activity(activity_id: str, actor_id: str, object_id: str) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": activity_id, "type": "Follow", "actor": actor_id,
            "object": object_id}


def _embedded(activity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in activity.items() if key != "@context"}


def wrap(activity_id: str, kind: str, actor_id: str, follow: dict[str, Any]
         ) -> dict[str, Any]:
    """Accept, Reject or Undo of a Follow, the Follow embedded (id, type, actor, object),
    as Mastodon writes them."""
    return {"@context": AS_CONTEXT, "id": activity_id, "type": kind, "actor": actor_id,
            "object": _embedded(follow)}


def _inbox(remote: RemoteActor) -> str:
    # Mastodon answers a Follow at the follower's own inbox, not the shared one.
    return remote.inbox or remote.shared_inbox


def _send(signer: Party, activity: dict[str, Any], remote: RemoteActor) -> None:
    from hub.federation import delivery

    delivery.publish(signer, activity, [_inbox(remote)])


def _new_id() -> str:
    from hub.federation import delivery

    return delivery.new_activity_uri()


# -- local → remote -----------------------------------------------------------------------


def _find(follower: Party, followed: Party) -> Follow | None:
    return db.session.scalar(select(Follow).where(
        Follow.follower_type == follower[0], Follow.follower_id == follower[1],
        Follow.followed_type == followed[0], Follow.followed_id == followed[1]))


def _remote_by_uri(uri: str) -> RemoteActor | None:
    return db.session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))


def follow_remote(actor: Any, follower: Party, target_uri: str) -> Follow:
    """``follower`` (an account, for itself; an organisation, by one of its admins) follows
    the remote actor ``target_uri``: a pending row and a Follow sent to its inbox. Already
    following (or asked): the existing row, nothing sent again."""
    from hub.federation import snapshots

    _require(actor, follower)
    local_id = local_actor_id(follower)
    if not isinstance(target_uri, str) or not target_uri.startswith(("https://", "http://")):
        raise ValidationFailed(_("This is not the address of an actor."), field="address")
    if target_uri == local_id:
        raise ValidationFailed(_("One cannot follow oneself."), field="address")
    if target_uri.startswith(f"{snapshots.base_url()}/"):
        raise ValidationFailed(_("Accounts and organisations of this instance cannot be "
                                 "followed this way."), field="address")
    from hub.federation.remote_actors import fetch_actor

    remote = fetch_actor(target_uri)
    if remote.deleted_at is not None:
        raise ValidationFailed(_("This account was deleted by its server."), field="address")
    if not _inbox(remote):
        raise ValidationFailed(_("This actor has no inbox: it cannot be followed."),
                               field="address")
    row = _find(follower, ("remote", remote.id))
    if row is not None and row.status in ("pending", "accepted"):
        return row
    activity_id = _new_id()
    if row is None:
        row = Follow(follower_type=follower[0], follower_id=follower[1],
                     followed_type="remote", followed_id=remote.id)
        db.session.add(row)
    # A follow they refused before is asked again, under a new id.
    row.status = "pending"
    row.activity_uri = activity_id
    row.created_at = utcnow()
    row.accepted_at = None
    db.session.flush()
    _send(follower, follow_activity(activity_id, local_id, remote.uri), remote)
    log.info("follow %s → %s (%s)", local_id, remote.uri, activity_id)
    return row


def unfollow_remote(actor: Any, follower: Party, target_uri: str) -> bool:
    """Stop following: the row goes and an Undo of the Follow is sent. False when
    ``follower`` did not follow ``target_uri`` (nothing changes)."""
    _require(actor, follower)
    remote = _remote_by_uri(target_uri)
    row = _find(follower, ("remote", remote.id)) if remote is not None else None
    if row is None or remote is None:
        return False
    local_id = local_actor_id(follower)
    follow = follow_activity(row.activity_uri or f"{local_id}#follows/{remote.id}",
                             local_id, remote.uri)
    db.session.delete(row)
    db.session.flush()
    _send(follower, wrap(_new_id(), "Undo", local_id, follow), remote)
    return True


def _our_follow(ref: Any, remote: RemoteActor | None) -> Follow | None:
    """The local → remote row an Accept or Reject names: by the Follow's id, or by the
    embedded Follow's actor (ours) and object (theirs)."""
    row = None
    follow_id = ref if isinstance(ref, str) else id_of(ref)
    if follow_id:
        row = db.session.scalar(select(Follow).where(Follow.activity_uri == follow_id))
    if row is None and isinstance(ref, dict):
        party = local_party(id_of(ref.get("actor")) or "")
        target = id_of(ref.get("object"))
        followed = remote if remote is not None and target in (None, remote.uri) else (
            _remote_by_uri(target) if target else None)
        if party is not None and followed is not None:
            row = _find(party, ("remote", followed.id))
    if row is None or row.follower_type not in LOCAL_TYPES or row.followed_type != "remote":
        return None
    # Only the followed actor may answer (``remote``: the signer the inbox verified).
    if remote is not None and row.followed_id != remote.id:
        return None
    return row


def mark_accepted(ref: str | dict[str, Any], remote: RemoteActor | None = None
                  ) -> Follow | None:
    """An Accept arrived for our Follow ``ref`` (its id, or the embedded Follow): the row
    is accepted. None when no such follow exists (or ``remote`` is not its target)."""
    row = _our_follow(ref, remote)
    if row is None:
        return None
    if row.status != "accepted":
        row.status = "accepted"
        row.accepted_at = utcnow()
        db.session.flush()
    return row


def mark_rejected(ref: str | dict[str, Any], remote: RemoteActor | None = None
                  ) -> Follow | None:
    """A Reject arrived for our Follow (refused, or a follower removed): kept as rejected,
    so the page says so and following again asks anew."""
    row = _our_follow(ref, remote)
    if row is None:
        return None
    row.status = "rejected"
    row.accepted_at = None
    db.session.flush()
    return row


# -- remote → local -----------------------------------------------------------------------


def record_remote_follow(remote: RemoteActor, followed: Party, activity_uri: str) -> Follow:
    """``remote`` asked to follow a local account, organisation or the instance: the row is
    created (or refreshed under the new id), accepted, and an Accept goes back to the
    follower's inbox, signed by the followed actor. A repeated Follow is accepted again
    (Mastodon re-sends it when it lost our Accept). When the followed side approves its
    followers by hand, a new follow stays pending and nothing is sent yet."""
    followed_id = local_actor_id(followed)
    row = _find(("remote", remote.id), followed)
    if row is None:
        taken = db.session.scalar(select(Follow).where(Follow.activity_uri == activity_uri))
        if taken is not None:
            raise ValidationFailed("this Follow id already names another follow")
        row = Follow(follower_type="remote", follower_id=remote.id,
                     followed_type=followed[0], followed_id=followed[1])
        db.session.add(row)
    row.activity_uri = activity_uri
    if row.status != "accepted" and approves_followers(followed):
        row.status = "pending"
        db.session.flush()
        log.info("follower %s → %s waits for approval", remote.uri, followed_id)
        return row
    if row.status != "accepted":
        row.status = "accepted"
        row.accepted_at = utcnow()
    db.session.flush()
    follow = follow_activity(activity_uri, remote.uri, followed_id)
    _send(followed, wrap(_new_id(), "Accept", followed_id, follow), remote)
    log.info("follower %s → %s accepted", remote.uri, followed_id)
    return row


def remove_remote_follow(remote: RemoteActor, activity_uri: str | None = None,
                         followed: Party | None = None) -> bool:
    """An Undo of ``remote``'s Follow (named by its id, or by whom it followed): the row
    goes. False when there was none."""
    if activity_uri is None and followed is None:
        return False
    stmt = delete(Follow).where(Follow.follower_type == "remote",
                                Follow.follower_id == remote.id)
    if activity_uri is not None and followed is not None:
        stmt = stmt.where((Follow.activity_uri == activity_uri) | (
            (Follow.followed_type == followed[0]) & (Follow.followed_id == followed[1])))
    elif activity_uri is not None:
        stmt = stmt.where(Follow.activity_uri == activity_uri)
    else:
        assert followed is not None
        stmt = stmt.where(Follow.followed_type == followed[0],
                          Follow.followed_id == followed[1])
    return bool(db.session.execute(stmt.execution_options(synchronize_session=False))
                .rowcount)


def _follower_row(followed: Party, follow_id: int) -> tuple[Follow, RemoteActor]:
    row = db.session.get(Follow, follow_id)
    if (row is None or row.followed_type != followed[0] or row.followed_id != followed[1]
            or row.follower_type != "remote"):
        raise NotFound(_("This follower does not exist."))
    remote = db.session.get(RemoteActor, row.follower_id)
    if remote is None:
        raise NotFound(_("This follower does not exist."))
    return row, remote


def accept_follower(actor: Any, followed: Party, follow_id: int) -> Follow:
    """An admin (or the account itself) accepts a pending follower: Accept sent."""
    _require(actor, followed)
    row, remote = _follower_row(followed, follow_id)
    if row.status == "accepted":
        return row
    row.status = "accepted"
    row.accepted_at = utcnow()
    db.session.flush()
    followed_id = local_actor_id(followed)
    follow = follow_activity(row.activity_uri or "", remote.uri, followed_id)
    _send(followed, wrap(_new_id(), "Accept", followed_id, follow), remote)
    return row


def reject_follower(actor: Any, followed: Party, follow_id: int) -> None:
    """Refuse a follow request, or remove a follower: the row goes and a Reject tells
    their server (which then stops showing them as following)."""
    _require(actor, followed)
    row, remote = _follower_row(followed, follow_id)
    followed_id = local_actor_id(followed)
    follow = follow_activity(row.activity_uri or "", remote.uri, followed_id)
    db.session.delete(row)
    db.session.flush()
    _send(followed, wrap(_new_id(), "Reject", followed_id, follow), remote)


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of a followers or following list: the row and the other side."""

    follow: Follow
    uri: str
    remote: RemoteActor | None = None
    local: Any = None  # an Account or Organisation, for local follows


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_cursor: int | None


def _side(direction: str) -> tuple[Any, Any, Any, Any]:
    """(own type, own id, other type, other id) columns for "followers" or "following"."""
    if direction == "followers":
        return Follow.followed_type, Follow.followed_id, Follow.follower_type, Follow.follower_id
    return Follow.follower_type, Follow.follower_id, Follow.followed_type, Follow.followed_id


def count_follows(party: Party, direction: str, statuses: tuple[str, ...] = ("accepted",)
                  ) -> int:
    own_type, own_id, *_other = _side(direction)
    return db.session.scalar(select(func.count()).select_from(Follow).where(
        own_type == party[0], own_id == party[1], Follow.status.in_(statuses))) or 0


def count_followers(party: Party) -> int:
    return count_follows(party, "followers")


def list_follows(party: Party, direction: str, *, before: int | None = None,
                 limit: int | None = None, statuses: tuple[str, ...] = ("accepted",)) -> Page:
    """Followers or following of ``party``, newest first, by keyset on the row id; the
    other side loaded in one query per kind (remote actors, accounts, organisations)."""
    from hub.accounts.models import Account
    from hub.federation import snapshots
    from hub.orgs.models import Organisation

    limit = limit or PAGE_SIZE
    own_type, own_id, *_other = _side(direction)
    stmt = select(Follow).where(own_type == party[0], own_id == party[1],
                                Follow.status.in_(statuses))
    if before is not None:
        stmt = stmt.where(Follow.id < before)
    rows = list(db.session.scalars(stmt.order_by(Follow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    other = "follower" if direction == "followers" else "followed"
    wanted: dict[str, set[int]] = {}
    for row in rows:
        wanted.setdefault(getattr(row, f"{other}_type"), set()).add(getattr(row, f"{other}_id"))
    models = {"remote": RemoteActor, "account": Account, "organisation": Organisation}
    found: dict[tuple[str, int], Any] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is not None:
            for item in db.session.scalars(select(model).where(model.id.in_(ids))):
                found[(kind, item.id)] = item
    entries = []
    for row in rows:
        key = (getattr(row, f"{other}_type"), getattr(row, f"{other}_id"))
        item = found.get(key)
        if key[0] == "remote" and item is not None:
            entries.append(Entry(row, item.uri, remote=item))
        elif key == INSTANCE:
            entries.append(Entry(row, snapshots.instance_actor_id()))
        elif item is not None:
            entries.append(Entry(row, snapshots.actor_id(item.handle), local=item))
    return Page(entries, rows[-1].id if more and rows else None)


def get_follow_of(party: Party, follow_id: int) -> tuple[Follow, RemoteActor]:
    """A row of ``party``'s following (to a remote actor), or NotFound."""
    row = db.session.get(Follow, follow_id)
    if (row is None or row.follower_type != party[0] or row.follower_id != party[1]
            or row.followed_type != "remote"):
        raise NotFound(_("This follow does not exist."))
    remote = db.session.get(RemoteActor, row.followed_id)
    if remote is None:
        raise NotFound(_("This follow does not exist."))
    return row, remote
