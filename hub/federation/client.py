"""The only way Maillage makes outbound HTTP requests.

Time-outs, a response size cap, a User-Agent, no automatic redirects, and an SSRF guard:
a request whose host resolves to a private, loopback, link-local, multicast or reserved
address is refused — checked on the address the socket really connects to, so a DNS
answer that changes between check and connect (rebinding) cannot slip through. Private
addresses are allowed only by the explicit setting HUB_OUTBOUND_ALLOW_PRIVATE (test
networks, an identity provider on the association's LAN), never by debug mode.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from hub import __version__
from hub.errors import FetchError

USER_AGENT = f"Maillage/{__version__} (+https://maillage.example/federation)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class BlockedAddress(FetchError):
    """The destination is an address this instance must not reach."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _guard(sock: socket.socket, host: str) -> None:
    peer = sock.getpeername()[0]
    if not is_public_address(peer):
        sock.close()
        raise BlockedAddress(f"{host} resolves to a private address ({peer})")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _guard(sock, self.host)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _guard(sock, self.host)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **kwargs: Any) -> None:
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize, block=block,
                                       **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}


def make_session(*, allow_private: bool, session: requests.Session | None = None
                 ) -> requests.Session:
    """A requests session (or ``session``, e.g. an OAuth2Session) with the guard mounted."""
    session = session or requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.trust_env = False  # no proxy or netrc from the environment
    if not allow_private:
        adapter = GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def fetch(session: requests.Session, method: str, url: str, *,
          timeout: float | tuple[float, float],
          max_bytes: int = DEFAULT_MAX_BYTES, **kwargs: Any) -> requests.Response:
    """One request, no redirects followed, the body read up to ``max_bytes``.

    ``timeout`` is one number for both phases, or (connect, read).

    Raises FetchError (BlockedAddress for the guard) on anything but an answer.
    """
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"not an http(s) URL: {url[:100]}")
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False,
                                   stream=True, **kwargs)
    except BlockedAddress:
        raise
    except requests.exceptions.ConnectionError as exc:
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, "reason", None)
        if isinstance(reason, BlockedAddress) or isinstance(cause, BlockedAddress):
            raise BlockedAddress(str(reason or cause)) from None
        raise FetchError(f"{type(exc).__name__} for {url[:200]}") from None
    except requests.RequestException as exc:
        raise FetchError(f"{type(exc).__name__} for {url[:200]}") from None
    try:
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise FetchError(f"{url[:200]} is larger than {max_bytes} bytes")
        body = b""
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"{url[:200]} is larger than {max_bytes} bytes")
        response._content = body  # noqa: SLF001  (read once, capped, then reusable)
    except requests.RequestException as exc:
        raise FetchError(f"{type(exc).__name__} reading {url[:200]}") from None
    finally:
        response.close()
    return response
