"""The task queue: Huey runs the work, rows are the truth.

Durable work (an e-mail, later a delivery) is a row written in the same transaction
as the change that caused it, with ``status``, ``next_attempt_at`` and ``locked_until``.
After commit a job is queued for it; a job first *claims* its row (an atomic UPDATE
that only one worker can win), so a row queued twice is still done once. A periodic
sweep re-queues every row that is due and not locked, so a crash between commit and
enqueue, a worker killed mid-job or a lost Redis loses nothing.

Handlers and sweepers are registered by hand (``register``, ``register_sweeper``);
nothing happens at import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, PriorityRedisHuey, SqliteHuey
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hub.extensions import db
from hub.models_base import utcnow

log = logging.getLogger(__name__)

Handler = Callable[..., None]
#: A sweeper returns (job name, args) for rows that are due at ``now``.
Sweeper = Callable[[datetime], Iterable[tuple[str, tuple[Any, ...]]]]

_AFTER_COMMIT_KEY = "hub_jobs_after_commit"
#: Longest wait of an idle worker thread between two looks at the queue (SQLite storage;
#: Redis' dequeue blocks until a job comes).
POLL_MAX = 0.25


class JobQueue:
    def __init__(self) -> None:
        self.huey: Huey | None = None
        self._handlers: dict[str, Handler] = {}
        self._priorities: dict[str, int] = {}
        self._tasks: dict[str, Any] = {}
        self._sweepers: list[Sweeper] = []

    def register(self, name: str, handler: Handler, priority: int = 0) -> None:
        """Run ``handler`` for jobs called ``name``; jobs of a higher ``priority`` are taken
        from the queue before those waiting with a lower one (both storages honour it)."""
        self._handlers[name] = handler
        self._priorities[name] = priority

    def register_sweeper(self, sweeper: Sweeper) -> None:
        self._sweepers.append(sweeper)

    def init_app(self, app: Flask) -> None:
        name = app.config["HUB_QUEUE_NAME"]
        if app.config["HUB_REDIS_URL"]:
            # A sorted set (Redis >= 5), so priorities hold; under its own key, as the plain
            # list of older versions has the same name (rows are the truth: the sweep
            # re-queues whatever was left in the old list).
            self.huey = PriorityRedisHuey(f"{name}.p", url=app.config["HUB_REDIS_URL"],
                                          results=False)
        else:
            path = Path(app.config["HUB_INSTANCE_PATH"]) / "queue.db"
            self.huey = SqliteHuey(name, filename=str(path), results=False, timeout=30)
        for job_name, handler in self._handlers.items():
            self._tasks[job_name] = self.huey.task(
                name=job_name, priority=self._priorities.get(job_name, 0) or None,
            )(self._in_app(app, handler))
        app.extensions["hub_jobs"] = self

    @staticmethod
    def _in_app(app: Flask, handler: Handler) -> Handler:
        def run(*args: Any) -> None:
            with app.app_context():
                try:
                    handler(*args)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()

        run.__name__ = handler.__name__
        return run

    # -- enqueueing ---------------------------------------------------------------------

    def enqueue(self, name: str, *args: Any) -> None:
        """Queue now. Prefer ``after_commit``: a job must never see uncommitted rows."""
        try:
            self._tasks[name](*args)
        except Exception:  # the sweep will pick the row up: never fail the request for it
            log.exception("could not enqueue job %s%r; the sweep will retry", name, args)

    def after_commit(self, name: str, *args: Any) -> None:
        """Queue once the current transaction commits; dropped if it rolls back."""
        db.session.info.setdefault(_AFTER_COMMIT_KEY, []).append((name, args))

    def _flush_after_commit(self, session: Session) -> None:
        pending = session.info.pop(_AFTER_COMMIT_KEY, [])
        for name, args in pending:
            self.enqueue(name, *args)

    # -- the sweep and the worker ---------------------------------------------------------

    def sweep(self, now: datetime | None = None) -> int:
        """Re-queue every row that is due and not held by a job; returns how many."""
        now = now or utcnow()
        count = 0
        for sweeper in self._sweepers:
            for name, args in sweeper(now):
                self.enqueue(name, *args)
                count += 1
        db.session.commit()
        if count:
            log.info("sweep re-queued %d job(s)", count)
        return count

    def drain(self, limit: int = 10_000) -> int:
        """Run queued tasks in this thread until the queue is empty (CLI and tests)."""
        assert self.huey is not None
        done = 0
        while done < limit:
            # Redis' dequeue blocks a second on an empty queue (BRPOP): ask first, cheaply.
            if not self.huey.pending_count():
                break
            task = self.huey.dequeue()
            if task is None:
                break
            self.huey.execute(task)
            done += 1
        return done

    def pending_count(self) -> int:
        assert self.huey is not None
        return self.huey.pending_count()

    def run_worker(self, app: Flask, threads: int, stop: threading.Event | None = None) -> None:
        """Run the Huey consumer in this (main) thread, with a sweeper thread beside it."""
        assert self.huey is not None
        stop = stop or threading.Event()
        interval = app.config["HUB_SWEEP_INTERVAL"]

        def sweeper() -> None:
            while not stop.is_set():
                with app.app_context():
                    try:
                        self.sweep()
                    except Exception:
                        log.exception("sweep failed")
                    finally:
                        db.session.remove()
                stop.wait(interval)

        threading.Thread(target=sweeper, name="hub-sweep", daemon=True).start()
        # An idle thread polls the queue at least every POLL_MAX seconds (Huey's default
        # backs off to 10 s: a post published after a quiet spell waited that long).
        consumer = self.huey.create_consumer(workers=threads, worker_type="thread",
                                             periodic=False, check_worker_health=True,
                                             initial_delay=0.05, max_delay=POLL_MAX)
        try:
            consumer.run()
        finally:
            stop.set()


jobs = JobQueue()


def install_session_hooks() -> None:
    """Flush the after-commit queue of every session; drop it on rollback."""
    from sqlalchemy import event

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        jobs._flush_after_commit(session)

    @event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: Any) -> None:
        session.info.pop(_AFTER_COMMIT_KEY, None)


# -- durable rows -----------------------------------------------------------------------


def due_rows(model: Any, now: datetime, limit: int = 500) -> list[int]:
    """Ids of rows that are pending, due and not held; pushes them one lease ahead.

    Pushing ``next_attempt_at`` keeps a long backlog from being queued again at every sweep;
    the job's claim only looks at the lock, so it still runs.
    """
    lease = _lease()
    ids = list(
        db.session.scalars(
            select(model.id)
            .where(model.status == "pending", model.next_attempt_at <= now,
                   or_(model.locked_until.is_(None), model.locked_until < now))
            .order_by(model.next_attempt_at)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(
            update(model).where(model.id.in_(ids)).values(next_attempt_at=now + lease)
        )
    return ids


def claim_row(model: Any, row_id: int, now: datetime | None = None) -> bool:
    """Take the row for one lease; False when it is done or another job holds it.

    Commits at once, so the lock is visible to other workers before the slow work starts.
    """
    now = now or utcnow()
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == "pending",
               or_(model.locked_until.is_(None), model.locked_until < now))
        .values(locked_until=now + _lease(), attempts=model.attempts + 1,
                next_attempt_at=now + _lease())
    )
    db.session.commit()
    return result.rowcount == 1


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["HUB_JOB_LEASE_SECONDS"])
