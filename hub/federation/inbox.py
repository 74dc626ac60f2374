"""Inbound activities: accepted once (``receive``), then processed by a job.

``receive`` is what ``POST /inbox`` does after the HTTP checks (size, content type): parse,
refuse our own host, verify the signature (the key cached by this process or stored, else
fetched once however many requests wait for it; on a bad signature the key is fetched
again once, for key rotation), check that the key's owner is the actor, and store the raw
activity once, idempotent by id. Nothing is stored on any refusal.

``process_inbox`` is the job: it claims due activities fifty at a time (one worker wins
each row) and processes each in a short transaction of its own: parse it again and call
the handler from ``HANDLERS``, an explicit table by type. Handlers call domain services
(``follows``); a failed fetch is retried with back-off, a malformed activity fails for
good. Create, Update and Delete of content go to ``remote_content`` (replies become
comments, followed actors' content is kept); what is not kept is marked "ignored" with the
reason. Announce of content by a followed actor keeps it (as its author's); a Flag becomes a
report in the moderation queue; Like is not counted (stored and "ignored").
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import delete, or_, select, update

from hub.errors import FederationError, FetchError, HubError, ParseError, SignatureError
from hub.extensions import db
from hub.federation.delivery import busy as delivery_busy
from hub.federation.models import Activity, Follow, RemoteActor
from hub.federation.parsers import ParsedActivity, host_of, parse_activity, type_of
from hub.models_base import utcnow

log = logging.getLogger(__name__)

#: Attempts of an activity whose processing needs a fetch that fails, before "failed".
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
#: Failures of a verification that mean "maybe another key": fetch the key again once.
_KEY_FAILURES = ("bad signature", "algorithm does not match key", "unreadable public key")


# -- receiving ---------------------------------------------------------------------------------


class DomainBlocked(FederationError):
    """The activity comes from a domain this instance blocks (answered 403)."""

    status = 403


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: ``activity_id`` is the new row's id when one was stored;
    ``duplicate`` when the activity was already here."""

    activity_id: int | None
    created: bool
    duplicate: bool = False


def local_host() -> str:
    return host_of(current_app.config["HUB_BASE_URL"])


def receive(method: str, url: str, headers: Any, body: bytes, now: datetime) -> Received:
    """Verify and store one inbound activity. The row is committed at once when it is the
    only write; with a newly fetched signer it is flushed with it and the caller commits.

    Raises ParseError (400) for what is not an activity or comes from our own host, and
    SignatureError (401) for every signature failure, a key that cannot be fetched
    included, and for a signer that is not the actor.
    """
    from hub.federation import remote_actors
    from hub.federation.signatures import verify_request

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ParseError("malformed JSON") from None
    activity = parse_activity(doc)
    if activity.host == local_host():
        raise ParseError("activity from this instance's own host")
    from hub.federation.policies import refuses_domain

    if refuses_domain(activity.host):  # before any key fetch: nothing of it is read
        raise DomainBlocked(f"{activity.host} is blocked by this instance")

    state: dict[str, Any] = {"failed_pem": None, "key": None}

    def resolve_key(key_id: str) -> Any:
        key = remote_actors.signing_key(key_id, failed_pem=state["failed_pem"])
        state["key"] = key
        return _public_key(key.pem)

    def verify() -> None:
        try:
            verify_request(method, url, headers, body, resolve_key, now)
        except (FetchError, ParseError) as exc:
            raise SignatureError(f"could not fetch the signing key: {exc.message}") from None

    try:
        try:
            verify()
        except SignatureError as exc:
            if state["key"] is None or exc.message not in _KEY_FAILURES:
                raise
            state["failed_pem"] = state["key"].pem  # key rotation: ask for a newer key
            verify()
    except SignatureError:
        if _is_unknown_self_delete(activity):
            # Mastodon announces a deleted account to every server it ever spoke to, and
            # its key cannot be fetched any more: nothing of it is kept here, so nothing to do.
            return Received(None, False)
        raise
    signer: remote_actors.SigningKey = state["key"]
    if signer is None or signer.actor_uri != activity.actor:
        raise SignatureError("the signing key does not belong to the activity's actor")
    if signer.parsed is not None:  # a key just fetched: its actor is kept with the activity
        remote_actors.store_signer(signer)
        activity_id = _store(activity, body, now, db.session.connection())
    else:  # the usual case: one INSERT committed on a connection of its own, no ORM
        with db.engine.begin() as connection:
            activity_id = _store(activity, body, now, connection)
    if activity_id is None:
        return Received(None, False, duplicate=True)
    log.info("inbound %s %s from %s", activity.type, activity.id, activity.actor)
    return Received(activity_id, True)


@lru_cache(maxsize=1024)
def _public_key(pem: str) -> Any:
    """A parsed public key, kept per process (parsing a PEM costs more than verifying)."""
    from hub.federation.signatures import load_public_key

    return load_public_key(pem)


@lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (uri) DO NOTHING RETURNING id, built once per dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two databases this runs on
        raise RuntimeError(f"unsupported database {dialect}")
    return (insert(Activity.__table__).on_conflict_do_nothing(index_elements=["uri"])
            .returning(Activity.__table__.c.id))


def _store(activity: ParsedActivity, body: bytes, now: datetime, connection: Any
           ) -> int | None:
    """Insert the activity unless its id is already here: one statement, no read first
    (on SQLite a read before the write could not be upgraded once another process wrote).
    Returns the new row's id, or None for a duplicate."""
    values = {"uri": activity.id, "direction": "in", "type": activity.type,
              "actor_uri": activity.actor, "object_uri": (activity.object_id or "")[:2000],
              "payload": body.decode("utf-8"), "status": "pending", "error": "",
              "attempts": 0, "next_attempt_at": now, "locked_until": None,
              "signer_type": "", "signer_id": 0, "created_at": now, "processed_at": None}
    return connection.execute(_insert_statement(connection.dialect.name), values).scalar()


def _is_unknown_self_delete(activity: ParsedActivity) -> bool:
    if activity.type != "Delete" or activity.object_id != activity.actor:
        return False
    from hub.federation.remote_actors import find_actor

    return find_actor(activity.actor) is None


# -- processing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # "done" or "ignored"
    note: str = ""


DONE = Outcome("done")


def _ignored(note: str) -> Outcome:
    return Outcome("ignored", note[:500])


def _remote(activity: ParsedActivity) -> RemoteActor:
    from hub.federation.remote_actors import fetch_actor

    return fetch_actor(activity.actor)


def handle_follow(activity: ParsedActivity) -> Outcome:
    from hub.federation import follows

    followed = follows.local_party(activity.object_id or "")
    if followed is None:
        return _ignored("Follow of something that is not a local actor")
    follows.record_remote_follow(_remote(activity), followed, activity.id)
    return DONE


def _embedded_type(value: Any) -> str | None:
    return type_of(value) if isinstance(value, Mapping) else None


def _known_follow_uri(uri: str) -> bool:
    """Whether ``uri`` names a Follow we know: a follow row, or a Follow activity received."""
    if db.session.scalar(select(Follow.id).where(Follow.activity_uri == uri)) is not None:
        return True
    return db.session.scalar(select(Activity.id).where(
        Activity.uri == uri, Activity.type == "Follow")) is not None


def handle_undo(activity: ParsedActivity) -> Outcome:
    from hub.federation import follows, likes
    from hub.federation.vocab import id_of

    undone = activity.object
    kind = _embedded_type(undone)
    undone_id = activity.object_id
    if kind == "Like" or (kind is None and undone_id and likes.is_like_uri(undone_id)):
        if isinstance(undone, Mapping) and id_of(undone.get("actor")) not in (
                None, activity.actor):
            return _ignored("Undo of another actor's Like")
        liked = id_of(undone.get("object")) if isinstance(undone, Mapping) else None
        if not likes.remove_like(_remote(activity), undone_id, liked):
            return _ignored("Undo of a like that does not exist")
        return DONE
    if kind is None and not (undone_id and _known_follow_uri(undone_id)):
        return _ignored("Undo of something unknown")
    if kind not in (None, "Follow"):
        return _ignored(f"Undo of {kind}: nothing of it is kept")
    followed = None
    if isinstance(undone, Mapping):
        if id_of(undone.get("actor")) not in (None, activity.actor):
            return _ignored("Undo of another actor's Follow")
        followed = follows.local_party(id_of(undone.get("object")) or "")
    # Mastodon embeds the whole Follow, some servers send its id only: either names it,
    # and only the signer's own follows can go.
    if not follows.remove_remote_follow(_remote(activity), activity_uri=undone_id,
                                        followed=followed):
        return _ignored("Undo of a follow that does not exist")
    return DONE


def _answer_follow(activity: ParsedActivity, accepted: bool) -> Outcome:
    """Accept / Reject of one of our Follows: only the followed actor may answer it
    (``follows`` checks that the row's target is the signer)."""
    from hub.federation import follows

    answered = activity.object
    kind = _embedded_type(answered)
    if answered is None or kind not in (None, "Follow"):
        return _ignored(f"{activity.type} of something that is not a Follow")
    mark = follows.mark_accepted if accepted else follows.mark_rejected
    if mark(answered, _remote(activity)) is None:
        return _ignored(f"{activity.type} of an unknown Follow, or not from its target")
    return DONE


def handle_accept(activity: ParsedActivity) -> Outcome:
    return _answer_follow(activity, True)


def handle_reject(activity: ParsedActivity) -> Outcome:
    return _answer_follow(activity, False)


def _content_object(activity: ParsedActivity) -> Any:
    """The activity's object, from its origin: an embedded object is trusted only when it
    comes from the actor's own origin (the signature vouches for it); otherwise, or when
    only its id was sent, it is fetched again from its id, signed."""
    from hub.federation.object_parser import parse_object
    from hub.federation.parsers import same_origin
    from hub.federation.remote_actors import signed_get_final

    embedded = activity.object
    object_id = activity.object_id
    if not object_id:
        raise ParseError("an activity without an object")
    if isinstance(embedded, Mapping) and same_origin(object_id, activity.actor):
        obj = parse_object(embedded)
    else:  # an id, or another origin's object: only its origin says what it is
        fetched_from, doc = signed_get_final(object_id)
        obj = parse_object(doc)
        if not same_origin(obj.id, fetched_from):
            raise ParseError("the fetched object's id is not where it was found")
    if obj.attributed_to != activity.actor:
        raise _NotTheAuthor(obj.type)
    return obj


class _NotTheAuthor(Exception):
    """The actor sends an object somebody else wrote (Announce is the way to share)."""


def _with_content(activity: ParsedActivity, act: Callable[[RemoteActor, Any], str]) -> Outcome:
    from hub.federation.remote_content import Refused

    if _embedded_type(activity.object) in ("Tombstone",) and activity.type != "Delete":
        return _ignored(f"{activity.type} of a Tombstone")
    try:
        obj = _content_object(activity)
    except _NotTheAuthor as exc:
        return _ignored(f"{activity.type} of a {exc.args[0]} written by another actor")
    try:
        note = act(_remote(activity), obj)
    except Refused as exc:
        return _ignored(str(exc))
    return Outcome("done", note)


def handle_create(activity: ParsedActivity) -> Outcome:
    from hub.federation import remote_content

    return _with_content(activity, remote_content.receive_create)


def handle_delete(activity: ParsedActivity) -> Outcome:
    from hub.federation.remote_actors import find_actor

    if activity.object_id != activity.actor:
        from hub.federation.parsers import same_origin
        from hub.federation.remote_content import Refused, receive_delete

        uri = activity.object_id or ""
        # Only the origin deletes its objects; what it deleted cannot be fetched again.
        if not same_origin(uri, activity.actor):
            return _ignored("a Delete of an object from another origin")
        actor = find_actor(activity.actor)
        if actor is None:
            return _ignored("a Delete from an actor never seen")
        try:
            return Outcome("done", receive_delete(actor, uri))
        except Refused as exc:
            return _ignored(str(exc))
    actor = find_actor(activity.actor)
    if actor is None:
        return _ignored("Delete of an actor never seen")
    actor.deleted_at = actor.deleted_at or utcnow()
    from hub.federation.remote_actors import forget_key

    forget_key(actor.key_id)  # other processes stop believing it within KEY_CACHE_SECONDS
    # Its follows, both ways: a deleted actor neither follows nor can be followed.
    db.session.execute(delete(Follow).where(or_(
        (Follow.follower_type == "remote") & (Follow.follower_id == actor.id),
        (Follow.followed_type == "remote") & (Follow.followed_id == actor.id))))
    from hub.federation.remote_content import forget_actor

    forget_actor(actor)
    return DONE


def handle_update(activity: ParsedActivity) -> Outcome:
    if activity.object_id != activity.actor:
        from hub.federation import remote_content

        return _with_content(activity, remote_content.receive_update)
    from hub.federation.remote_actors import fetch_actor

    # The embedded profile is not trusted: the actor's own document is fetched again.
    fetch_actor(activity.actor, refresh=True)
    return DONE


def handle_move(activity: ParsedActivity) -> Outcome:
    """Mastodon's account migration: the new account must name the old one in its
    ``alsoKnownAs`` (as Mastodon checks) before the move is recorded."""
    from hub.federation.remote_actors import fetch_actor, fetch_actor_document

    target = activity.target_id
    if activity.object_id != activity.actor or not target:
        return _ignored("Move of something that is not the actor")
    _new, parsed = fetch_actor_document(target)
    if activity.actor not in parsed.also_known_as:
        return _ignored("Move to an actor that does not name the old one")
    actor = fetch_actor(activity.actor)
    actor.moved_to = target
    return DONE


def handle_announce(activity: ParsedActivity) -> Outcome:
    """A boost by an actor someone here follows (a Mastodon boost, a Lemmy or Maillage
    group relaying a post of its community): the object is kept as its author's, fetched
    from its origin. Announce of an activity (Lemmy wraps Create/Update/Delete) unwraps."""
    from hub.federation import remote_content
    from hub.federation.object_parser import parse_object
    from hub.federation.parsers import parse_activity, same_origin
    from hub.federation.remote_actors import fetch_actor, signed_get_final

    announcer = _remote(activity)
    inner = activity.object
    if isinstance(inner, Mapping) and _embedded_type(inner) in ("Create", "Update", "Delete",
                                                               "Like", "Dislike", "Undo"):
        wrapped = parse_activity(inner)
        if wrapped.type != "Create":
            return _ignored(f"Announce of a {wrapped.type}: only boosts of content are kept")
        inner = wrapped.object
    object_id = inner if isinstance(inner, str) else (inner or {}).get("id")
    if not isinstance(object_id, str) or not object_id:
        return _ignored("Announce of nothing")
    # Whatever was embedded, only the origin says what the object is.
    fetched_from, doc = signed_get_final(object_id)
    obj = parse_object(doc)
    if not same_origin(obj.id, fetched_from) or not same_origin(obj.attributed_to, obj.id):
        return _ignored("a boosted object that is not where its author lives")
    try:
        note = remote_content.receive_boost(announcer, fetch_actor(obj.attributed_to), obj)
    except remote_content.Refused as exc:
        return _ignored(str(exc))
    return Outcome("done", note)


def handle_like(activity: ParsedActivity) -> Outcome:
    """A like of a public local item: kept once per actor and item, counted on its page."""
    from hub.federation import likes

    if not activity.object_id:
        return _ignored("a Like of nothing")
    try:
        row = likes.receive_like(_remote(activity), activity.object_id, activity.id)
    except likes.Refused as exc:
        return _ignored(str(exc))
    return Outcome("done", f"like of {row.object_type} {row.object_id}")


def handle_flag(activity: ParsedActivity) -> Outcome:
    """A report forwarded by another server: it joins the moderation queue, anonymous
    (the other server's moderators stand for it)."""
    from hub.moderation.cases import file_remote_report

    reports = file_remote_report(activity.host, activity.object_ids, activity.content)
    if not reports:
        return _ignored("a Flag of nothing kept here")
    return Outcome("done", f"{len(reports)} report(s)")


Handler = Callable[[ParsedActivity], Outcome]

#: By activity type; anything else is stored and "ignored".
HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Undo": handle_undo,
    "Accept": handle_accept,
    "Reject": handle_reject,
    "Delete": handle_delete,
    "Update": handle_update,
    "Move": handle_move,
    "Create": handle_create,
    "Announce": handle_announce,
    "Like": handle_like,
    "Flag": handle_flag,
}


def process_activity(activity_id: int) -> None:
    """The job for one activity (queued by earlier versions; kept for their queues):
    claim the row, then process it as a batch would."""
    from hub.jobs import claim_row

    if claim_row(Activity, activity_id):
        _process_claimed(activity_id)


def _process_claimed(activity_id: int) -> None:
    """Dispatch one claimed activity by type and record the outcome, in one transaction of
    its own, committed here. No savepoint opens it: on SQLite a transaction that starts by
    reading could not write once another connection had written (``database is locked``);
    a handler that fails is rolled back whole and the outcome written after."""
    row = db.session.get(Activity, activity_id)
    if row is None or row.direction != "in":
        return
    now = utcnow()
    uri, kind = row.uri, row.type
    try:
        activity = parse_activity(json.loads(row.payload))
        handler = HANDLERS.get(activity.type)
        outcome = (_ignored(f"unsupported activity type: {activity.type}") if handler is None
                   else handler(activity))
        _finish(row, outcome.status, outcome.note, now)
        db.session.commit()
        log.info("activity %s (%s): %s %s", uri, kind, outcome.status, outcome.note)
        return
    except (ParseError, ValueError) as exc:
        failure: tuple[str, str] = ("failed", f"unreadable: {exc}")
    except FetchError as exc:
        failure = ("retry", str(exc.message or exc))
    except HubError as exc:  # a rule of a service refused it (a Follow id reused…)
        failure = ("failed", str(exc.message or exc))
    except Exception as exc:  # a bug or a lost database: retried, and logged loudly
        log.exception("processing activity %s failed", uri)
        failure = ("retry", f"{type(exc).__name__}: {exc}")
    db.session.rollback()  # nothing of the handler's work stays
    row = db.session.get(Activity, activity_id)
    if row is None:
        return
    if failure[0] == "retry":
        _retry(row, failure[1], now)
    else:
        _finish(row, "failed", failure[1], now)
    db.session.commit()


# -- batches --------------------------------------------------------------------------------

#: Activities claimed at once by the batch job (one short write claims them all).
BATCH_SIZE = 50
#: A batch job hands over to a new job after this long, so a stopping worker loses little.
BATCH_JOB_SECONDS = 60.0
#: A batch waits at most this long in all for this process' deliveries to be sent.
YIELD_SECONDS = 1.0
#: The queue's "a batch job is coming" mark (``wake_processing``); a mark older than this
#: is not believed (its job may have been lost with the queue).
_WAKE_MARK = "hub-inbox-batch-queued"
WAKE_MARK_SECONDS = 5.0
#: One batch runner per process: on SQLite, writers queue behind one lock anyway, and a
#: second runner would only make them wait. A job that finds the runner busy asks it to
#: look again before it stops (``_rerun``), so no activity waits for the sweep.
_runner = threading.Lock()
_rerun = threading.Event()


def wake_processing() -> None:
    """After a commit that stored activities: queue a batch job, unless one is queued
    and not started yet (it will see them). Costs a read of the queue's store, not a write,
    when a job is already waiting."""
    from huey.constants import EmptyData

    from hub.jobs import jobs

    try:
        storage = jobs.huey.storage
        mark = storage.peek_data(_WAKE_MARK)
        if mark is not EmptyData and time.time() - float(bytes(mark)) < WAKE_MARK_SECONDS:
            return
        storage.put_data(_WAKE_MARK, repr(time.time()).encode())
    except Exception:  # the sweep finds the rows anyway: never fail the request for it
        log.exception("could not mark the inbox batch as queued")
    jobs.enqueue("process_inbox")


def process_inbox(due_at: str = "") -> None:
    """The job: process due inbound activities in batches until none is left. ``due_at``
    (ISO 8601, from the sweep) counts as now when it is later: what the sweep saw due."""
    from hub.jobs import jobs

    with contextlib.suppress(Exception):
        jobs.huey.storage.pop_data(_WAKE_MARK)  # later requests queue a new job
    _rerun.set()
    started = time.monotonic()
    while _rerun.is_set():
        if not _runner.acquire(blocking=False):
            return  # the runner of this process will look again (_rerun is set)
        try:
            _rerun.clear()
            while _process_batch(due_at):
                if time.monotonic() - started > BATCH_JOB_SECONDS:
                    jobs.after_commit("process_inbox")
                    _rerun.clear()
                    break
        finally:
            _runner.release()


def _process_batch(due_at: str = "") -> int:
    """Claim up to BATCH_SIZE due activities in one statement, process each in its own
    short transaction; returns how many were claimed."""
    lease = timedelta(seconds=current_app.config["HUB_JOB_LEASE_SECONDS"])
    now = utcnow()
    if due_at:
        now = max(now, datetime.fromisoformat(due_at))
    until = now + lease
    due = (select(Activity.id)
           .where(Activity.direction == "in", Activity.status == "pending",
                  Activity.next_attempt_at <= now,
                  or_(Activity.locked_until.is_(None), Activity.locked_until < now))
           .order_by(Activity.next_attempt_at, Activity.id)
           .limit(BATCH_SIZE))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)  # two workers take different rows
    db.session.commit()  # the claim starts a transaction of its own, by writing
    ids = sorted(db.session.scalars(
        update(Activity)
        .where(Activity.id.in_(due.scalar_subquery()), Activity.status == "pending")
        .values(locked_until=until, attempts=Activity.attempts + 1, next_attempt_at=until)
        .returning(Activity.id)
        .execution_options(synchronize_session=False)).all())
    db.session.commit()
    deadline = time.monotonic() + lease.total_seconds() / 2
    yield_until = time.monotonic() + YIELD_SECONDS
    for n, activity_id in enumerate(ids):
        # A local post's fan-out goes first: while this process sends deliveries, the
        # backlog waits (a bounded time per batch, so it is never starved).
        while delivery_busy() and time.monotonic() < yield_until:
            time.sleep(0.005)
        if time.monotonic() > deadline:  # slow fetches: give the rest back before the lease ends
            db.session.execute(update(Activity).where(
                Activity.id.in_(ids[n:]), Activity.status == "pending",
                Activity.locked_until == until).values(locked_until=None, next_attempt_at=now)
                .execution_options(synchronize_session=False))
            db.session.commit()
            break
        _process_claimed(activity_id)
    return len(ids)


def _finish(row: Activity, status: str, error: str, now: datetime) -> None:
    row.status = status
    row.error = error[:500]
    row.processed_at = now
    row.locked_until = None
    row.next_attempt_at = None


def _retry(row: Activity, error: str, now: datetime) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        _finish(row, "failed", error, now)
        log.info("activity %s failed after %d attempts: %s", row.uri, row.attempts, error)
        return
    row.error = error[:500]
    row.locked_until = None
    row.next_attempt_at = now + FIRST_RETRY * 4 ** (row.attempts - 1)


def due_activities(now: datetime) -> Iterable[tuple[str, tuple[str]]]:
    """One batch job when inbound activities are due and not held (a crash between commit
    and enqueue, a lost queue, a retry whose time has come). Reads only: the batch claims."""
    due = db.session.scalar(
        select(Activity.id)
        .where(Activity.direction == "in", Activity.status == "pending",
               Activity.next_attempt_at <= now,
               or_(Activity.locked_until.is_(None), Activity.locked_until < now))
        .limit(1))
    return [("process_inbox", (now.isoformat(),))] if due is not None else []
