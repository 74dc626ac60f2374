"""The one outbound client: SSRF guard, no redirects followed, bounded bodies."""

from __future__ import annotations

import http.server
import threading

import pytest

from hub.errors import FetchError
from hub.federation.client import BlockedAddress, fetch, is_public_address, make_session


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.end_headers()
            return
        body = b"x" * (int(self.path.strip("/")) if self.path.strip("/").isdigit() else 5)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(("address", "public"), [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("fc00::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("100.64.0.1", False), ("93.184.216.34", True), ("2606:4700::1111", True),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public


def test_loopback_is_refused_by_default(server):
    with pytest.raises(BlockedAddress):
        fetch(make_session(allow_private=False), "GET", server + "/", timeout=3)


def test_a_name_resolving_to_loopback_is_refused_too(server):
    port = server.rsplit(":", 1)[1]
    with pytest.raises(BlockedAddress):
        fetch(make_session(allow_private=False), "GET", f"http://localhost:{port}/", timeout=3)


def test_loopback_allowed_only_by_the_explicit_setting(server):
    response = fetch(make_session(allow_private=True), "GET", server + "/", timeout=3)
    assert response.status_code == 200 and response.content == b"xxxxx"


def test_redirects_are_not_followed(server):
    response = fetch(make_session(allow_private=True), "GET", server + "/redirect", timeout=3)
    assert response.status_code == 302


def test_bodies_over_the_cap_are_refused(server):
    with pytest.raises(FetchError, match="larger"):
        fetch(make_session(allow_private=True), "GET", server + "/5000", timeout=3,
              max_bytes=1000)


def test_only_http_urls(server):
    with pytest.raises(FetchError):
        fetch(make_session(allow_private=True), "GET", "file:///etc/passwd", timeout=3)


def test_unreachable_is_a_fetch_error():
    with pytest.raises(FetchError):
        fetch(make_session(allow_private=True), "GET", "http://127.0.0.1:1/", timeout=3)
