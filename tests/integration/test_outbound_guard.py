"""Identity-provider requests go through the one outbound client and its SSRF guard."""

from __future__ import annotations

import http.server
import threading

import pytest

from hub.accounts import providers
from hub.accounts.oidc import OIDCError


@pytest.fixture
def loopback_json():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'{"issuer": "http://127.0.0.1"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}/.well-known/openid-configuration"
    srv.shutdown()
    srv.server_close()


def test_a_provider_on_a_private_address_is_refused_unless_allowed(make_app, loopback_json):
    guarded = make_app(HUB_OUTBOUND_ALLOW_PRIVATE=False)
    with guarded.app_context():
        with pytest.raises(OIDCError) as refused:
            providers._http("GET", loopback_json)
        assert refused.value.reason == "unreachable"
    allowed = make_app(HUB_OUTBOUND_ALLOW_PRIVATE=True)
    with allowed.app_context():
        assert providers._http("GET", loopback_json).json()["issuer"] == "http://127.0.0.1"
