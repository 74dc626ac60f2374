"""The application, a real database (migrated once per run), the real job queue, e-mails."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from hub import ROOT, create_app
from hub.extensions import db

TEST_DATABASE_URL = os.environ.get("HUB_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def base_overrides(instance: Path, database_url: str, **extra) -> dict:
    return {
        "HUB_ENV": "testing",
        "HUB_INSTANCE_PATH": str(instance),
        "HUB_DATABASE_URL": database_url,
        "HUB_REDIS_URL": TEST_REDIS_URL,
        "HUB_QUEUE_NAME": f"test-{uuid.uuid4().hex[:10]}",
        "HUB_SECRET_KEY": "test-secret-key-that-is-long-enough",
        "HUB_BASE_URL": "http://localhost",
        "HUB_MAIL_BACKEND": "file",
        # Messages are asserted in English; tests of the French interface ask for it.
        "HUB_DEFAULT_LOCALE": "en",
        # Peers (the identity provider, later other instances) listen on loopback.
        "HUB_OUTBOUND_ALLOW_PRIVATE": True,
        "HUB_LOGIN_RATE_LIMIT": "1000 per minute",
        "HUB_POST_RATE_LIMIT": "1000 per minute",
        "HUB_COMMENT_RATE_LIMIT": "1000 per minute",
        "HUB_LOG_LEVEL": "WARNING",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:10]}",
        "PAGE_CACHE_MAX_AGE": 24 * 3600,
        **extra,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One database per run, built by the migrations (never by create_all)."""
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"
    from flask_migrate import upgrade

    app = create_app(base_overrides(tmp_path_factory.mktemp("migrate"), url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.session.remove()
        db.engine.dispose()
    return url


def free_port() -> int:
    """A free TCP port on loopback, for servers the tests start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubClient(FlaskClient):
    """A test client that sends the session's CSRF token with every form, as a browser does.

    Pass ``csrf=False`` to send a form without it (or ``csrf_token`` to forge one).
    """

    def csrf_token(self) -> str:
        # Logged in, /login redirects to the dashboard: follow it (every page has the token).
        page = self.get("/login", follow_redirects=True).get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on /login"
        return match.group(1)

    def open(self, *args, **kwargs):
        # The ``app`` fixture holds an app context for the whole test, and Flask reuses it
        # for every request, so ``g`` (Flask-Login's user, the CSRF token, the cached
        # instance settings, Flask-Babel's locale) would leak from one request, and one
        # client, to the next. Start each request with an empty ``g``, as in production.
        from flask import g, has_app_context

        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)


def _wipe(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # TRUNCATE costs milliseconds per table, empty or not (new files, fsync);
                # most tests fill a handful of tables, so find those and DELETE their rows.
                probe = " UNION ALL ".join(
                    f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
                filled = {row[0] for row in conn.execute(text(probe))}
                for table in tables:
                    if table in filled:
                        conn.execute(text(f'DELETE FROM "{table}"'))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database; overrides as keyword arguments (HUB_* names)."""
    apps: list[Flask] = []

    def factory(**extra) -> Flask:
        instance = tmp_path / f"instance{len(apps)}"
        app = create_app(base_overrides(instance, database_url, **extra))
        app.test_client_class = HubClient
        if not apps:
            # Flask-Limiter keeps the key prefix of the first app a process initialises, so
            # on Redis every test would share the counters of the whole run (the tenth
            # visitor report of the run was refused). Each test starts with none.
            from hub.extensions import limiter

            with app.app_context():
                limiter.reset()
        apps.append(app)
        return app

    yield factory
    if apps:
        _wipe(apps[0])
        for app in apps:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app) -> HubClient:
    return app.test_client()


@pytest.fixture
def run_jobs(app) -> Callable[[], int]:
    """Drain the real Huey queue in this thread; returns how many tasks ran."""
    from hub.jobs import jobs

    def run() -> int:
        total = 0
        while True:
            done = jobs.drain()
            total += done
            if not done:
                return total

    return run


class Mailbox:
    """E-mails written by the file backend (instance/outbox/*.eml), oldest first."""

    def __init__(self, app: Flask) -> None:
        self.folder = Path(app.config["HUB_INSTANCE_PATH"]) / "outbox"

    def messages(self) -> list[email.message.EmailMessage]:
        if not self.folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(self.folder.glob("*.eml"))]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]

    def last_link(self, address: str, path_part: str = "/") -> str:
        """The last http(s) link containing ``path_part`` mailed to ``address``, as a path."""
        for message in reversed(self.to(address)):
            for url in re.findall(r"https?://\S+", message.get_content()):
                if path_part in url:
                    return "/" + url.split("://", 1)[1].split("/", 1)[1]
        raise AssertionError(f"no link with {path_part!r} mailed to {address}")


@pytest.fixture
def mailbox(app, run_jobs) -> Mailbox:
    return Mailbox(app)


@pytest.fixture
def count_queries(app) -> Callable:
    """``with count_queries() as counter: ...`` then ``counter.count`` (SQL statements)."""

    class Counter:
        count = 0
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
                counter.count += 1
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
