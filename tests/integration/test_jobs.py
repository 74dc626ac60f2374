"""The durable-row pattern: e-mails are rows, Huey runs them, the sweep recovers losses."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from hub.extensions import db
from hub.jobs import jobs
from hub.mail.models import EmailMessage
from hub.mail.services import queue_email
from hub.models_base import utcnow
from tests.plugins.app import free_port


def _queue(address: str = "someone@example.org") -> int:
    message = queue_email(address, "approved", "en",
                          account=type("A", (), {"name": "Someone"})(), url="http://x/login")
    db.session.commit()
    return message.id


def _row(message_id: int) -> EmailMessage:
    db.session.expire_all()
    row = db.session.get(EmailMessage, message_id)
    assert row is not None
    return row


def test_email_is_sent_by_the_queue_after_commit(app, run_jobs, mailbox):
    message_id = _queue()
    assert _row(message_id).status == "pending"
    assert jobs.pending_count() == 1
    assert run_jobs() == 1
    row = _row(message_id)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None
    [mail] = mailbox.to("someone@example.org")
    assert "http://x/login" in mail.get_content()


def test_rolled_back_transaction_queues_nothing(app):
    queue_email("someone@example.org", "approved", "en",
                account=type("A", (), {"name": "X"})(), url="http://x")
    db.session.rollback()
    assert jobs.pending_count() == 0
    assert db.session.scalar(select(EmailMessage)) is None


def test_sweep_requeues_a_row_whose_job_was_lost(app, run_jobs, mailbox):
    message_id = _queue()
    jobs.huey.flush()  # the queue lost the job (a Redis restart, a crash before enqueue)
    assert run_jobs() == 0
    assert _row(message_id).status == "pending"
    assert jobs.sweep() == 1
    run_jobs()
    assert _row(message_id).status == "sent"
    assert len(mailbox.to("someone@example.org")) == 1


def test_a_row_queued_twice_is_sent_once(app, run_jobs, mailbox):
    message_id = _queue()
    jobs.enqueue("send_email", message_id)
    assert run_jobs() == 2
    assert len(mailbox.to("someone@example.org")) == 1
    assert _row(message_id).attempts == 1


def test_sweep_leaves_rows_held_by_a_running_job(app):
    message_id = _queue()
    jobs.huey.flush()
    row = _row(message_id)
    row.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert jobs.sweep() == 0


def test_failed_sends_back_off_then_give_up(make_app):
    closed_port = free_port()
    app = make_app(HUB_MAIL_BACKEND="smtp", HUB_MAIL_SERVER="127.0.0.1",
                   HUB_MAIL_PORT=closed_port, HUB_MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        message_id = _queue()
        jobs.drain()
        row = _row(message_id)
        assert row.status == "pending" and row.attempts == 1
        assert "ConnectionRefused" in row.last_error
        assert row.next_attempt_at > utcnow() + timedelta(seconds=15)
        assert jobs.sweep() == 0  # not due yet
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert jobs.sweep() == 1
        jobs.drain()
        row = _row(message_id)
        assert row.status == "failed" and row.attempts == 2
        db.session.remove()


class StallFirstHandler:
    """A real SMTP server that stalls the first message (the worker gets killed meanwhile)."""

    def __init__(self) -> None:
        self.first_seen = threading.Event()
        self.release = False
        self.delivered: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if not self.first_seen.is_set():
            self.first_seen.set()
            while not self.release:
                await asyncio.sleep(0.05)
            return "451 try again later"
        self.delivered.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_email_survives_a_worker_killed_mid_send(make_app, database_url):
    handler = StallFirstHandler()
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    settings = {"HUB_MAIL_BACKEND": "smtp", "HUB_MAIL_SERVER": "127.0.0.1",
                "HUB_MAIL_PORT": smtp_port, "HUB_JOB_LEASE_SECONDS": 2,
                "HUB_SWEEP_INTERVAL": 1}
    app = make_app(**settings)
    env = {**os.environ, **{k: str(v) for k, v in settings.items()},
           "HUB_ENV": "testing", "HUB_DATABASE_URL": database_url,
           "HUB_INSTANCE_PATH": app.config["HUB_INSTANCE_PATH"],
           "HUB_QUEUE_NAME": app.config["HUB_QUEUE_NAME"],
           "HUB_REDIS_URL": app.config["HUB_REDIS_URL"],
           "HUB_SECRET_KEY": app.config["SECRET_KEY"], "HUB_LOG_LEVEL": "INFO"}
    workers: list[subprocess.Popen] = []
    try:
        with app.app_context():
            message_id = _queue("kill@example.org")
            workers.append(_worker(env))
            assert handler.first_seen.wait(30), "the worker never reached the SMTP server"
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            row = _row(message_id)
            assert row.status == "pending" and row.attempts == 1
            handler.release = True
            workers.append(_worker(env))
            deadline = time.monotonic() + 40
            while _row(message_id).status != "sent" and time.monotonic() < deadline:
                time.sleep(0.2)
            row = _row(message_id)
            assert row.status == "sent", workers[1].stdout and "worker did not send it"
            assert row.attempts == 2
            assert len(handler.delivered) == 1
            assert "kill@example.org" in handler.delivered[0]
            db.session.remove()
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
            if proc.stdout:
                proc.stdout.close()
        controller.stop()
