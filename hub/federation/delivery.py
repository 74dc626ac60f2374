"""Outbound delivery: plan one row per inbox, then sign and POST each one, with retries.

``publish`` runs in the transaction of the change that causes it (a post published, a
follow accepted): it stores the activity once and one ``Delivery`` per distinct inbox
(shared inboxes preferred), and queues the first few ``deliver`` jobs after commit; each
job queues the next due delivery when it ends, so a fan-out to thousands of inboxes costs
the request a handful of queue writes. The rows are the truth; ``due_deliveries``
re-queues whatever is due and not done.

``deliver`` claims its row (one worker wins), signs at send time (a fresh ``Date`` on each
attempt, with the key of the local actor that speaks) and classifies the answer:

- 2xx: done; the host is healthy again.
- 410 Gone: this delivery and every pending one to the same inbox are cancelled, and the
  actors behind that inbox (its owner, or everyone on a shared inbox) are marked gone, so
  nothing more is planned to it.
- 429 or 503 with ``Retry-After``: wait as asked (no less than the usual back-off step, a
  day at most); not a host failure.
- other 4xx (but 408): a permanent refusal, given up at once.
- 5xx, 408, time-outs, connection errors: back off (1 min × 3^(n-1), ±20 % jitter, a day
  at most) for three days (``HUB_DELIVERY_GIVE_UP_HOURS``), then give up.

Each host has a circuit breaker (``RemoteHost``): after HUB_DELIVERY_CIRCUIT_FAILURES
failures in a row its circuit opens for 1, 2, 4 … 60 minutes and its deliveries wait; when
it closes again, one delivery probes the host (the others keep waiting) — so a dead host
sees at most one request per minute to hour, however many deliveries queue up for it.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import random
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import FetchError
from hub.extensions import db
from hub.federation.models import Activity, Delivery, Follow, RemoteActor, RemoteHost
from hub.models_base import utcnow

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/activity+json"
#: Answers are read (and dropped) up to this size.
MAX_RESPONSE_BYTES = 256 * 1024
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(days=1)
JITTER = 0.2
#: How long an open circuit lasts: 2^k minutes, an hour at most.
MAX_CIRCUIT = timedelta(hours=1)
#: Deliveries done in one sweep, at most (the next sweep takes the rest).
SWEEP_LIMIT = 1000


# -- planning ---------------------------------------------------------------------------


def new_activity_uri() -> str:
    """A fresh id for an activity this instance sends."""
    base = current_app.config["HUB_BASE_URL"].rstrip("/")
    return f"{base}/activities/{uuid.uuid4()}"


def inbox_host(inbox: str) -> str:
    """The host (with a non-default port) a delivery counts against."""
    parts = urlsplit(inbox)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def follower_inboxes(party_type: str, party_id: int) -> list[str]:
    """Where to send what a local account or organisation publishes: the inboxes of its
    accepted remote followers, a server's shared inbox rather than each person's, once."""
    inbox = func.coalesce(func.nullif(RemoteActor.shared_inbox, ""), RemoteActor.inbox)
    rows = db.session.scalars(
        select(inbox).distinct()
        .join(Follow, (Follow.follower_type == "remote") & (Follow.follower_id == RemoteActor.id))
        .where(Follow.followed_type == party_type, Follow.followed_id == party_id,
               Follow.status == "accepted", RemoteActor.deleted_at.is_(None))
        .order_by(inbox))
    return [row for row in rows if row]


def _object_uri(activity: dict[str, Any]) -> str:
    obj = activity.get("object")
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else ""


def publish(signer: tuple[str, int], activity: dict[str, Any], inboxes: Iterable[str]
            ) -> Activity:
    """Store ``activity`` and one delivery per distinct inbox, in the caller's transaction
    (nothing is committed here); a ``deliver`` job is queued for each after commit.

    ``signer`` is the local actor whose key signs: ("organisation", id), ("account", id)
    or ("instance", 0).
    """
    from hub.jobs import jobs

    now = utcnow()
    row = Activity(uri=activity["id"], direction="out", type=str(activity.get("type", "")),
                   actor_uri=str(activity.get("actor", "")), object_uri=_object_uri(activity),
                   payload=json.dumps(activity, ensure_ascii=False, separators=(",", ":")),
                   status="sent", signer_type=signer[0], signer_id=signer[1],
                   created_at=now, processed_at=now)
    db.session.add(row)
    db.session.flush()
    from hub.federation.policies import refuses_domain

    # A blocked domain gets nothing (its follows went with the block; this covers the rest).
    wanted = list(dict.fromkeys(inbox for inbox in inboxes
                                if inbox and inbox.startswith(("https://", "http://"))
                                and not refuses_domain(inbox_host(inbox))))
    if wanted:
        # Only the first few jobs are queued here (queueing costs a write each on SQLite);
        # each job queues the next due delivery when it ends, so the rest follow at once.
        # The queued rows wait one lease before a sweep may queue them again.
        starters = _starter_count()
        queued_until = now + _lease()
        ids = db.session.scalars(
            insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True),
            [{"activity_id": row.id, "inbox": inbox, "host": inbox_host(inbox),
              "status": "pending", "attempts": 0,
              "next_attempt_at": queued_until if n < starters else now,
              "last_error": "", "created_at": now}
             for n, inbox in enumerate(wanted)]).all()
        for delivery_id in ids[:starters]:
            jobs.after_commit("deliver", delivery_id)
    return row


def _starter_count() -> int:
    """Jobs queued by ``publish``: enough to keep every worker thread busy."""
    return max(4, 2 * current_app.config["HUB_WORKER_THREADS"])


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["HUB_JOB_LEASE_SECONDS"])


def cancel_object_deliveries(object_uri: str, reason: str = "withdrawn") -> int:
    """Cancel the pending deliveries of every activity sent about ``object_uri`` (a
    deleted post's Create and Updates): a slow host must not receive it after its Delete."""
    activity_ids = select(Activity.id).where(Activity.direction == "out",
                                             Activity.object_uri == object_uri)
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.activity_id.in_(activity_ids), Delivery.status == "pending")
        .values(status="cancelled", last_error=reason[:500], done_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


# -- the sweep --------------------------------------------------------------------------


def _due(now: datetime, limit: int) -> list[int]:
    """Pending deliveries that are due, not held by a job, and whose host's circuit is
    not open, oldest first; pushed one lease ahead (as ``jobs.due_rows``)."""
    open_hosts = select(RemoteHost.host).where(RemoteHost.circuit_open_until > now)
    ids = list(db.session.scalars(
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
               or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
               Delivery.host.not_in(open_hosts))
        .order_by(Delivery.next_attempt_at).limit(limit)))
    if not ids:
        return []
    result = db.session.execute(
        update(Delivery).where(Delivery.id.in_(ids), Delivery.next_attempt_at <= now)
        .values(next_attempt_at=now + _lease())
        .execution_options(synchronize_session=False))
    if limit == 1 and result.rowcount != 1:
        return []  # another job took it between the two statements
    return ids


def due_deliveries(now: datetime) -> Iterable[tuple[str, tuple[int]]]:
    """Sweeper: a ``deliver`` job for each delivery that is due (see ``_due``)."""
    return [("deliver", (delivery_id,)) for delivery_id in _due(now, SWEEP_LIMIT)]


def _queue_next(now: datetime) -> None:
    """Hand the next due delivery to a new job once this one commits: the chain that
    carries a large fan-out without queueing every job from the request."""
    from hub.jobs import jobs

    for delivery_id in _due(now, 1):
        jobs.after_commit("deliver", delivery_id)


# -- sending ----------------------------------------------------------------------------

_sessions: dict[bool, requests.Session] = {}
_sessions_lock = threading.Lock()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def _session() -> requests.Session:
    """One session per process (and guard setting): connections to a host are pooled and
    reused by every delivery job of this worker. No cookies are kept."""
    from hub.federation.client import GuardedAdapter, make_session

    allow_private = bool(current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    with _sessions_lock:
        session = _sessions.get(allow_private)
        if session is None:
            session = make_session(allow_private=allow_private)
            adapter_class = HTTPAdapter if allow_private else GuardedAdapter
            adapter = adapter_class(pool_connections=256, pool_maxsize=32)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.cookies.set_policy(_NoCookies())
            _sessions[allow_private] = session
    return session


def _key_id(signer_type: str, signer_id: int, actor_uri: str) -> str:
    """The id of the signer's key: ``{actor id}#main-key``."""
    from hub.urls import external_url

    if signer_type == "instance":
        return f"{current_app.config['HUB_BASE_URL'].rstrip('/')}/actor#main-key"
    handle = None
    if signer_type == "organisation":
        from hub.orgs.models import Organisation

        org = db.session.get(Organisation, signer_id)
        handle = org.handle if org is not None else None
    elif signer_type == "account":
        from hub.accounts.models import Account

        account = db.session.get(Account, signer_id)
        handle = account.handle if account is not None else None
    if handle is None:
        return f"{actor_uri}#main-key"
    return external_url("main.actor", handle=handle) + "#main-key"


def deliver(delivery_id: int) -> None:
    """Job: send one delivery (see the module docstring for what each answer means), then
    queue the next due one."""
    _deliver(delivery_id)
    _queue_next(utcnow())


def _deliver(delivery_id: int) -> None:
    from hub.federation import keys
    from hub.federation.signatures import SignedAuth
    from hub.jobs import claim_row

    now = utcnow()
    if not claim_row(Delivery, delivery_id, now):
        return
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        return
    from hub.federation.policies import refuses_domain

    if refuses_domain(row.host):  # blocked after the row was written
        _finish(delivery_id, "cancelled", "domain blocked")
        return
    if not _may_send(delivery_id, row.host, now):
        return
    activity = db.session.get(Activity, row.activity_id)
    if activity is None:  # pragma: no cover - the cascade removes deliveries with it
        _finish(delivery_id, "failed", "activity missing")
        return
    inbox, host, payload = row.inbox, row.host, activity.payload.encode("utf-8")
    created_at, attempts = row.created_at, row.attempts
    pair = keys.key_pair(activity.signer_type or "instance", activity.signer_id)
    key_id = _key_id(activity.signer_type, activity.signer_id, activity.actor_uri)
    db.session.commit()  # no transaction stays open during the request
    timeout = current_app.config["HUB_DELIVERY_TIMEOUT"]
    try:
        from hub.federation.client import BlockedAddress, fetch

        response = fetch(_session(), "POST", inbox, timeout=timeout,
                         max_bytes=MAX_RESPONSE_BYTES, data=payload,
                         headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
                         auth=SignedAuth(key_id, pair.private_key, "cavage"))
    except BlockedAddress as exc:
        _finish(delivery_id, "failed", str(exc))
        return
    except FetchError as exc:
        _retry(delivery_id, host, created_at, attempts, str(exc) or "request failed",
               utcnow())
        return
    _classify(delivery_id, inbox, host, created_at, attempts, response, utcnow())


def _classify(delivery_id: int, inbox: str, host: str, created_at: datetime, attempts: int,
              response: requests.Response, now: datetime) -> None:
    status = response.status_code
    error = f"HTTP {status}"
    if 200 <= status < 300:
        _finish(delivery_id, "done", "")
        _host_answered(host, now)
    elif status == 410:
        _gone(inbox, now)
        _host_answered(host, now)
    elif status in (429, 503) and (when := retry_after(response.headers.get("Retry-After"),
                                                      now)) is not None:
        # A date in the past or "0" must not make the row due at once: that would hammer a
        # host that just said it is overloaded. Wait at least the first back-off step.
        when = min(max(when, now + backoff(attempts)), now + MAX_RETRY)
        _wait(delivery_id, created_at, when, error, now)
    elif 300 <= status < 500 and status != 408 and status != 429:
        _finish(delivery_id, "failed", f"{error} (refused)")
        _host_answered(host, now)
    else:
        _retry(delivery_id, host, created_at, attempts, error, now)


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """When a ``Retry-After`` header (seconds or an HTTP date) says to come back."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment, now)


def backoff(attempts: int, rand: float | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1 min × 3^(n-1), ±20 %, a day
    at most. ``rand`` in [0, 1) replaces the random draw (tests)."""
    rand = random.random() if rand is None else rand  # noqa: S311 - jitter, not secrecy
    base = FIRST_RETRY * (3 ** max(attempts - 1, 0)) if attempts < 20 else MAX_RETRY
    wait = min(base, MAX_RETRY)
    return wait * (1 - JITTER + 2 * JITTER * rand)


def _give_up_at(created_at: datetime) -> datetime:
    return created_at + timedelta(hours=current_app.config["HUB_DELIVERY_GIVE_UP_HOURS"])


def _finish(delivery_id: int, status: str, error: str) -> None:
    db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(status=status, last_error=error[:500], locked_until=None, done_at=utcnow())
        .execution_options(synchronize_session=False))


def _wait(delivery_id: int, created_at: datetime, when: datetime, error: str,
          now: datetime) -> None:
    """Come back at ``when`` — or give up, when that is past the give-up time."""
    end = _give_up_at(created_at)
    if now >= end:
        _finish(delivery_id, "failed", f"{error} (gave up)")
        return
    db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(next_attempt_at=min(when, end), locked_until=None, last_error=error[:500])
        .execution_options(synchronize_session=False))


def _retry(delivery_id: int, host: str, created_at: datetime, attempts: int, error: str,
           now: datetime) -> None:
    _wait(delivery_id, created_at, now + backoff(attempts), error, now)
    _host_failed(host, error, created_at, now)


def _gone(inbox: str, now: datetime) -> None:
    """410 Gone: nothing more goes to this inbox. A personal inbox's actor is gone; a shared
    inbox that is gone takes every actor behind it (their server said so), so nothing is
    planned to it any more — until one of them speaks to us again (fetching its actor
    document clears the mark)."""
    db.session.execute(
        update(Delivery).where(Delivery.inbox == inbox, Delivery.status == "pending")
        .values(status="cancelled", last_error="HTTP 410 (gone)", locked_until=None,
                done_at=now)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(RemoteActor).where((RemoteActor.inbox == inbox)
                                  | (RemoteActor.shared_inbox == inbox),
                                  RemoteActor.deleted_at.is_(None))
        .values(deleted_at=now).execution_options(synchronize_session=False))


# -- the circuit breaker ----------------------------------------------------------------


def _host_row(host: str) -> RemoteHost:
    row = db.session.get(RemoteHost, host)
    if row is None:
        try:
            with db.session.begin_nested():
                row = RemoteHost(host=host, failures=0, last_error="", updated_at=utcnow())
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # another worker wrote it first
            row = db.session.get(RemoteHost, host)
            assert row is not None
    return row


def _probe_lease() -> timedelta:
    return timedelta(seconds=2 * current_app.config["HUB_DELIVERY_TIMEOUT"] + 5)


def _may_send(delivery_id: int, host: str, now: datetime) -> bool:
    """False (and the delivery put back, its attempt not counted) while the host's
    circuit is open, or while another delivery probes it."""
    state = db.session.execute(
        select(RemoteHost.failures, RemoteHost.circuit_open_until)
        .where(RemoteHost.host == host)).first()
    threshold = current_app.config["HUB_DELIVERY_CIRCUIT_FAILURES"]
    if state is None or state.failures < threshold:
        return True
    if state.circuit_open_until is None or state.circuit_open_until <= now:
        # Half-open: one delivery takes the probe; the lease covers its request.
        taken = db.session.execute(
            update(RemoteHost)
            .where(RemoteHost.host == host,
                   or_(RemoteHost.circuit_open_until.is_(None),
                       RemoteHost.circuit_open_until <= now))
            .values(circuit_open_until=now + _probe_lease())
            .execution_options(synchronize_session=False))
        db.session.commit()
        if taken.rowcount == 1:
            return True
    until = db.session.scalar(select(RemoteHost.circuit_open_until)
                              .where(RemoteHost.host == host)) or now
    until = max(until, now) + timedelta(seconds=random.uniform(0, 5))  # noqa: S311
    _put_back(delivery_id, until)
    _postpone(host, until, now)
    db.session.commit()
    return False


def _postpone(host: str, until: datetime, now: datetime) -> None:
    """Put the host's waiting deliveries (those no job holds) back until ``until``."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.host == host, Delivery.status == "pending",
               Delivery.next_attempt_at < until,
               or_(Delivery.locked_until.is_(None), Delivery.locked_until < now))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False))


def _put_back(delivery_id: int, until: datetime) -> None:
    """Release a claimed delivery that did not send: its attempt is not counted."""
    db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(next_attempt_at=until, locked_until=None, attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False))


def _host_answered(host: str, now: datetime) -> None:
    """The host answered: its failures, circuit and unavailability end; deliveries held
    back by its circuit may go now."""
    row = _host_row(host)
    if (row.failures == 0 and row.circuit_open_until is None and row.unavailable_since is None
            and row.last_success_at is not None
            and now - row.last_success_at < timedelta(minutes=1)):
        return  # nothing to change: no write for each delivery to a healthy host
    was_tripped = row.failures >= current_app.config["HUB_DELIVERY_CIRCUIT_FAILURES"]
    row.failures = 0
    row.circuit_open_until = None
    row.unavailable_since = None
    row.last_success_at = now
    row.updated_at = now
    if was_tripped:
        db.session.execute(
            update(Delivery).where(Delivery.host == host, Delivery.status == "pending",
                                   Delivery.next_attempt_at > now)
            .values(next_attempt_at=now).execution_options(synchronize_session=False))


def circuit_duration(failures: int, threshold: int) -> timedelta:
    """How long the circuit stays open after ``failures`` in a row: 1, 2, 4 … minutes from
    the ``threshold``-th failure, an hour at most."""
    k = failures - threshold
    return min(timedelta(minutes=2 ** min(k, 10)), MAX_CIRCUIT)


def _host_failed(host: str, error: str, created_at: datetime, now: datetime) -> None:
    """One more failure in a row; past the threshold the circuit opens and the host's
    deliveries wait; a host failing for the whole give-up time becomes unavailable."""
    _host_row(host)
    db.session.execute(
        update(RemoteHost).where(RemoteHost.host == host)
        .values(failures=RemoteHost.failures + 1, last_error=error[:500], updated_at=now)
        .execution_options(synchronize_session=False))
    row = db.session.get(RemoteHost, host, populate_existing=True)
    assert row is not None
    threshold = current_app.config["HUB_DELIVERY_CIRCUIT_FAILURES"]
    if row.failures >= threshold:
        until = now + circuit_duration(row.failures, threshold)
        row.circuit_open_until = until
        _postpone(host, until, now)
        log.info("circuit of %s open until %s after %d failures", host, until, row.failures)
    quiet_since = row.last_success_at
    if (row.unavailable_since is None and now >= _give_up_at(created_at)
            and (quiet_since is None or quiet_since < created_at)):
        row.unavailable_since = now
