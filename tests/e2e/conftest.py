"""A live server (``maillage run``: web and worker in one process) and Debian's chromium
driven by Playwright. Playwright's own browser download cannot work on these machines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugins.app import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _ensure_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("Debian's chromium is missing and cannot be installed (need root + apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    instance: Path

    def outbox_link(self, address: str, part: str, timeout: float = 20) -> str:
        """The newest link containing ``part`` mailed to ``address`` (sent by the worker)."""
        import email
        import email.policy
        import re

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted((self.instance / "outbox").glob("*.eml"), reverse=True):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if message["To"] != address:
                    continue
                for url in re.findall(r"https?://\S+", message.get_content()):
                    if part in url:
                        return url
            time.sleep(0.2)
        raise AssertionError(f"no e-mail to {address} with a link containing {part!r}")


@pytest.fixture
def live_server(make_app, database_url, tmp_path) -> Iterator[LiveServer]:
    with start_live_server(make_app, database_url, tmp_path) as server:
        yield server


@contextmanager
def start_live_server(make_app, database_url, tmp_path, port: int | None = None,
                      **extra_env: str) -> Iterator[LiveServer]:
    """``maillage run`` on ``port`` (a free one by default), with extra environment."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(HUB_BASE_URL=base)  # shares the database; wiped after the test
    instance = Path(app.config["HUB_INSTANCE_PATH"])
    env = {**os.environ, "HUB_ENV": "testing", "HUB_DATABASE_URL": database_url,
           "HUB_INSTANCE_PATH": str(instance), "HUB_BASE_URL": base,
           "HUB_QUEUE_NAME": app.config["HUB_QUEUE_NAME"],
           "HUB_REDIS_URL": app.config["HUB_REDIS_URL"],
           "HUB_SECRET_KEY": app.config["SECRET_KEY"], "HUB_MAIL_BACKEND": "file",
           "HUB_OUTBOUND_ALLOW_PRIVATE": "1",
           "HUB_SWEEP_INTERVAL": "2", "HUB_LOGIN_RATE_LIMIT": "1000 per minute",
           **extra_env}
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "run", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError("live server did not start:\n"
                                     + (tmp_path / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield LiveServer(base, instance)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture
def screenshot() -> callable:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shoot
