"""Separate Maillage instances as real processes on loopback, each with its own database,
media folder, queue and worker (``maillage init`` then ``maillage run``), for federation
tests between two hubs.

The test process seeds each instance through its own app object (``Instance.app``), bound
to that instance's database; the instances talk to each other only over HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hub import create_app
from tests.plugins.app import base_overrides, free_port


@dataclass
class Instance:
    name: str
    url: str
    app: Flask
    folder: Path
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)
    log_file: Any = field(default=None, repr=False)
    #: HUB_* settings of this instance's processes beyond the defaults.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    @contextmanager
    def context(self) -> Iterator[None]:
        """A request context of this instance for seeding through services. The job queue
        is one object per process, bound to the last app initialised: bind it to this
        instance first, so jobs queued after commit reach this instance's worker."""
        from hub.extensions import db
        from hub.jobs import jobs

        jobs.init_app(self.app)
        with self.app.test_request_context():
            try:
                yield
            finally:
                db.session.remove()

    def wait_for(self, found: Callable[[], object], timeout: float = 30,
                 every: float = 0.3) -> object:
        """Poll ``found()`` (in this instance's app context) until it returns something."""
        deadline = time.monotonic() + timeout
        while True:
            with self.app.app_context():
                from hub.extensions import db

                db.session.expire_all()
                value = found()
                db.session.remove()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: still nothing after {timeout:.0f} s\n"
                                     + self.log.read_text()[-3000:])
            time.sleep(every)


def _environment(instance: Instance, database_url: str, secret: str, queue: str) -> dict:
    return {**os.environ, "HUB_ENV": "testing", "HUB_DATABASE_URL": database_url,
            "HUB_INSTANCE_PATH": str(instance.folder), "HUB_BASE_URL": instance.url,
            "HUB_QUEUE_NAME": queue, "HUB_REDIS_URL": "", "HUB_SECRET_KEY": secret,
            "HUB_MAIL_BACKEND": "file", "HUB_OUTBOUND_ALLOW_PRIVATE": "1",
            "HUB_SWEEP_INTERVAL": "1", "HUB_LOGIN_RATE_LIMIT": "1000 per minute",
            "HUB_POST_RATE_LIMIT": "1000 per minute", "HUB_COMMENT_RATE_LIMIT": "1000 per minute",
            "HUB_LOG_LEVEL": "INFO", **instance.settings}


def _start(instance: Instance, env: dict, port: int) -> None:
    instance.log_file = open(instance.log, "ab")  # noqa: SIM115 (closed by _stop)
    instance.proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "run", "--port", str(port)], env=env,
        stdout=instance.log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(instance.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if instance.proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{instance.name} did not start:\n"
                                 + instance.log.read_text()[-3000:])
        time.sleep(0.2)


def _stop(instance: Instance) -> None:
    if instance.proc is not None:
        instance.proc.terminate()
        try:
            instance.proc.wait(10)
        except subprocess.TimeoutExpired:
            instance.proc.kill()
            instance.proc.wait(5)
        instance.proc = None
    if instance.log_file is not None:
        instance.log_file.close()
        instance.log_file = None


@contextmanager
def running_instance(tmp_path: Path, name: str, **settings: str) -> Iterator[Instance]:
    """A fresh instance ``name`` on a free port, stopped (by its PID) on exit; ``settings``
    (HUB_* names) go to its processes."""
    port = free_port()
    folder = tmp_path / name
    folder.mkdir()
    database_url = f"sqlite:///{folder / 'hub.db'}"
    url = f"http://127.0.0.1:{port}"
    secret = f"{name}-secret-key-that-is-long-enough-for-tests"
    queue = f"{name}-{port}"
    app = create_app(base_overrides(folder, database_url, HUB_BASE_URL=url,
                                    HUB_REDIS_URL="", HUB_QUEUE_NAME=queue,
                                    HUB_SECRET_KEY=secret))
    instance = Instance(name=name, url=url, app=app, folder=folder,
                        log=tmp_path / f"{name}.log", settings=settings)
    env = _environment(instance, database_url, secret, queue)
    init = subprocess.run([sys.executable, "-m", "hub.cli", "init"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stdout + init.stderr
    try:
        _start(instance, env, port)
        yield instance
    finally:
        _stop(instance)
        with app.app_context():
            from hub.extensions import db

            db.engine.dispose()


def restart_worker(instance: Instance, *, kill: bool = True) -> None:
    """Kill the instance's process (SIGKILL when ``kill``) and start it again on its port."""
    assert instance.proc is not None
    port = int(instance.url.rsplit(":", 1)[1])
    if kill:
        instance.proc.kill()
        instance.proc.wait(5)
        instance.proc = None
    _stop(instance)
    env = _environment(instance, instance.app.config["HUB_DATABASE_URL"],
                       instance.app.config["SECRET_KEY"], instance.app.config["HUB_QUEUE_NAME"])
    _start(instance, env, port)


@pytest.fixture
def two_instances(tmp_path) -> Iterator[tuple[Instance, Instance]]:
    with running_instance(tmp_path, "alpha") as alpha, \
            running_instance(tmp_path, "beta") as beta:
        yield alpha, beta
