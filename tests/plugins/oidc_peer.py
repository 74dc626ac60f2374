"""The real OpenID Connect provider of ``../shared/peers`` (npm ``oidc-provider``) on
loopback, and a ``requests.Session`` that plays the browser on its login and consent pages.

The peers folder is copied into the git-ignored ``.peers/`` and set up once (idempotent);
each test session starts its own provider on a free port with the redirect URIs it needs,
and stops it by its recorded PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from hub import ROOT
from tests.plugins.app import free_port

PEERS = ROOT / ".peers"
SHARED_PEERS = ROOT.parent / "shared" / "peers"
CLIENT_ID, CLIENT_SECRET = "hub", "hub-secret"
USERS = {"alice": "alice-password", "bob": "bob-password"}


def ensure_peers() -> Path:
    if not PEERS.exists():
        if not SHARED_PEERS.exists():
            pytest.skip(f"no peers folder at {SHARED_PEERS}")
        shutil.copytree(SHARED_PEERS, PEERS)
        subprocess.run(["chmod", "-R", "u+w", str(PEERS)], check=True)
    if not (PEERS / "oidc-provider" / "node_modules" / "oidc-provider").exists():
        subprocess.run([str(PEERS / "oidc-provider-setup.sh")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return PEERS


@dataclass
class OidcPeer:
    port: int
    redirect_uris: tuple[str, ...]

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def name(self) -> str:
        return f"oidc-{self.port}"

    def start(self, **env: str) -> None:
        ensure_peers()
        environ = {**os.environ, "OIDC_REDIRECT_URIS": ",".join(self.redirect_uris), **env}
        subprocess.run([str(PEERS / "oidc-provider-start.sh"), str(self.port)], check=True,
                       env=environ, stdout=subprocess.DEVNULL, timeout=120)

    def stop(self) -> None:
        subprocess.run([str(PEERS / "stop.sh"), self.name], check=False,
                       stdout=subprocess.DEVNULL, timeout=30)


@pytest.fixture(scope="session")
def oidc_peer() -> Iterator[OidcPeer]:
    """One provider for the session; the test client's callback is on http://localhost."""
    peer = OidcPeer(free_port(), ("http://localhost/auth/callback",))
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def insecure_transport(monkeypatch) -> None:
    """requests-oauthlib refuses plain http; the loopback provider speaks nothing else."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


class ProviderBrowser:
    """A browser at the provider: follows its redirects, fills its login and consent forms,
    and stops at the redirect back to the hub (returned as a URL)."""

    def __init__(self, callback_prefix: str) -> None:
        self.session = requests.Session()
        self.callback_prefix = callback_prefix

    def _follow(self, response: requests.Response) -> requests.Response | str:
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(self.callback_prefix):
                return location
            response = self.session.get(location, allow_redirects=False, timeout=10)
        return response

    @staticmethod
    def _action(page: requests.Response, part: str) -> str:
        for action in re.findall(r'<form[^>]*action="([^"]+)"', page.text):
            if part in action:
                return urljoin(page.url, action)
        raise AssertionError(f"no form {part!r} on the provider's page:\n{page.text[:500]}")

    def sign_in(self, authorize_url: str, user: str = "alice", password: str | None = None,
                consent: bool = True) -> str | requests.Response:
        """The callback URL the provider redirects to, or its page when it stays there."""
        page = self._follow(self.session.get(authorize_url, allow_redirects=False, timeout=10))
        if isinstance(page, str):  # still signed in at the provider, consent already given
            return page
        if "/login" in page.text:
            page = self._follow(self.session.post(
                self._action(page, "/login"),
                data={"login": user, "password": password or USERS.get(user, "")},
                allow_redirects=False, timeout=10))
            if isinstance(page, str) or "Invalid login" in page.text:
                return page
        if isinstance(page, requests.Response) and "/confirm" in page.text:
            page = self._follow(self.session.post(
                self._action(page, "/confirm" if consent else "/abort"),
                allow_redirects=False, timeout=10))
        return page
