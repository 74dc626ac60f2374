"""Outbound delivery: plan one row per inbox, then sign and POST each one, with retries.

``publish`` runs in the transaction of the change that causes it (a post published, a
follow accepted): it stores the activity once and one ``Delivery`` per distinct inbox
(shared inboxes preferred), and queues a ``deliver`` job or two after commit. A job wakes
its worker's *pump* (see "the pump" below), which claims due rows in batches, sends them
from a bounded pool of threads over per-host pooled connections, and records the answers
in one commit per pass; so a fan-out to thousands of inboxes costs the request two queue
writes and the worker a few commits per hundred deliveries. The rows are the truth:
``due_deliveries`` wakes a pump whenever something is due and not done. Delivery jobs
have a higher priority than the others, so a backlog of inbound activities does not
delay them.

Each send signs at send time (a fresh ``Date`` on each attempt, with the key of the local
actor that speaks) and its answer is classified:

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
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
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
        # A job or two wake a pump (queueing costs a write each on SQLite), which takes
        # the other rows as they are due; the rows named by the jobs wait one lease (the
        # jobs claim them) before anything else may take them.
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
    """Jobs queued by ``publish``: one wakes a worker's pump, which sends the rest; a
    second one wakes another worker process, if any."""
    return 2


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


def due_deliveries(now: datetime) -> Iterable[tuple[str, tuple[int]]]:
    """Sweeper: one ``deliver`` job (for the oldest due delivery) when any is due, not held
    by a job and not behind an open circuit; the pump it wakes takes all the others. The
    rows are not pushed ahead: the pump finds them due."""
    open_hosts = select(RemoteHost.host).where(RemoteHost.circuit_open_until > now)
    first = db.session.scalar(
        select(Delivery.id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
               or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
               Delivery.host.not_in(open_hosts))
        .order_by(Delivery.next_attempt_at).limit(1))
    return [] if first is None else [("deliver", (first,))]


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
            adapter = adapter_class(pool_connections=1024, pool_maxsize=HOST_CONCURRENCY * 2)
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


# -- the pump: claim due deliveries in batches, send them concurrently -------------------
#
# A ``deliver`` job runs the process's pump unless it already runs (then the job only hands
# over its delivery id). The pump claims due rows in one short transaction, sends them
# from a pool of threads (each signs its request, over the per-host pooled connections),
# and records every answer that came in since the last pass in one commit. It stops when
# nothing is due and nothing is in flight.
#
# Bounds: at most ``HUB_WORKER_THREADS`` sends are *active*; a send still waiting after a
# few times the usual answer time (a hanging or slow host) is parked and gives its slot to
# the next delivery, up to MAX_PARKED parked sends; a host never has more than
# HOST_CONCURRENCY sends in flight. So hanging hosts cannot starve the healthy ones, and
# only rows that can be sent at once are claimed (a row never waits on its lease).

#: Sends in flight to one host, at most.
HOST_CONCURRENCY = 2
#: Sends parked (waiting past the stall time) per process, at most.
MAX_PARKED = 256
#: A send is parked once it waited this many times the usual answer time …
STALL_FACTOR = 2.0
#: … bounded by these (seconds).
STALL_MIN, STALL_MAX = 0.005, 2.0
#: Connect time-out (seconds), at most: a host that does not even accept fails fast.
CONNECT_TIMEOUT = 3.0
#: Rows claimed per pass, per active slot.
CLAIM_PER_SLOT = 4

_pump_lock = threading.Lock()
_state_lock = threading.Lock()
_wanted: set[int] = set()
_kicked = False
_pool: ThreadPoolExecutor | None = None
#: Answer times of this process' last sends (seconds), kept across pumps; their median
#: is the usual answer time (a few slow hosts do not move it).
_answer_times: deque[float] = deque([0.02], maxlen=16)
#: Whether this process' pump has sends waiting or under way (parked ones aside).
_busy = False


def busy() -> bool:
    """Whether deliveries are being sent by this process right now: work of lower
    priority (the inbox's backlog) steps aside meanwhile, see ``inbox._process_batch``."""
    return _busy


@dataclass
class _Send:
    """One claimed delivery, ready to go; ``outcome`` is filled by the sending thread."""

    id: int
    inbox: str
    host: str
    created_at: datetime
    attempts: int
    payload: bytes
    key_id: str
    private_key: Any
    started: float = 0.0
    active: bool = True
    response: requests.Response | None = None
    error: str = ""
    blocked: bool = False


def deliver(delivery_id: int | None = None) -> None:
    """Job: make sure this process's pump runs and will send ``delivery_id`` (claimed even
    if not due yet, as a job queued for it); returns once the pump has nothing left, or at
    once when another job of this process runs the pump."""
    global _kicked
    with _state_lock:
        if delivery_id is not None:
            _wanted.add(delivery_id)
        _kicked = True
    while _pump_lock.acquire(blocking=False):
        try:
            _pump()
        finally:
            _pump_lock.release()
        with _state_lock:
            if not _kicked:  # no job came in while the pump was stopping
                return


def _sender_pool(active: int) -> ThreadPoolExecutor:
    global _pool
    with _sessions_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=active + MAX_PARKED,
                                       thread_name_prefix="hub-deliver")
        return _pool


def _pump() -> None:
    global _busy
    try:
        _pump_sends()
    finally:
        _busy = False


def _pump_sends() -> None:
    global _kicked, _busy
    active_max = max(1, int(current_app.config["HUB_WORKER_THREADS"]))
    pool = _sender_pool(active_max)
    session = _session()
    timeout = float(current_app.config["HUB_DELIVERY_TIMEOUT"])
    timeouts = (min(CONNECT_TIMEOUT, timeout), timeout)
    in_flight: dict[Future, _Send] = {}
    ready: list[_Send] = []
    per_host: dict[str, int] = {}
    signers: dict[int, tuple[bytes, str, Any]] = {}
    _healthy_seen.clear()
    while True:
        active = sum(1 for s in in_flight.values() if s.active)
        parked = len(in_flight) - active
        with _state_lock:
            explicit = list(_wanted)
            _wanted.clear()
            _kicked = False
        if explicit or (len(ready) < active_max and active < active_max):
            ready += _claim(utcnow(), CLAIM_PER_SLOT * active_max - len(ready), explicit,
                            per_host, signers)
        # Start what the bounds allow.
        waiting = []
        for send in ready:
            if (active < active_max and parked < MAX_PARKED
                    and per_host.get(send.host, 0) < HOST_CONCURRENCY):
                send.started = time.monotonic()
                in_flight[pool.submit(_post, session, send, timeouts)] = send
                per_host[send.host] = per_host.get(send.host, 0) + 1
                active += 1
            else:
                waiting.append(send)
        ready = waiting
        _busy = bool(ready) or active > 0
        if not in_flight:
            if ready:
                continue  # pragma: no cover - a slot is free whenever nothing is in flight
            return
        stall = min(max(STALL_FACTOR * statistics.median(_answer_times), STALL_MIN),
                    STALL_MAX)
        now_m = time.monotonic()
        next_stall = min((s.started + stall - now_m for s in in_flight.values() if s.active),
                         default=stall)
        done, _ = wait(list(in_flight), timeout=max(next_stall, 0.001),
                       return_when=FIRST_COMPLETED)
        now_m = time.monotonic()
        finished = []
        for future in done:
            send = in_flight.pop(future)
            per_host[send.host] -= 1
            if send.response is not None:
                _answer_times.append(now_m - send.started)
            finished.append(send)
        for send in in_flight.values():
            if send.active and now_m - send.started > stall:
                send.active = False  # parked: its slot goes to the next delivery
        if finished:
            ready = _record(finished, ready)


def _post(session: requests.Session, send: _Send, timeouts: tuple[float, float]) -> None:
    """In a sending thread: sign (a fresh Date) and POST; no database here."""
    from hub.federation.client import BlockedAddress, fetch
    from hub.federation.signatures import SignedAuth

    try:
        send.response = fetch(session, "POST", send.inbox, timeout=timeouts,
                              max_bytes=MAX_RESPONSE_BYTES, data=send.payload,
                              headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
                              auth=SignedAuth(send.key_id, send.private_key, "cavage"))
    except BlockedAddress as exc:
        send.blocked, send.error = True, str(exc) or "blocked address"
    except FetchError as exc:
        send.error = str(exc) or "request failed"
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the row's outcome
        log.exception("delivery %s to %s failed", send.id, send.inbox)
        send.error = f"{type(exc).__name__}: {exc}"[:500]


def _claim(now: datetime, limit: int, explicit: list[int], per_host: dict[str, int],
           signers: dict[int, tuple[bytes, str, Any]]) -> list[_Send]:
    """Take up to ``limit`` due deliveries (and the ``explicit`` ones, due or not) whose
    host is not behind an open circuit and has a free send slot, in one short
    transaction; a host whose circuit is half-open gets one probe."""
    from hub.federation.policies import refuses_domain

    if limit <= 0 and not explicit:
        return []
    open_hosts = select(RemoteHost.host).where(RemoteHost.circuit_open_until > now)
    full = [host for host, n in per_host.items() if n >= HOST_CONCURRENCY]
    due = ((Delivery.next_attempt_at <= now) if not explicit
           else or_(Delivery.next_attempt_at <= now, Delivery.id.in_(explicit)))
    if full:
        due = due & or_(Delivery.host.not_in(full), Delivery.id.in_(explicit))
    query = (select(Delivery.id, Delivery.host)
             .where(Delivery.status == "pending", due,
                    or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
                    Delivery.host.not_in(open_hosts))
             .order_by(*([Delivery.id.in_(explicit).desc()] if explicit else []),
                       Delivery.next_attempt_at)
             .limit(max(limit, 0) + len(explicit)))
    room = dict(per_host)
    picked, deferred = [], []
    wanted = set(explicit)
    for delivery_id, host in db.session.execute(query):
        if room.get(host, 0) < HOST_CONCURRENCY:
            room[host] = room.get(host, 0) + 1
            picked.append(delivery_id)
        elif delivery_id in wanted:
            deferred.append(delivery_id)  # its host is busy: next pass
    if deferred:
        with _state_lock:
            _wanted.update(deferred)
    if not picked:
        db.session.commit()
        return []
    lease = now + _lease()
    rows = db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(picked), Delivery.status == "pending",
               or_(Delivery.locked_until.is_(None), Delivery.locked_until < now))
        .values(locked_until=lease, attempts=Delivery.attempts + 1, next_attempt_at=lease)
        .returning(Delivery.id, Delivery.inbox, Delivery.host, Delivery.activity_id,
                   Delivery.created_at, Delivery.attempts)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()  # the claim is visible to other workers before any request
    order = {delivery_id: n for n, delivery_id in enumerate(picked)}
    rows.sort(key=lambda r: order[r.id])
    sends = []
    hosts = {row.host for row in rows}
    refused = {host for host in hosts if refuses_domain(host)}
    probes = _probes(hosts - refused, now)
    for row in rows:
        if row.host in refused:  # blocked after the row was written
            _finish(row.id, "cancelled", "domain blocked")
            continue
        probe = probes.get(row.host)
        if probe is not None:
            if probe is True:
                probes[row.host] = row.id  # this one probes; the others wait
            else:
                until = probe if isinstance(probe, datetime) else _open_until(row.host, now)
                _put_back(row.id, until)
                continue
        signer = _signer(row.activity_id, signers)
        if signer is None:  # pragma: no cover - the cascade removes deliveries with it
            _finish(row.id, "failed", "activity missing")
            continue
        payload, key_id, private_key = signer
        sends.append(_Send(row.id, row.inbox, row.host, row.created_at, row.attempts,
                           payload, key_id, private_key))
    db.session.commit()
    return sends


def _probes(hosts: set[str], now: datetime) -> dict[str, Any]:
    """For each of ``hosts`` whose circuit tripped (failures past the threshold): True when
    this pump took its probe, else when its deliveries may try again."""
    threshold = current_app.config["HUB_DELIVERY_CIRCUIT_FAILURES"]
    if not hosts:
        return {}
    tripped = db.session.scalars(select(RemoteHost.host).where(
        RemoteHost.host.in_(hosts), RemoteHost.failures >= threshold)).all()
    result: dict[str, Any] = {}
    for host in tripped:
        taken = db.session.execute(
            update(RemoteHost)
            .where(RemoteHost.host == host,
                   or_(RemoteHost.circuit_open_until.is_(None),
                       RemoteHost.circuit_open_until <= now))
            .values(circuit_open_until=now + _probe_lease())
            .execution_options(synchronize_session=False))
        result[host] = True if taken.rowcount == 1 else _open_until(host, now)
    return result


def _open_until(host: str, now: datetime) -> datetime:
    """When a host's deliveries may go again (with jitter, so they do not all go at once)."""
    until = db.session.scalar(select(RemoteHost.circuit_open_until)
                              .where(RemoteHost.host == host)) or now
    return max(until, now) + timedelta(seconds=random.uniform(0, 5))  # noqa: S311


def _signer(activity_id: int, signers: dict[int, tuple[bytes, str, Any]]
            ) -> tuple[bytes, str, Any] | None:
    """The payload of an activity, and the key id and (parsed) key that sign it."""
    from hub.federation import keys

    if activity_id not in signers:
        activity = db.session.get(Activity, activity_id)
        if activity is None:
            return None
        pair = keys.key_pair(activity.signer_type or "instance", activity.signer_id)
        signers[activity_id] = (
            activity.payload.encode("utf-8"),
            _key_id(activity.signer_type, activity.signer_id, activity.actor_uri),
            pair.private_key)
    return signers[activity_id]


def _record(finished: list[_Send], ready: list[_Send]) -> list[_Send]:
    """Write the outcome of every finished send in one commit; rows still waiting here for
    a host whose circuit just opened are put back. Returns the rows still to send."""
    now = utcnow()
    failed_hosts = set()
    answered = [send for send in finished if send.response is not None
                and 200 <= send.response.status_code < 300]
    if answered:  # the common case, in two statements for the whole pass
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_([send.id for send in answered]),
                   Delivery.status == "pending")
            .values(status="done", last_error="", locked_until=None, done_at=now)
            .execution_options(synchronize_session=False))
        _hosts_answered({send.host for send in answered}, now)
    for send in finished:
        if send.response is not None and 200 <= send.response.status_code < 300:
            continue
        if send.blocked:
            _finish(send.id, "failed", send.error)
        elif send.response is None:
            _retry(send.id, send.host, send.created_at, send.attempts, send.error, now)
            failed_hosts.add(send.host)
        else:
            _classify(send.id, send.inbox, send.host, send.created_at, send.attempts,
                      send.response, now)
    keep = ready
    if failed_hosts and ready:
        held = {}
        for host in failed_hosts & {send.host for send in ready}:
            until = db.session.scalar(select(RemoteHost.circuit_open_until)
                                      .where(RemoteHost.host == host))
            if until is not None and until > now:
                held[host] = until
        keep = []
        for send in ready:
            if send.host in held:
                _put_back(send.id, held[send.host])
            else:
                keep.append(send)
    db.session.commit()
    return keep


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
    _healthy_seen.pop(host, None)
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


#: Hosts found healthy lately by the running pump (monotonic time): not read again at each
#: pass of a fan-out. Emptied when a pump starts.
_healthy_seen: dict[str, float] = {}
HEALTHY_SEEN_SECONDS = 5.0


def _hosts_answered(hosts: set[str], now: datetime) -> None:
    """``_host_answered`` for each of ``hosts``, reading them in one query first: a host
    that is healthy and answered in the last minute needs no write (and one found so in the
    last few seconds is not read again)."""
    moment = time.monotonic()
    hosts = {host for host in hosts
             if moment - _healthy_seen.get(host, -HEALTHY_SEEN_SECONDS) >= HEALTHY_SEEN_SECONDS}
    if not hosts:
        return
    recent = now - timedelta(minutes=1)
    healthy = set(db.session.scalars(
        select(RemoteHost.host).where(
            RemoteHost.host.in_(hosts), RemoteHost.failures == 0,
            RemoteHost.circuit_open_until.is_(None), RemoteHost.unavailable_since.is_(None),
            RemoteHost.last_success_at > recent)))
    for host in sorted(hosts - healthy):
        _host_answered(host, now)
    if len(_healthy_seen) > 10_000:
        _healthy_seen.clear()
    _healthy_seen.update(dict.fromkeys(hosts, moment))


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
